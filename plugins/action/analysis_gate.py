# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action analysis_gate: the module vextrus.deploy.analysis_gate, run in the task's worker process when the task runs
on the controller with the controller's Python (plugins/plugin_utils/in_worker.py), else as a module."""

from __future__ import annotations

from ansible_collections.vextrus.deploy.plugins.modules import analysis_gate
from ansible_collections.vextrus.deploy.plugins.plugin_utils.in_worker import ModuleInWorkerAction


class ActionModule(ModuleInWorkerAction):
    """vextrus.deploy.analysis_gate in the worker process."""

    MODULE = analysis_gate
