# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the rollback role: rollback_scope, rollback_snapshot, rollback_plan, rollback_differences.

Documentation lives in the sidecar files of the same names.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def _call(name: str, *args: Any) -> Any:
    from ansible_collections.vextrus.deploy.plugins.module_utils import restorable

    try:
        return getattr(restorable, name)(*args)
    except restorable.RestorableError as exc:
        raise AnsibleFilterError(f"{name}: {exc}") from exc


def rollback_scope(service: Any, secret_name: Any = "") -> list[dict[str, str]]:
    return _call("rollback_scope", service, secret_name or "")


def rollback_snapshot(objects: Any, scope: Any) -> list[dict[str, Any]]:
    return _call("rollback_snapshot", objects, scope)


def rollback_plan(snapshot: Any, current: Any, scope: Any) -> dict[str, Any]:
    return _call("rollback_plan", snapshot, current, scope)


def rollback_differences(snapshot: Any, live: Any, scope: Any) -> list[str]:
    return _call("rollback_differences", snapshot, live, scope)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "rollback_scope": rollback_scope,
            "rollback_snapshot": rollback_snapshot,
            "rollback_plan": rollback_plan,
            "rollback_differences": rollback_differences,
        }
