# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run's own bookkeeping objects written in one call: the release record (a ConfigMap, written
when a run starts and again with its verdict) and the snapshot kept until the verdict (a Secret),
applied server-side or deleted. The service's own objects (Deployments, Service, HPA, RBAC, its
Secret) are applied by ``kubernetes.core.k8s``; these writes are the run's, like its Lease
(``run_lease``), and are the counterpart of ``read_objects``.

Every object is checked before the first write: it needs ``apiVersion``, ``kind`` and
``metadata.name``, and a namespace unless its kind is cluster-scoped. A ``metadata.resourceVersion``
in a definition makes its apply conditional (the API server answers 409 when the object changed
since). An object is ``changed`` when it did not exist, or when what the API server returns differs
from what it had apart from ``metadata.resourceVersion`` and ``generation`` - the rule
``kubernetes.core.k8s`` applies, so a dry run here (check mode) finds different what a
``kubernetes.core.k8s`` apply would change, field managers included. Messages name the object, never its content (a Secret's data). Pure apart
from the API functions it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.read_objects import ObjectRef, ReadObjectsError, parse_refs, path

# metadata that moves without the object changing (as kubernetes.core.k8s compares an apply's result)
_SERVER_METADATA = ("resourceVersion", "generation")


class WriteObjectsError(ValueError):
    """An object to write is not named well enough to write it."""


class Refused(Exception):
    """The API server refused a write (not a transient error): ``status`` is its HTTP status, the
    message says what was refused and the server's own words (``cannot apply Secret ns/s: 422 Secret
    "s" is invalid: type: Invalid value: ...: field is immutable``)."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class ObjectsApi:
    """The API calls write_objects makes, each given the object's path and its label
    (``ConfigMap ns/name``): ``get`` returns the object or None (404), ``apply`` the object as the
    server-side apply left it (or, in check mode, would leave it), ``delete`` removes it."""

    get: Callable[[str, str], Mapping[str, Any] | None]
    apply: Callable[[str, str, Mapping[str, Any]], Mapping[str, Any]]
    delete: Callable[[str, str], None]


def target(obj: Any, number: int) -> ObjectRef:
    """The object a definition names; WriteObjectsError when it names none well enough."""
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    if not isinstance(meta, Mapping) or not obj.get("apiVersion") or not obj.get("kind") or not meta.get("name"):
        found = sorted(obj) if isinstance(obj, Mapping) else type(obj).__name__
        raise WriteObjectsError(f"object {number} to write needs apiVersion, kind and metadata.name; found {found}")
    try:
        return parse_refs([{"api_version": obj["apiVersion"], "kind": obj["kind"], "name": meta["name"], "namespace": meta.get("namespace")}])[0]
    except ReadObjectsError as exc:
        raise WriteObjectsError(f"object {number} to write ({obj['kind']} {meta['name']}) needs metadata.namespace") from exc


def _kept(obj: Mapping[str, Any]) -> dict[str, Any]:
    metadata = {key: value for key, value in (obj.get("metadata") or {}).items() if key not in _SERVER_METADATA}
    return {**obj, "metadata": metadata}


def differs(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    """Whether the object changed, apart from its resourceVersion and generation."""
    return _kept(before) != _kept(after)


def write_objects(objects: Sequence[Any], state: str, api: ObjectsApi, check_mode: bool) -> list[dict[str, Any]]:
    """Apply (``state`` present) or delete (absent) every object, in order; one entry per object
    with ``api_version``, ``kind``, ``name``, ``namespace``, ``changed`` and ``result`` (the object as
    written; ``{}`` once deleted). In check mode nothing is deleted; ``api.apply`` does a dry run."""
    refs = [target(obj, number) for number, obj in enumerate(objects or [], start=1)]
    written = []
    for ref, obj in zip(refs, objects):
        before = api.get(path(ref), ref.label)
        if state == "present":
            result = dict(api.apply(path(ref), ref.label, obj))
            changed = before is None or differs(before, result)
        else:
            if before is not None and not check_mode:
                api.delete(path(ref), ref.label)
            result, changed = {}, before is not None
        written.append({"api_version": ref.api_version, "kind": ref.kind, "name": ref.name, "namespace": ref.namespace,
                        "changed": changed, "result": result})
    return written
