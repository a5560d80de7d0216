# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resource_apply role's inputs, checked and normalised in one call before anything is read or
written: the namespace and service names, the image reference, the sizes, the NetworkPolicy
sources and the service's shape. ``check_inputs`` returns the values the role's templates use
(numbers as numbers, the names a manifest derives from the service) or raises ``InputError`` whose
message names the inventory variable, what was expected, what was found and what to do.

Pure Python, no Ansible imports; the filter ``vextrus.deploy.resource_inputs`` calls it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.manifest_lint import IMAGE_REFERENCE
from ansible_collections.vextrus.deploy.plugins.module_utils.service_shape import ShapeError, normalize_shape

# DNS-1123 labels; the service's Deployments add '-stable' and '-canary' to its name (63 - 7 = 56).
_NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_SERVICE = re.compile(r"[a-z0-9]([-a-z0-9]{0,54}[a-z0-9])?")
_WHOLE_NUMBER = re.compile(r"^[0-9]+$")
_NOTHING_WRITTEN = "Nothing was written."
REQUIRED = (
    "namespace", "service_name", "image", "replicas", "hpa_min", "hpa_max", "max_replicas", "pdb_min_available",
    "max_surge", "max_unavailable", "service_shape", "network_policy_sources",
)


class InputError(ValueError):
    """An input of the role is invalid; the message says which, what was expected and what to do."""


def _integer(value: Any) -> int:
    """An integer as Jinja's ``int`` filter reads it: a whole or decimal number, else 0."""
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return 0


def _count_or_percent(value: Any) -> Any:
    """A whole number as an int; anything else (a percentage such as '25%') as given."""
    return int(value) if _WHOLE_NUMBER.match(str(value)) else value


def _check_names(namespace: Any, service: Any) -> None:
    if not (_NAMESPACE.fullmatch(str(namespace)) and _SERVICE.fullmatch(str(service))):
        raise InputError(
            f"Invalid resource_apply input: namespace '{namespace}' (inventory deploy_namespace, role "
            f"resource_apply_namespace) and service '{service}' (inventory deploy_service_name, role "
            "resource_apply_service_name) must be DNS-1123 labels: lower-case letters, digits and '-', starting "
            "and ending with a letter or digit, the namespace at most 63 characters, the service at most 56 (its "
            f"Deployments add '-stable' and '-canary'). Fix the name. {_NOTHING_WRITTEN}"
        )


def _check_image(image: Any) -> None:
    if not image or not IMAGE_REFERENCE.match(str(image)):
        raise InputError(
            "Invalid resource_apply input: resource_apply_image must be set and be an image reference (inventory "
            "rollout_image, or image_build's digest): expected [registry[:port]/]repository[:tag][@sha256:<64 hex "
            "digits>] with a lower-case repository, such as 127.0.0.1:5000/vextrus/finance@sha256:<digest>, found "
            f"'{image if image is not None else ''}'. Fix rollout_image (or leave it empty in week 1 to build the "
            f"image). {_NOTHING_WRITTEN}"
        )


def _check_sizes(inputs: Mapping[str, Any], replicas: int, hpa_min: int, hpa_max: int) -> None:
    if 1 <= hpa_min <= replicas <= hpa_max <= _integer(inputs["max_replicas"]):
        return
    raise InputError(
        f"Invalid resource_apply input: replicas {inputs['replicas']} (inventory deploy_replicas, role "
        "resource_apply_replicas) must be >= 1 and within the HPA bounds "
        f"{inputs['hpa_min']}..{inputs['hpa_max']} (inventory deploy_hpa_min / deploy_hpa_max: integers, min >= 1, "
        "min <= max), and the HPA maximum at most resource_apply_max_replicas "
        f"({inputs['max_replicas']}), a bound against a typo that would ask the cluster for thousands of pods. Fix "
        "the sizes (or raise resource_apply_max_replicas for a service that really needs more). "
        f"{_NOTHING_WRITTEN}"
    )


def check_inputs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The role's inputs checked and normalised: ``replicas``, ``hpa_min``, ``hpa_max`` (ints),
    ``pdb_min_available``, ``max_surge``, ``max_unavailable`` (an int, or a percentage as given),
    ``shape`` (the normalised service shape), and the names ``instance``, ``secret_name`` and
    ``service_account`` (each the service's own unless given). The checks run in the order a user
    reads the inventory: the shape, the names, the image, the sizes, the NetworkPolicy sources."""
    if not isinstance(inputs, Mapping):
        raise InputError(f"resource_inputs expects a mapping of the role's inputs, got {type(inputs).__name__}")
    missing = [key for key in REQUIRED if key not in inputs]
    if missing:
        raise InputError(f"resource_inputs: missing input(s) {', '.join(missing)}")
    replicas, hpa_min, hpa_max = (_integer(inputs[key]) for key in ("replicas", "hpa_min", "hpa_max"))
    try:
        shape = normalize_shape(inputs["service_shape"])
    except ShapeError as exc:
        raise InputError(str(exc)) from exc
    service = inputs["service_name"]
    _check_names(inputs["namespace"], service)
    _check_image(inputs["image"])
    _check_sizes(inputs, replicas, hpa_min, hpa_max)
    if not inputs["network_policy_sources"]:
        raise InputError(
            "Invalid resource_apply input: resource_apply_network_policy_sources must not be empty (an empty list "
            f"would allow every source). {_NOTHING_WRITTEN}"
        )
    return {
        "replicas": replicas,
        "hpa_min": hpa_min,
        "hpa_max": hpa_max,
        "pdb_min_available": _count_or_percent(inputs["pdb_min_available"]),
        "max_surge": _count_or_percent(inputs["max_surge"]),
        "max_unavailable": _count_or_percent(inputs["max_unavailable"]),
        "shape": shape,
        "instance": inputs.get("instance") or service,
        "secret_name": inputs.get("secret_name") or f"{service}-secrets",
        "service_account": inputs.get("service_account") or service,
    }
