# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the phased rollout plan: replica_split, rollout_weights, rollout_week.

Documentation lives in the sidecar files replica_split.yml, rollout_weights.yml, rollout_week.yml.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def replica_split(total: Any, weight: Any) -> dict[str, int]:
    from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_plan import RolloutPlanError, split_replicas

    try:
        return split_replicas(total, weight)
    except RolloutPlanError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def rollout_weights(weights: Any) -> dict[int, int]:
    from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_plan import RolloutPlanError, normalize_weights

    try:
        return normalize_weights(weights)
    except RolloutPlanError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def rollout_week(week: Any, weights: Any) -> int:
    from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_plan import RolloutPlanError, validate_week

    try:
        return validate_week(week, weights)
    except RolloutPlanError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "replica_split": replica_split,
            "rollout_weights": rollout_weights,
            "rollout_week": rollout_week,
        }
