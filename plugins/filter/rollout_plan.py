# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the phased rollout plan: replica_split, rollout_weights, rollout_week.

Documentation lives in the sidecar files replica_split.yml, rollout_weights.yml, rollout_week.yml.
"""

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_plan import (
    RolloutPlanError,
    normalize_weights,
    split_replicas,
    validate_week,
)


def replica_split(total: Any, weight: Any) -> dict[str, int]:
    try:
        return split_replicas(total, weight)
    except RolloutPlanError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def rollout_weights(weights: Any) -> dict[int, int]:
    try:
        return normalize_weights(weights)
    except RolloutPlanError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def rollout_week(week: Any, weights: Any) -> int:
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
