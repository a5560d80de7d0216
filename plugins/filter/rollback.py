# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the rollback role: rollback_scope, rollback_snapshot, rollback_plan, rollback_differences.

Documentation lives in the sidecar files of the same names.
"""

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.vextrus.deploy.plugins.module_utils import restorable


def _call(function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except restorable.RestorableError as exc:
        raise AnsibleFilterError(f"{function.__name__}: {exc}") from exc


def rollback_scope(service: Any, secret_name: Any = "") -> list[dict[str, str]]:
    return _call(restorable.rollback_scope, service, secret_name or "")


def rollback_snapshot(objects: Any, scope: Any) -> list[dict[str, Any]]:
    return _call(restorable.rollback_snapshot, objects, scope)


def rollback_plan(snapshot: Any, current: Any, scope: Any) -> dict[str, Any]:
    return _call(restorable.rollback_plan, snapshot, current, scope)


def rollback_differences(snapshot: Any, live: Any, scope: Any) -> list[str]:
    return _call(restorable.rollback_differences, snapshot, live, scope)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "rollback_scope": rollback_scope,
            "rollback_snapshot": rollback_snapshot,
            "rollback_plan": rollback_plan,
            "rollback_differences": rollback_differences,
        }
