# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters dry_run_changed, dry_run_resources, apply_calls and manifest_names; documentation in the .yml
of each name."""

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.vextrus.deploy.plugins.module_utils.dry_run import (
    DryRunError,
    apply_calls,
    changed_manifests,
    manifest_names,
    resource_changes,
)


def dry_run_changed(manifests: Any, dry_run: Any) -> list[Any]:
    try:
        return changed_manifests(manifests, dry_run)
    except DryRunError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def dry_run_resources(manifests: Any, dry_run: Any) -> list[dict[str, Any]]:
    try:
        return resource_changes(manifests, dry_run)
    except DryRunError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "dry_run_changed": dry_run_changed,
            "dry_run_resources": dry_run_resources,
            "apply_calls": apply_calls,
            "manifest_names": manifest_names,
        }
