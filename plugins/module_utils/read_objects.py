# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Several Kubernetes objects read in one go: the chain's reads at the start of a run (the release
record, the Deployments, the HPA, the service's Secret, the objects a rollback restores) in one
module call instead of one ``kubernetes.core.k8s_info`` call each, which cost about half a second
apiece in module start-up.

An object is named by ``api_version``, ``kind`` and ``name``; without ``name`` every object of the
kind in the namespace is read (a list, whose items get their ``apiVersion`` and ``kind`` back). A
404 - the object, or the API of its kind (a CRD not installed) - reads as no object, as
``k8s_info`` returns it. A 403 fails the read, unless the object is marked ``ignore_forbidden``
(something the credentials may not be allowed to read, such as a CRD or the kube-system Namespace):
then it reads as no object, with the API server's refusal in ``forbidden``. Pure apart from the
``get`` function it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# kinds whose plural is not the kind in lower case plus "s"
_PLURALS = {"NetworkPolicy": "networkpolicies", "Ingress": "ingresses", "Endpoints": "endpoints"}
# an annotation kubectl apply leaves, with the whole object as applied (a Secret's values included)
_LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# cluster-scoped kinds among those the chain reads
_CLUSTER_SCOPED = frozenset({"Namespace", "Node", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding"})


class ReadObjectsError(ValueError):
    """An object to read is not named well enough to read it."""


class Forbidden(Exception):
    """The API server refused to let the credentials read an object (403). The message says what
    could not be read (``cannot read Secret ns/s: 403 Forbidden``); ``answer`` is the server's own
    words (``secrets "s" is forbidden: User "u" cannot get resource ...``)."""

    def __init__(self, message: str, answer: str = "") -> None:
        super().__init__(message)
        self.answer = answer or message


@dataclass(frozen=True)
class ObjectRef:
    """One object (or, without ``name``, every object of a kind) to read."""

    api_version: str
    kind: str
    name: str = ""
    namespace: str = ""
    plural: str = ""
    ignore_forbidden: bool = False

    @property
    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}" if self.name else f"every {self.kind} in {self.namespace or 'the cluster'}"


def plural(kind: str) -> str:
    """The resource name of ``kind`` in a URL: Deployment -> deployments, NetworkPolicy -> networkpolicies."""
    if kind in _PLURALS:
        return _PLURALS[kind]
    lower = kind.lower()
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        return lower[:-1] + "ies"
    if lower.endswith(("s", "x", "ch", "sh")):
        return lower + "es"
    return lower + "s"


def parse_refs(raw: Sequence[Mapping[str, Any]], namespace: str = "") -> list[ObjectRef]:
    """The ``objects`` option as ObjectRefs; a namespaced object without a namespace takes ``namespace``."""
    refs = []
    for number, item in enumerate(raw or [], start=1):
        if not isinstance(item, Mapping) or not item.get("api_version") or not item.get("kind"):
            raise ReadObjectsError(f"object {number} to read needs api_version and kind, got {item!r}")
        kind = str(item["kind"])
        scoped = "" if kind in _CLUSTER_SCOPED else str(item.get("namespace") or namespace or "")
        if kind not in _CLUSTER_SCOPED and not scoped:
            raise ReadObjectsError(f"object {number} to read ({kind} {item.get('name') or ''}) needs a namespace: set namespace")
        refs.append(ObjectRef(str(item["api_version"]), kind, str(item.get("name") or ""), scoped, str(item.get("plural") or ""),
                              bool(item.get("ignore_forbidden"))))
    return refs


def path(ref: ObjectRef) -> str:
    """The API path of the object, or of the list of its kind."""
    base = f"/api/{ref.api_version}" if "/" not in ref.api_version else f"/apis/{ref.api_version}"
    where = f"/namespaces/{ref.namespace}" if ref.namespace else ""
    name = f"/{ref.name}" if ref.name else ""
    return f"{base}{where}/{ref.plural or plural(ref.kind)}{name}"


def resources(ref: ObjectRef, answer: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """What ``k8s_info`` would return as ``resources`` for the answer to a GET of ``path(ref)``
    (None: 404)."""
    if answer is None:
        return []
    if ref.name:
        return [dict(answer)]
    return [{"apiVersion": ref.api_version, "kind": ref.kind, **item} for item in answer.get("items") or []]


def without_secret_values(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A Secret with its keys and no values (each ``data`` value ``""``, no ``stringData``, no
    last-applied annotation); any other object as it is."""
    if obj.get("kind") != "Secret":
        return dict(obj)
    hidden = {key: value for key, value in obj.items() if key != "stringData"}
    hidden["data"] = {key: "" for key in obj.get("data") or {}}
    metadata = dict(obj.get("metadata") or {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != _LAST_APPLIED}
    if "annotations" in metadata:
        metadata["annotations"] = annotations
    hidden["metadata"] = metadata
    return hidden


def read_objects(
    refs: Sequence[ObjectRef], get: Callable[[str, str], Mapping[str, Any] | None], secret_values: bool = True
) -> list[dict[str, Any]]:
    """One result per ref, in order: ``api_version``, ``kind``, ``name``, ``namespace``,
    ``resources`` (the objects found) and ``forbidden`` (the API server's refusal of a ref marked
    ``ignore_forbidden``, else empty). ``get(path, label)`` returns the decoded answer or None for
    404, and raises Forbidden for 403, which fails the read of any other ref. Without
    ``secret_values`` a Secret is returned with its keys only (``without_secret_values``)."""
    results = []
    for ref in refs:
        forbidden = ""
        try:
            found = resources(ref, get(path(ref), ref.label))
        except Forbidden as exc:
            if not ref.ignore_forbidden:
                raise
            found, forbidden = [], exc.answer
        if not secret_values:
            found = [without_secret_values(obj) for obj in found]
        results.append({"api_version": ref.api_version, "kind": ref.kind, "name": ref.name, "namespace": ref.namespace,
                        "resources": found, "forbidden": forbidden})
    return results
