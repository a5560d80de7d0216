# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn an object read from the API into a definition that can be applied again to restore it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

# Annotations the API server or kubectl set; applying them back would fight their owners.
SERVER_ANNOTATIONS = frozenset({"deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration"})
KEPT_METADATA = ("name", "namespace", "labels", "annotations")


class RestorableError(ValueError):
    """The object cannot be restored."""


def restorable_definition(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Return ``obj`` without status and server-set metadata (uid, resourceVersion, managedFields...)."""
    if not isinstance(obj, Mapping) or not obj.get("kind") or not (obj.get("metadata") or {}).get("name"):
        raise RestorableError(f"expected a Kubernetes object with kind and metadata.name, got {type(obj).__name__}")
    metadata = {key: copy.deepcopy(obj["metadata"][key]) for key in KEPT_METADATA if obj["metadata"].get(key)}
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k not in SERVER_ANNOTATIONS}
    if annotations:
        metadata["annotations"] = annotations
    else:
        metadata.pop("annotations", None)
    definition = {"apiVersion": obj.get("apiVersion"), "kind": obj["kind"], "metadata": metadata}
    if "spec" in obj:
        definition["spec"] = copy.deepcopy(obj["spec"])
    return definition
