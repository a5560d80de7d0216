# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn an object read from the API into a definition that can be applied again to restore it, and plan
and verify the restore of everything a run may change.

The rollback owns the objects of ``rollback_scope``: the service's Secret, HPA, stable and canary
Deployments, Service, PDB, NetworkPolicy and PrometheusRule. Everything else is left alone, in particular
the bookkeeping of the run (the release record ConfigMap, the run's Lease ``<service>-rollout``), the
checksum-key Secret ``<secret>-checksum-key`` (the key of the pod template's checksum, kept so unchanged
secrets keep their checksum), the Namespace and the identities (ServiceAccounts, Role, RoleBinding: the
rollback and the record write that follows run with them)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Annotations the API server or kubectl set; applying them back would fight their owners.
SERVER_ANNOTATIONS = frozenset({"deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration"})
KEPT_METADATA = ("name", "namespace", "labels", "annotations")
# The fields that hold an object's content: spec, except for the kinds without one.
CONTENT_FIELDS: dict[str, tuple[str, ...]] = {
    "Secret": ("type", "data", "immutable"),
    "ConfigMap": ("data", "binaryData", "immutable"),
}
DEFAULT_CONTENT = ("spec",)
# Service fields the API server allocates: left out of a definition (and of the comparison) so a Service
# re-created from it gets new ones instead of a conflict; an existing Service keeps its own.
SERVER_SPEC = {"Service": ("clusterIP", "clusterIPs")}
# The rollback's objects in restore order: the Secret before the pods that map it in, the HPA before the
# Deployments (as resource_apply applies them: lowering minReplicas first keeps the HPA from scaling the
# stable Deployment back up), then what routes to and protects the pods.
SCOPE_KINDS: tuple[tuple[str, str], ...] = (
    ("v1", "Secret"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("apps/v1", "Deployment"),
    ("v1", "Service"),
    ("policy/v1", "PodDisruptionBudget"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
)
# What the run created goes in this order: the pods first, the Secret they map in last.
DELETE_ORDER = ("Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service", "NetworkPolicy",
                "PrometheusRule", "Secret")
SECRET_KINDS = frozenset({"Secret"})


class RestorableError(ValueError):
    """The object cannot be restored."""


def _check_object(obj: Any) -> None:
    if not isinstance(obj, Mapping) or not obj.get("kind") or not (obj.get("metadata") or {}).get("name"):
        raise RestorableError(f"expected a Kubernetes object with kind and metadata.name, got {type(obj).__name__}")


def _copy(value: Any) -> Any:
    """A copy of ``value`` made of plain dicts and lists. The objects a play passes in are the play's
    own containers: ``copy.deepcopy`` copies those together with what they carry of the play and took
    seconds for a Deployment; this copies only the data."""
    if isinstance(value, Mapping):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(item) for item in value]
    return value


def restorable_definition(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``obj`` without status and server-set metadata (uid, resourceVersion, managedFields...);
    its content is ``spec``, or ``type``/``data``/``immutable`` for a Secret (``data``/``binaryData`` for a
    ConfigMap)."""
    _check_object(obj)
    metadata = {key: _copy(obj["metadata"][key]) for key in KEPT_METADATA if obj["metadata"].get(key)}
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k not in SERVER_ANNOTATIONS}
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    definition = {"apiVersion": obj.get("apiVersion"), "kind": obj["kind"], "metadata": metadata}
    for field in CONTENT_FIELDS.get(obj["kind"], DEFAULT_CONTENT):
        if field in obj:
            definition[field] = _copy(obj[field])
    for field in SERVER_SPEC.get(obj["kind"], ()):
        (definition.get("spec") or {}).pop(field, None)
    return definition


def rollback_scope(service: str, secret_name: str = "") -> list[dict[str, str]]:
    """Return the objects the rollback owns (``apiVersion``, ``kind``, ``name``) in restore order;
    ``secret_name`` empty means ``<service>-secrets``."""
    if not isinstance(service, str) or not service:
        raise RestorableError(f"expected the service name, got {service!r}")
    names = {"Secret": [secret_name or f"{service}-secrets"], "Deployment": [f"{service}-stable", f"{service}-canary"],
             "HorizontalPodAutoscaler": [service, f"{service}-canary"]}
    return [{"apiVersion": api_version, "kind": kind, "name": name}
            for api_version, kind in SCOPE_KINDS for name in names.get(kind, [service])]


def _ref(obj: Mapping[str, Any]) -> tuple[str, str]:
    return str(obj["kind"]), str(obj.get("name") or obj["metadata"]["name"])


def _label(ref: tuple[str, str]) -> str:
    return f"{ref[0]}/{ref[1]}"


def _by_ref(objects: Iterable[Mapping[str, Any]] | None, scope: list[dict[str, str]], what: str) -> dict[tuple[str, str], dict[str, Any]]:
    if objects is None:
        return {}
    if isinstance(objects, (str, bytes, Mapping)) or not isinstance(objects, Iterable):
        raise RestorableError(f"expected a list of objects for the {what}, got {type(objects).__name__}")
    wanted = {_ref(item) for item in scope}
    found = {}
    for obj in objects:
        _check_object(obj)
        if _ref(obj) in wanted:
            found[_ref(obj)] = restorable_definition(obj)
    return found


def _check_scope(scope: Any) -> list[dict[str, str]]:
    if isinstance(scope, (str, bytes, Mapping)) or not isinstance(scope, Iterable):
        raise RestorableError(f"expected the rollback scope (a list of kind and name), got {type(scope).__name__}")
    items = list(scope)
    for item in items:
        if not isinstance(item, Mapping) or not item.get("kind") or not item.get("name"):
            raise RestorableError(f"expected a scope item with kind and name, got {item!r}")
    return items


def rollback_snapshot(objects: Iterable[Mapping[str, Any]], scope: Iterable[Mapping[str, str]]) -> list[dict[str, Any]]:
    """Return the restorable definitions of the ``objects`` (as read before the run) the scope holds, in
    scope order; objects outside it (the record, the Lease, the checksum key, other Deployments) are left out."""
    items = _check_scope(scope)
    found = _by_ref(objects, items, "snapshot")
    return [found[_ref(item)] for item in items if _ref(item) in found]


def _content(definition: Mapping[str, Any]) -> dict[str, Any]:
    """What is compared: labels, annotations (without the server's) and the content fields."""
    metadata = definition.get("metadata") or {}
    content = {"metadata.labels": metadata.get("labels") or {}, "metadata.annotations": metadata.get("annotations") or {}}
    for field in CONTENT_FIELDS.get(str(definition.get("kind")), DEFAULT_CONTENT):
        content[field] = definition.get(field)
    return content


def _differing_paths(before: Any, after: Any, path: str, secret: bool) -> list[str]:
    """Dotted paths where ``after`` differs from ``before``; values only for non-secret scalars."""
    if before == after:
        return []
    if isinstance(before, Mapping) and isinstance(after, Mapping):
        paths: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            if key not in before or key not in after:
                state = "added by the run" if key not in before else "removed by the run"
                paths.append(f"{path}.{key} ({state})")
            else:
                paths += _differing_paths(before[key], after[key], f"{path}.{key}", secret)
        return paths
    if secret or isinstance(before, (Mapping, list)) or isinstance(after, (Mapping, list)):
        return [path]
    return [f"{path} ({after!r}, before the run {before!r})"]


def _scaled_by_hpa(ref: tuple[str, str], now: Mapping[str, Any], before: Mapping[str, Any],
                   snapshot: Mapping[tuple[str, str], Mapping[str, Any]]) -> bool:
    """True when only spec.replicas of a Deployment differs and the snapshot's HPA, which targets it, may
    have set it: the autoscaler scales within its bounds, which the restore put back."""
    if ref[0] != "Deployment":
        return False
    before_spec = dict(before.get("spec") or {})
    now_spec = dict(now.get("spec") or {})
    replicas = now_spec.pop("replicas", None)
    before_spec.pop("replicas", None)
    if before_spec != now_spec or not isinstance(replicas, int):
        return False
    for key, hpa in snapshot.items():
        spec = hpa.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        if key[0] == "HorizontalPodAutoscaler" and target.get("kind") == "Deployment" and target.get("name") == ref[1]:
            return int(spec.get("minReplicas", 1)) <= replicas <= int(spec.get("maxReplicas", replicas))
    return False


def _compare(ref: tuple[str, str], before: Mapping[str, Any], now: Mapping[str, Any],
             hpa_scope: Mapping[tuple[str, str], Mapping[str, Any]] | None = None) -> list[str]:
    """Paths where ``now`` differs from ``before``; with ``hpa_scope`` (the snapshot) the replicas an HPA of
    it may have set are no difference."""
    before_content, now_content = _content(before), _content(now)
    if before_content == now_content:
        return []
    if hpa_scope is not None \
            and before_content.get("metadata.labels") == now_content.get("metadata.labels") \
            and before_content.get("metadata.annotations") == now_content.get("metadata.annotations") \
            and _scaled_by_hpa(ref, now, before, hpa_scope):
        return []
    paths: list[str] = []
    for field in before_content:
        paths += _differing_paths(before_content[field], now_content[field], field, ref[0] in SECRET_KINDS)
    return paths


def rollback_plan(snapshot: Iterable[Mapping[str, Any]], current: Iterable[Mapping[str, Any]],
                  scope: Iterable[Mapping[str, str]]) -> dict[str, Any]:
    """Plan the restore of the scope's objects from the ``snapshot`` (before the run) and ``current``
    (as read now, what the run applied included).

    Returns ``restore`` (definitions to apply: in the snapshot and changed or gone; a Secret's carries its
    data, so the tasks that hold it use no_log), ``delete`` (``apiVersion``/``kind``/``name`` of what the
    run created), ``unchanged`` and ``summary`` (``restore``, ``delete`` and ``unchanged`` as
    ``Kind/name`` and ``text``: names only, never a value, safe to print)."""
    items = _check_scope(scope)
    before = _by_ref(snapshot, items, "snapshot")
    now = _by_ref(current, items, "current objects")
    restore: list[dict[str, Any]] = []
    delete: list[dict[str, str]] = []
    unchanged: list[str] = []
    for item in items:
        ref = _ref(item)
        if ref in before and (ref not in now or _compare(ref, before[ref], now[ref])):
            restore.append(before[ref])
        elif ref in before:
            unchanged.append(_label(ref))
        elif ref in now:
            delete.append({"apiVersion": item.get("apiVersion") or now[ref].get("apiVersion"), "kind": ref[0], "name": ref[1]})
    delete.sort(key=lambda ref: DELETE_ORDER.index(ref["kind"]) if ref["kind"] in DELETE_ORDER else len(DELETE_ORDER))
    summary = {
        "restore": [_label(_ref(obj)) for obj in restore],
        "delete": [_label(_ref(ref)) for ref in delete],
        "unchanged": unchanged,
    }
    summary["text"] = "; ".join([
        ("restored " + ", ".join(summary["restore"])) if summary["restore"] else "nothing to restore",
        ("removed " + ", ".join(summary["delete"])) if summary["delete"] else "nothing removed",
    ])
    return {"restore": restore, "delete": delete, "unchanged": unchanged, "summary": summary}


def rollback_differences(snapshot: Iterable[Mapping[str, Any]], live: Iterable[Mapping[str, Any]],
                         scope: Iterable[Mapping[str, str]]) -> list[str]:
    """List how the ``live`` objects of the scope differ from the ``snapshot``: ``Kind/name: <path>, ...``
    for each object whose labels, annotations or content differ (a Secret's data by key, never a value),
    that exists but did not before the run, or that is gone. Empty: everything is as before the run. A
    Deployment whose replicas alone differ within the bounds of the snapshot's HPA that targets it counts
    as restored (the autoscaler sets them)."""
    items = _check_scope(scope)
    before = _by_ref(snapshot, items, "snapshot")
    now = _by_ref(live, items, "live objects")
    differences = []
    for item in items:
        ref = _ref(item)
        if ref in before and ref not in now:
            differences.append(f"{_label(ref)}: missing (it existed before the run)")
        elif ref in now and ref not in before:
            differences.append(f"{_label(ref)}: exists (it did not before the run)")
        elif ref in now:
            paths = _compare(ref, before[ref], now[ref], before)
            if paths:
                differences.append(f"{_label(ref)}: " + ", ".join(paths))
    return differences
