# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run one of the collection's modules inside the task's worker process when that is the same as
running it as a module.

A module run costs a quarter of a second before the module's first line (the AnsiballZ payload
written, a new Python started, ``ansible.module_utils.basic`` imported) and as much again to import
the kubernetes library. The chain's API modules run a dozen times per week, always on the
controller. When the task's host is the controller itself with the controller's own Python, the
action plugin of such a module (``ModuleInWorkerAction``) calls the module's ``main()`` in the
worker process Ansible has already forked for the task, the way ansible.netcommon's direct execution
does: the arguments are the ones ``_execute_module`` would send (with the ``_ansible_*`` keys, check
mode, diff and no_log), serialized and decoded with the same profile, and the result comes back
through ``AnsibleModule``'s result hook, parsed as a module's output is. The action plugin module
imports the module's code, and with it the kubernetes library, when the strategy loads the action
(in the controller's main process), so every worker starts with them loaded.

One difference shows: a warning the module raises is displayed as it is raised, by the controller's
display, rather than returned in the result's ``warnings`` (``module_utils.common.warnings.warn``
does that in any controller process); a loop's items therefore never repeat each other's warnings.

Anything else runs the module as usual: another connection than ``local``, a Python interpreter
other than the controller's, ``become``, ``async``, ``delegate_to``, an ``environment`` for the task,
an ansible-core without the result hook, or ``vextrus_deploy_run_in_worker: false``.
"""

from __future__ import annotations

import io
import json
import os
import sys
from contextlib import redirect_stderr, redirect_stdout
from types import ModuleType
from typing import Any

from ansible.module_utils import basic
from ansible.module_utils.common.json import Direction, get_module_encoder
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action.normal import ActionModule as NormalAction
from ansible.utils.vars import merge_hash
from ansible.vars.clean import remove_internal_keys
from ansible_collections.vextrus.deploy.plugins.plugin_utils.preload import load_before_forks

# the serialization profile of modules that declare none, as the controller uses for them
PROFILE = "legacy"
SWITCH = "vextrus_deploy_run_in_worker"


def _same_python(interpreter: str | None, executable: str) -> bool:
    """Whether ``interpreter`` is ``executable``: the same file in the same directory (a virtualenv's
    ``python`` and ``python3`` are; the base Python the virtualenv links to is not, its packages differ)."""
    if not interpreter or not os.path.isabs(interpreter):
        return False
    try:
        return os.path.samefile(os.path.dirname(interpreter), os.path.dirname(executable)) and os.path.samefile(interpreter, executable)
    except OSError:
        return False


def why_not_in_worker(
    *,
    transport: str,
    interpreter: str | None,
    become: bool,
    async_val: int,
    delegate_to: str | None,
    environment: Any,
    switch: Any,
    hook: bool,
) -> str | None:
    """Why the module cannot run in the worker process, or None when it can."""
    if not hook:
        return "this ansible-core has no AnsibleModule result hook"
    if switch is not None and not boolean(switch, strict=False):
        return f"{SWITCH} is false"
    if transport != "local":
        return f"the connection is {transport}, not local"
    if not _same_python(interpreter, sys.executable):
        return f"the host's Python ({interpreter or 'discovered'}) is not the controller's ({sys.executable})"
    if become:
        return "the task uses become"
    if async_val:
        return "the task is async"
    if delegate_to:
        return "the task is delegated"
    if any(environment or []):
        return "the task sets an environment"
    return None


def run_main(module: ModuleType, module_args: dict[str, Any]) -> tuple[str | None, str, str]:
    """Call ``module.main()`` with ``module_args`` as its parameters; returns the result it recorded
    (JSON, as a module prints it; None when main ended without one), and what it wrote to stdout and
    stderr. Exceptions other than SystemExit are the task's failure, as a module's traceback is."""
    recorded: list[str] = []
    encoder = get_module_encoder(PROFILE, Direction.MODULE_TO_CONTROLLER)

    def record(_self: Any, result: dict[str, Any]) -> None:
        recorded.append(json.dumps(result, cls=encoder))

    saved = basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic.AnsibleModule._record_module_result
    stdout, stderr = io.StringIO(), io.StringIO()
    basic._ANSIBLE_ARGS = json.dumps(
        {"ANSIBLE_MODULE_ARGS": module_args}, cls=get_module_encoder(PROFILE, Direction.CONTROLLER_TO_MODULE)
    ).encode()
    basic._ANSIBLE_PROFILE = PROFILE
    basic.AnsibleModule._record_module_result = record
    try:
        with redirect_stdout(stdout), redirect_stderr(stderr):
            module.main()
    except SystemExit:
        pass
    finally:
        basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic.AnsibleModule._record_module_result = saved
    return (recorded[-1] if recorded else None), stdout.getvalue(), stderr.getvalue()


class ModuleInWorkerAction(NormalAction):
    """The action of a module of this collection that may run in the task's worker process.

    Subclasses set ``MODULE`` to the module's Python module (imported at the top of the action
    plugin, so the controller's main process loads it and its libraries once)."""

    MODULE: ModuleType

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # an action plugin of the collection is imported: in the main process, at the first API task
        super().__init_subclass__(**kwargs)
        load_before_forks()

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        task_vars = task_vars or {}
        reason = why_not_in_worker(
            transport=getattr(self._connection, "transport", ""),
            interpreter=self._templar.template(task_vars.get("ansible_python_interpreter")),
            become=bool(self._play_context.become),
            async_val=self._task.async_val,
            delegate_to=self._task.delegate_to,
            environment=self._task.environment,
            switch=self._templar.template(task_vars.get(SWITCH)),
            hook=hasattr(basic.AnsibleModule, "_record_module_result"),
        )
        if reason is not None:
            self._display.vvvv(f"{self._task.action} runs as a module: {reason}")
            return super().run(tmp, task_vars)
        result = super(NormalAction, self).run(tmp, task_vars)  # ActionBase's checks (check mode support)
        module_args = dict(self._task.args)
        self._update_module_args(self._task.action, module_args, task_vars)
        self._display.vvv(f"{self._task.action} runs in the worker process")
        output, stdout, stderr = run_main(self.MODULE, module_args)
        if output is None:  # main() ended without exit_json or fail_json
            return merge_hash(result, {"failed": True, "msg": f"{self._task.action} ended without a result",
                                       "module_stdout": stdout, "module_stderr": stderr})
        data = self._parse_returned_data({"stdout": output, "stderr": stderr, "rc": 0}, PROFILE)
        remove_internal_keys(data)
        return merge_hash(result, data)
