# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action report_files: write a report's files on the controller in one step; documentation in
plugins/modules/report_files.py, the work in plugins/module_utils/report_files.py."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase

from ansible_collections.vextrus.deploy.plugins.module_utils.report_files import ReportFilesError, write_report_files

ARGUMENT_SPEC = {
    "dir": {"type": "path", "required": True},
    "stem": {"type": "str", "required": True},
    "files": {"type": "dict", "required": True},
}


class ActionModule(ActionBase):
    """Write every file of the report on the controller, without a module run per file."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars or {})
        args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)[1]
        # a report records the run; it is not a change to what is deployed
        result["changed"] = False
        try:
            result["paths"] = write_report_files(args["dir"], args["stem"], args["files"], write=not self._task.check_mode)
        except (ReportFilesError, OSError) as exc:
            result.update(failed=True, msg=f"cannot write the report {args['stem']} in {args['dir']}: {exc}")
            return result
        result["msg"] = "report not written in check mode" if self._task.check_mode else "report written"
        return result
