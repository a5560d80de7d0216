# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters rollout_report and rollout_report_markdown; documentation in their sidecar files.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def rollout_report(data: Any, secret_values: Any = None) -> dict[str, Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_report import ReportError, build_report

    try:
        return build_report(data, secret_values or ())
    except ReportError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def rollout_report_markdown(report: Any) -> str:
    from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_report import render_markdown

    if not isinstance(report, dict) or "verdict" not in report:
        raise AnsibleFilterError("rollout_report_markdown expects the result of the rollout_report filter")
    return render_markdown(report)


def _applied_resources(results: Any) -> list[dict[str, Any]]:
    from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_report import ReportError, applied_resources

    try:
        return applied_resources(results)
    except ReportError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "applied_resources": _applied_resources,
            "rollout_report": rollout_report,
            "rollout_report_markdown": rollout_report_markdown,
        }
