# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Semantic checks of rendered Kubernetes manifests (pure functions, no Ansible imports).

The API server accepts many manifests that cannot work: an HPA metric of ``type: Pod`` is only
rejected at apply time, a PodDisruptionBudget whose minAvailable equals the replica count blocks
every node drain, and a Service whose selector matches nothing silently sends no traffic. Each
finding names the resource, the field, what was found and how to fix it.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

HPA_METRIC_TYPES = ("Resource", "Pods", "Object", "External", "ContainerResource")
# the key holding the metric's details for each metric type (autoscaling/v2 MetricSpec)
_HPA_METRIC_SOURCE = {
    "Resource": "resource",
    "Pods": "pods",
    "Object": "object",
    "External": "external",
    "ContainerResource": "containerResource",
}
_WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod")
_LONG_RUNNING_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# An image reference as the container runtime parses it (distribution/reference): an optional
# registry host[:port], lower-case path components, an optional tag and an optional digest.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
IMAGE_REFERENCE = re.compile(
    rf"^(?:(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?)/)?"
    rf"{_COMPONENT}(?:/{_COMPONENT})*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$"
)
# Kubernetes quantity suffixes (resource.Quantity): binary, decimal and the milli/micro/nano units.
_QUANTITY = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$")
_QUANTITY_FACTORS = {
    "Ki": Decimal(2) ** 10, "Mi": Decimal(2) ** 20, "Gi": Decimal(2) ** 30, "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50, "Ei": Decimal(2) ** 60, "n": Decimal("1e-9"), "u": Decimal("1e-6"), "m": Decimal("1e-3"),
    "k": Decimal("1e3"), "M": Decimal("1e6"), "G": Decimal("1e9"), "T": Decimal("1e12"), "P": Decimal("1e15"),
    "E": Decimal("1e18"),
}


def parse_quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity ('250m', '1', '512Mi', '1e3', 2) as a number; None when it is not one."""
    if isinstance(value, bool) or value is None:
        return None
    match = _QUANTITY.match(str(value).strip())
    if not match:
        return None
    number, suffix = match.groups()
    try:
        amount = Decimal(number)
        if suffix and suffix[0] in "eE" and suffix not in _QUANTITY_FACTORS:
            return amount * (Decimal(10) ** int(suffix[1:]))
        return amount * _QUANTITY_FACTORS.get(suffix or "", Decimal(1))
    except InvalidOperation:
        return None


class ManifestLintError(ValueError):
    """The input is not a list of manifests."""


@dataclass(frozen=True)
class Finding:
    kind: str
    name: str
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def _name(manifest: Mapping[str, Any]) -> str:
    return str((manifest.get("metadata") or {}).get("name") or "<unnamed>")


def _namespace(manifest: Mapping[str, Any]) -> str | None:
    return (manifest.get("metadata") or {}).get("namespace")


def _finding(manifest: Mapping[str, Any], field: str, message: str) -> Finding:
    kind = str(manifest.get("kind") or "<no kind>")
    name = _name(manifest)
    return Finding(kind=kind, name=name, field=field, message=f"{kind} {name}: {message}")


def flatten_manifests(manifests: Any) -> list[dict[str, Any]]:
    """Return the manifests as a flat list of dicts (``List`` kinds expanded, empty documents dropped)."""
    if manifests is None:
        return []
    if isinstance(manifests, str):
        import yaml  # PyYAML ships with ansible-core

        documents = list(yaml.safe_load_all(manifests))
        # one document holding a list of manifests reads the same as one document per manifest
        manifests = documents[0] if len(documents) == 1 and isinstance(documents[0], list) else documents
    if isinstance(manifests, Mapping):
        manifests = [manifests]
    if not isinstance(manifests, Iterable):
        raise ManifestLintError(
            f"manifest_lint: expected a list of manifests (dicts) or YAML text, got {type(manifests).__name__}"
        )
    result: list[dict[str, Any]] = []
    for index, item in enumerate(manifests):
        if item is None:
            continue
        if not isinstance(item, Mapping):
            raise ManifestLintError(
                f"manifest_lint: item {index} is a {type(item).__name__}, expected a manifest (dict); "
                "parse YAML text with from_yaml_all first"
            )
        if str(item.get("kind", "")).endswith("List") and isinstance(item.get("items"), list):
            result.extend(flatten_manifests(item["items"]))
        else:
            result.append(dict(item))
    return result


def _pod_template(manifest: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """Return the pod template (metadata + spec) of a workload, the pod itself for a Pod."""
    kind = manifest.get("kind")
    spec = manifest.get("spec") or {}
    if kind == "Pod":
        return manifest
    if kind == "CronJob":
        return ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    if kind in _WORKLOAD_KINDS:
        return spec.get("template")
    return None


def _template_path(kind: str) -> str:
    if kind == "Pod":
        return "spec"
    if kind == "CronJob":
        return "spec.jobTemplate.spec.template.spec"
    return "spec.template.spec"


def selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, Any] | None) -> bool:
    """Evaluate a LabelSelector (matchLabels/matchExpressions) or a plain Service selector map."""
    if not selector:
        return False
    labels = labels or {}
    if "matchLabels" in selector or "matchExpressions" in selector:
        match_labels = selector.get("matchLabels") or {}
        expressions = selector.get("matchExpressions") or []
    else:
        match_labels, expressions = selector, []
    if not match_labels and not expressions:
        return False
    for key, value in match_labels.items():
        if str(labels.get(key)) != str(value) or key not in labels:
            return False
    for expression in expressions:
        key = expression.get("key")
        operator = expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        if operator == "In" and (key not in labels or str(labels[key]) not in values):
            return False
        if operator == "NotIn" and key in labels and str(labels[key]) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


def _lint_hpa(hpa: Mapping[str, Any]) -> list[Finding]:
    findings: list[Finding] = []
    spec = hpa.get("spec") or {}
    api_version = str(hpa.get("apiVersion", ""))
    for index, metric in enumerate(spec.get("metrics") or []):
        field = f"spec.metrics[{index}].type"
        metric_type = (metric or {}).get("type")
        if metric_type not in HPA_METRIC_TYPES:
            close = difflib.get_close_matches(str(metric_type), HPA_METRIC_TYPES, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            findings.append(
                _finding(
                    hpa,
                    field,
                    f"{field} is '{metric_type}', which {api_version or 'autoscaling/v2'} does not accept; "
                    f"{hint}Use one of {', '.join(HPA_METRIC_TYPES)}.",
                )
            )
            continue
        source = _HPA_METRIC_SOURCE[metric_type]
        if not (metric or {}).get(source):
            findings.append(
                _finding(
                    hpa,
                    f"spec.metrics[{index}].{source}",
                    f"metric {index} has type '{metric_type}' but no '{source}' block; "
                    f"add spec.metrics[{index}].{source} with the metric name and target.",
                )
            )
    max_replicas = spec.get("maxReplicas")
    min_replicas = spec.get("minReplicas", 1)
    if isinstance(max_replicas, int) and isinstance(min_replicas, int) and min_replicas > max_replicas:
        findings.append(
            _finding(
                hpa,
                "spec.minReplicas",
                f"spec.minReplicas is {min_replicas}, above spec.maxReplicas {max_replicas}; "
                "the autoscaler cannot satisfy both. Lower minReplicas or raise maxReplicas.",
            )
        )
    return findings


def _resolve_budget(value: Any, replicas: int, round_up: bool) -> int | None:
    """Resolve an IntOrString budget against a replica count (percentages as the disruption controller does)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%") and text[:-1].isdigit():
            exact = int(text[:-1]) * replicas / 100
            return math.ceil(exact) if round_up else math.floor(exact)
        if text.isdigit():
            return int(text)
    return None


def _lint_pdb(pdb: Mapping[str, Any], workloads: list[Mapping[str, Any]], selector_check: bool) -> list[Finding]:
    spec = pdb.get("spec") or {}
    selector = spec.get("selector")
    matched = [
        w
        for w in workloads
        if w.get("kind") in ("Deployment", "StatefulSet", "ReplicaSet")
        and _namespace(w) == _namespace(pdb)
        and selector_matches(selector, ((_pod_template(w) or {}).get("metadata") or {}).get("labels"))
    ]
    if not matched:
        if selector_check:
            return [
                _finding(
                    pdb,
                    "spec.selector",
                    f"spec.selector {dict(selector or {})} matches no Deployment or StatefulSet pod template in "
                    "these manifests; the budget protects nothing. Make the selector match the workload's "
                    "spec.template.metadata.labels.",
                )
            ]
        return []
    replicas = sum(int((w.get("spec") or {}).get("replicas", 1)) for w in matched)
    names = ", ".join(f"{w.get('kind')} {_name(w)}" for w in matched)
    findings: list[Finding] = []
    if "minAvailable" in spec:
        raw = spec["minAvailable"]
        resolved = _resolve_budget(raw, replicas, round_up=True)
        if resolved is None:
            findings.append(
                _finding(pdb, "spec.minAvailable", f"spec.minAvailable is {raw!r}; use an integer or a percentage like '70%'.")
            )
        elif resolved >= replicas:
            shown = f"{raw!r} (= {resolved} pods)" if isinstance(raw, str) else str(raw)
            findings.append(
                _finding(
                    pdb,
                    "spec.minAvailable",
                    f"spec.minAvailable {shown} is at or above the {replicas} replicas of {names}, so it blocks "
                    f"every eviction (node drains hang). Set minAvailable below {replicas}, or raise the replicas.",
                )
            )
    if "maxUnavailable" in spec:
        raw = spec["maxUnavailable"]
        resolved = _resolve_budget(raw, replicas, round_up=True)
        if resolved is None:
            findings.append(
                _finding(pdb, "spec.maxUnavailable", f"spec.maxUnavailable is {raw!r}; use an integer or a percentage like '30%'.")
            )
        elif resolved <= 0:
            findings.append(
                _finding(
                    pdb,
                    "spec.maxUnavailable",
                    f"spec.maxUnavailable {raw!r} allows no pod of {names} to be evicted, so it blocks every "
                    "eviction (node drains hang). Allow at least 1.",
                )
            )
    return findings


def _lint_containers(workload: Mapping[str, Any], require_digest: bool) -> list[Finding]:
    kind = str(workload.get("kind"))
    template = _pod_template(workload) or {}
    pod_spec = template.get("spec") or {}
    base = _template_path(kind)
    findings: list[Finding] = []
    for group in ("initContainers", "containers"):
        for index, container in enumerate(pod_spec.get(group) or []):
            container = container or {}
            cname = container.get("name", f"#{index}")
            path = f"{base}.{group}[{index}]"
            label = f"container '{cname}'" if group == "containers" else f"init container '{cname}'"
            image = str(container.get("image") or "")
            if not IMAGE_REFERENCE.match(image):
                findings.append(
                    _finding(
                        workload,
                        f"{path}.image",
                        f"{label} uses image '{image}', which is not a valid image reference; expected "
                        "[registry[:port]/]repository[:tag][@sha256:<64 hex digits>] with a lower-case repository. "
                        "Fix the reference.",
                    )
                )
            elif require_digest:
                if not _DIGEST.search(image):
                    findings.append(
                        _finding(
                            workload,
                            f"{path}.image",
                            f"{label} uses image '{image}', which is not pinned by digest; tags can move. "
                            "Reference the pushed image as name@sha256:<64 hex digits>.",
                        )
                    )
            if group != "containers":
                continue
            if kind in _LONG_RUNNING_KINDS:
                for probe in ("readinessProbe", "livenessProbe"):
                    if not container.get(probe):
                        findings.append(
                            _finding(
                                workload,
                                f"{path}.{probe}",
                                f"{label} has no {probe}; "
                                + (
                                    "the Service sends traffic to pods that are not ready yet. "
                                    if probe == "readinessProbe"
                                    else "a hung process is never restarted. "
                                )
                                + f"Add {probe} (for example httpGet on /health).",
                            )
                        )
            resources = container.get("resources") or {}
            findings.extend(_lint_limits(workload, path, label, resources))
            for section in ("requests", "limits"):
                values = resources.get(section) or {}
                missing = [r for r in ("cpu", "memory") if r not in values]
                if missing:
                    findings.append(
                        _finding(
                            workload,
                            f"{path}.resources.{section}",
                            f"{label} has no resources.{section} for {' and '.join(missing)}"
                            + (
                                "; the scheduler and the HPA's utilization targets need them. "
                                if section == "requests"
                                else "; one pod can starve the node. "
                            )
                            + f"Set resources.{section}.{missing[0]}.",
                        )
                    )
    return findings


def _lint_limits(workload: Mapping[str, Any], path: str, label: str, resources: Mapping[str, Any]) -> list[Finding]:
    """A limit below its request (the API server refuses the pod template), or a quantity that is not one."""
    requests = resources.get("requests") or {}
    limits = resources.get("limits") or {}
    findings: list[Finding] = []
    for section, values in (("requests", requests), ("limits", limits)):
        for resource in ("cpu", "memory"):
            if resource in values and parse_quantity(values[resource]) is None:
                findings.append(_finding(workload, f"{path}.resources.{section}.{resource}",
                                         f"{label} has resources.{section}.{resource} {values[resource]!r}, which is "
                                         "not a Kubernetes quantity; expected for example '250m', '1' or '512Mi'."))
    for resource in ("cpu", "memory"):
        request, limit = parse_quantity(requests.get(resource)), parse_quantity(limits.get(resource))
        if request is not None and limit is not None and limit < request:
            findings.append(_finding(workload, f"{path}.resources.limits.{resource}",
                                     f"{label} has resources.limits.{resource} {limits[resource]!r} below "
                                     f"resources.requests.{resource} {requests[resource]!r}; the API server refuses a "
                                     "limit below its request. Expected the limit at or above the request: raise the "
                                     "limit or lower the request."))
    return findings


def _lint_strategy(deployment: Mapping[str, Any]) -> list[Finding]:
    """A rolling update that may neither add a pod nor take one away cannot replace any pod."""
    strategy = (deployment.get("spec") or {}).get("strategy") or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate":
        return []
    rolling = strategy.get("rollingUpdate") or {}
    replicas = int((deployment.get("spec") or {}).get("replicas", 1))
    surge = _resolve_budget(rolling.get("maxSurge", "25%"), replicas, round_up=True)
    unavailable = _resolve_budget(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
    if surge == 0 and unavailable == 0:
        return [
            _finding(
                deployment,
                "spec.strategy.rollingUpdate",
                f"maxSurge {rolling.get('maxSurge')!r} and maxUnavailable {rolling.get('maxUnavailable')!r} are both 0 "
                f"for {replicas} replicas: the rollout may neither add a pod nor take one away, so it can replace "
                "none (the API server refuses it). Expected at least one of them above 0: allow a surge of 1 or more "
                "(maxSurge) to keep every pod serving.",
            )
        ]
    return []


def _lint_service(service: Mapping[str, Any], workloads: list[Mapping[str, Any]]) -> list[Finding]:
    spec = service.get("spec") or {}
    selector = spec.get("selector")
    if not selector or spec.get("type") == "ExternalName":
        return []
    for workload in workloads:
        if _namespace(workload) != _namespace(service):
            continue
        labels = ((_pod_template(workload) or {}).get("metadata") or {}).get("labels")
        if selector_matches(selector, labels):
            return []
    return [
        _finding(
            service,
            "spec.selector",
            f"spec.selector {dict(selector)} matches no pod template in these manifests, so the Service has no "
            "endpoints and answers nothing. Make it match the Deployment's spec.template.metadata.labels.",
        )
    ]


def lint_manifests(manifests: Any, require_digest: bool = False, selector_check: bool = True) -> list[dict[str, str]]:
    """Return the findings for a set of manifests, in manifest order, as dicts kind/name/field/message."""
    items = flatten_manifests(manifests)
    workloads = [m for m in items if m.get("kind") in _WORKLOAD_KINDS]
    findings: list[Finding] = []
    for manifest in items:
        kind = manifest.get("kind")
        if kind == "HorizontalPodAutoscaler":
            findings.extend(_lint_hpa(manifest))
        elif kind == "PodDisruptionBudget":
            findings.extend(_lint_pdb(manifest, workloads, selector_check))
        elif kind == "Service" and selector_check:
            findings.extend(_lint_service(manifest, workloads))
        elif kind in _WORKLOAD_KINDS:
            if kind == "Deployment":
                findings.extend(_lint_strategy(manifest))
            findings.extend(_lint_containers(manifest, require_digest))
    return [f.as_dict() for f in findings]
