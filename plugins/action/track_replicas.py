# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action track_replicas: the module vextrus.deploy.track_replicas, run in the task's worker process when the task runs
on the controller with the controller's Python (plugins/plugin_utils/in_worker.py), else as a module."""

from __future__ import annotations

from ansible_collections.vextrus.deploy.plugins.modules import track_replicas
from ansible_collections.vextrus.deploy.plugins.plugin_utils.in_worker import ModuleInWorkerAction


class ActionModule(ModuleInWorkerAction):
    """vextrus.deploy.track_replicas in the worker process."""

    MODULE = track_replicas
