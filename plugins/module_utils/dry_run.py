# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a server-side dry run of several manifests says would change.

The chain dry-runs with ``vextrus.deploy.write_objects`` in check mode, which registers
``objects``: one entry per manifest, in order, each with its ``changed`` and ``result``. A
``kubernetes.core.k8s`` task given a list of definitions applies them one after the other in one
call and registers ``result.results``: one entry per definition, in order, each with its own
``changed``. Run in check mode (a dry run on the API server), that tells which manifests a real
apply would change, so the apply that follows writes only those and a run with nothing to change
makes no call. A task given one definition registers that object's result directly; its
``changed`` is the task's own, which a dry-run task overrides (``changed_when: false``), so such a single
manifest always counts as changed. A task looped over the manifests (``results``, one entry per
manifest) is read the same way. The apply itself is then one call for every changed manifest
(``apply_calls``), or one call per manifest when each object's diff is to be shown. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


class DryRunError(ValueError):
    """The dry run's result does not match the manifests."""


def dry_run_changes(manifests: Sequence[Mapping[str, Any]], dry_run: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], bool]]:
    """Each manifest with whether the dry run found it different from the live object."""
    manifests = list(manifests or [])
    if not isinstance(dry_run, Mapping):
        raise DryRunError(f"expected the registered result of a kubernetes.core.k8s dry run, got {type(dry_run).__name__}")
    if isinstance(dry_run.get("objects"), list):  # vextrus.deploy.write_objects in check mode
        per_object = dry_run["objects"]
    elif isinstance(dry_run.get("results"), list):  # a task looped over the manifests, one call each
        per_object = dry_run["results"]
    elif isinstance(dry_run.get("result"), Mapping):  # one call given the list of manifests
        per_object = dry_run["result"].get("results")
    else:
        per_object = None
    if per_object is None:  # one definition: the task's own changed, which a dry run overrides
        if len(manifests) > 1:
            raise DryRunError(
                f"expected one result per manifest (result.results) for the {len(manifests)} manifests dry-run "
                "together, got none: dry-run the same list of manifests in one kubernetes.core.k8s task"
            )
        return [(manifest, True) for manifest in manifests]
    if len(per_object) != len(manifests):
        raise DryRunError(
            f"expected {len(manifests)} dry-run results, one per manifest, got {len(per_object)}: "
            "dry-run the same list of manifests that is applied"
        )
    changes = []
    for manifest, result in zip(manifests, per_object):
        found = (result.get("result") or {}) if isinstance(result, Mapping) else {}
        expected = (manifest.get("kind"), (manifest.get("metadata") or {}).get("name"))
        if (found.get("kind"), (found.get("metadata") or {}).get("name")) != expected:
            raise DryRunError(
                f"expected the dry-run result of {expected[0]}/{expected[1]}, got "
                f"{found.get('kind')}/{(found.get('metadata') or {}).get('name')}: dry-run the manifests in the order they are applied"
            )
        changes.append((manifest, bool(result.get("changed"))))
    return changes


def changed_manifests(manifests: Sequence[Mapping[str, Any]], dry_run: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The manifests a real apply would change, in their order."""
    return [manifest for manifest, changed in dry_run_changes(manifests, dry_run) if changed]


def resource_changes(manifests: Sequence[Mapping[str, Any]], dry_run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Kind, name and changed of each manifest, as the run report lists the applied objects."""
    return [
        {"kind": manifest.get("kind"), "name": (manifest.get("metadata") or {}).get("name"), "changed": changed}
        for manifest, changed in dry_run_changes(manifests, dry_run)
    ]


def apply_calls(manifests: Sequence[Mapping[str, Any]], per_object: bool = False) -> list[Any]:
    """The items of an apply loop: every manifest in one call (one item, the list, applied in its
    order), or with ``per_object`` (``--diff``: each object's diff is shown) one item per manifest;
    no item when there is nothing to apply."""
    manifests = list(manifests or [])
    if per_object:
        return manifests
    return [manifests] if manifests else []


def without_replicas(manifests: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The manifests as the apply writes them: every Deployment without ``spec.replicas``, which the HPAs own
    between runs and track_replicas writes where the run plan changes it; the other manifests as they are."""
    written = []
    for manifest in manifests or []:
        if manifest.get("kind") == "Deployment" and "replicas" in (manifest.get("spec") or {}):
            spec = {key: value for key, value in manifest["spec"].items() if key != "replicas"}
            manifest = {**manifest, "spec": spec}
        written.append(dict(manifest))
    return written


def manifest_names(manifests: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> str:
    """``Kind/name`` of a manifest, or of each manifest of a list joined with ``, ``: the label of an
    item of ``apply_calls``."""
    items = [manifests] if isinstance(manifests, Mapping) else list(manifests or [])
    return ", ".join(f"{item.get('kind')}/{(item.get('metadata') or {}).get('name')}" for item in items)
