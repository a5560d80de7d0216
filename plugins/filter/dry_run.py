# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters dry_run_changed, dry_run_resources, apply_calls, manifest_names and without_replicas; documentation in the .yml
of each name.

Its module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def dry_run_changed(manifests: Any, dry_run: Any) -> list[Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils import dry_run as dry

    try:
        return dry.changed_manifests(manifests, dry_run)
    except dry.DryRunError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def dry_run_resources(manifests: Any, dry_run: Any) -> list[dict[str, Any]]:
    from ansible_collections.vextrus.deploy.plugins.module_utils import dry_run as dry

    try:
        return dry.resource_changes(manifests, dry_run)
    except dry.DryRunError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def apply_calls(manifests: Any, per_object: bool = False) -> list[Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils import dry_run as dry

    return dry.apply_calls(manifests, per_object)


def manifest_names(manifests: Any) -> str:
    from ansible_collections.vextrus.deploy.plugins.module_utils import dry_run as dry

    return dry.manifest_names(manifests)


def without_replicas(manifests: Any) -> list[dict[str, Any]]:
    from ansible_collections.vextrus.deploy.plugins.module_utils import dry_run as dry

    if not isinstance(manifests, list):
        raise AnsibleFilterError(f"without_replicas expects a list of manifests, got {type(manifests).__name__}")
    return dry.without_replicas(manifests)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "dry_run_changed": dry_run_changed,
            "dry_run_resources": dry_run_resources,
            "apply_calls": apply_calls,
            "manifest_names": manifest_names,
            "without_replicas": without_replicas,
        }
