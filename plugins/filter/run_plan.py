# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run_plan and traffic_judged filters: every decision of one run, from module_utils.run_plan.

Documentation lives in the sidecar files run_plan.yml and traffic_judged.yml.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def run_plan(record: Any, live: Any, inputs: Any, action: str | None = None) -> dict[str, Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils.release_record import WEEK
    from ansible_collections.vextrus.deploy.plugins.module_utils.run_plan import RunPlanError, plan_run

    try:
        return plan_run(record, live, inputs, WEEK if action is None else action).as_dict()
    except RunPlanError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def traffic_judged(plan: Any, applied: Any) -> str:
    from ansible_collections.vextrus.deploy.plugins.module_utils.run_plan import RunPlanError
    from ansible_collections.vextrus.deploy.plugins.module_utils.run_plan import traffic_judged as judged

    try:
        return judged(plan, applied)
    except RunPlanError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"run_plan": run_plan, "traffic_judged": traffic_judged}
