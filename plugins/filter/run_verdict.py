# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run_verdict filter: the verdict of a run, decided once; documentation in run_verdict.yml.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def _run_verdict(data: Any) -> dict[str, str]:
    from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_report import ReportError, run_verdict

    try:
        return run_verdict(data)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"run_verdict": _run_verdict}
