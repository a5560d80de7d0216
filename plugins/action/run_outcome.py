# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action run_outcome: end a play with the exit code of its verdict class; documentation in
plugins/modules/run_outcome.py."""

from __future__ import annotations

from typing import Any

from ansible.plugins.action import ActionBase

VERDICTS = ("PASS", "FAIL", "ERROR")


def outcome(verdict: Any, msg: Any) -> dict[str, Any]:
    """The task result of a verdict: PASS ok, FAIL failed (ansible-playbook exits 2), ERROR
    unreachable (ansible-playbook exits 4); anything else is a failed task naming what was given."""
    text = "" if msg is None else str(msg)
    if verdict not in VERDICTS:
        return {"failed": True, "changed": False, "verdict": "ERROR",
                "msg": f"run_outcome: verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}"
                       + (f" ({text})" if text else "")}
    result: dict[str, Any] = {"changed": False, "verdict": verdict, "msg": text or f"verdict {verdict}"}
    if verdict == "FAIL":
        result["failed"] = True
    elif verdict == "ERROR":
        result["unreachable"] = True
    return result


class ActionModule(ActionBase):
    """End the play with the verdict's class: ok, failed or unreachable."""

    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(("verdict", "msg"))
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result = super().run(tmp, task_vars or {})
        args = self._task.args or {}
        result.update(outcome(args.get("verdict"), args.get("msg")))
        # The YAML result format folds a one-line string at 80 columns, and a long verdict line would
        # spread over many lines; a string with a line break is shown as a block, line for line.
        if "\n" not in result["msg"]:
            result["msg"] += "\n"
        # the message is the play's last line for a PASS too, as ansible.builtin.debug shows its own
        result["_ansible_verbose_always"] = True
        return result
