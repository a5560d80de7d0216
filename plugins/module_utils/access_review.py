# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the rollout chain needs to be allowed to do, and how to ask the API server (pure logic)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# (verb, API group, resource, subresource) the chain uses inside the service's namespace.
CHAIN_RULES: tuple[tuple[str, str, str, str], ...] = (
    ("get", "", "namespaces", ""),
    ("patch", "", "namespaces", ""),
    ("get", "", "secrets", ""),
    ("patch", "", "secrets", ""),
    ("create", "", "secrets", ""),
    ("patch", "", "serviceaccounts", ""),
    ("create", "", "serviceaccounts", ""),
    ("patch", "", "services", ""),
    ("create", "", "services", ""),
    ("get", "", "configmaps", ""),
    ("patch", "", "configmaps", ""),
    ("create", "", "configmaps", ""),
    ("list", "", "pods", ""),
    ("watch", "", "pods", ""),
    ("get", "", "pods", "log"),
    ("create", "", "pods", "portforward"),
    ("get", "apps", "deployments", ""),
    ("watch", "apps", "deployments", ""),
    ("patch", "apps", "deployments", ""),
    ("create", "apps", "deployments", ""),
    ("delete", "apps", "deployments", ""),
    ("list", "apps", "replicasets", ""),
    ("watch", "apps", "replicasets", ""),
    ("patch", "autoscaling", "horizontalpodautoscalers", ""),
    ("create", "autoscaling", "horizontalpodautoscalers", ""),
    ("patch", "policy", "poddisruptionbudgets", ""),
    ("create", "policy", "poddisruptionbudgets", ""),
    ("patch", "networking.k8s.io", "networkpolicies", ""),
    ("create", "networking.k8s.io", "networkpolicies", ""),
    ("patch", "rbac.authorization.k8s.io", "roles", ""),
    ("patch", "rbac.authorization.k8s.io", "rolebindings", ""),
    # the rollback deletes what a failed run created (the Deployments' delete is above)
    ("delete", "", "secrets", ""),
    ("delete", "", "services", ""),
    ("delete", "autoscaling", "horizontalpodautoscalers", ""),
    ("delete", "policy", "poddisruptionbudgets", ""),
    ("delete", "networking.k8s.io", "networkpolicies", ""),
)

# Needed only when the namespace does not exist yet (cluster scope).
CREATE_NAMESPACE_RULE = ("create", "", "namespaces", "")

# The run lock (run_lease): create any Lease (a name cannot limit create), the rest on the run's Lease only.
LEASE_RULES: tuple[tuple[str, str], ...] = (("create", ""), ("get", "name"), ("update", "name"), ("delete", "name"))


class AccessReviewError(ValueError):
    """A rule given to the review is malformed."""


def chain_rules(namespace_exists: bool = True, extra: Iterable[Mapping[str, Any]] = (),
                lease: str = "") -> list[dict[str, str]]:
    """Rules to review for one run of the chain, as dicts with verb, group, resource, subresource
    (and name, for the rules on the run's Lease ``lease`` when it is given)."""
    rules = list(CHAIN_RULES)
    if not namespace_exists:
        rules.append(CREATE_NAMESPACE_RULE)
    result = [dict(zip(("verb", "group", "resource", "subresource"), rule)) for rule in rules]
    if lease:
        result.extend({"verb": verb, "group": "coordination.k8s.io", "resource": "leases", "subresource": "",
                       **({"name": lease} if named else {})} for verb, named in LEASE_RULES)
    for rule in extra:
        if not isinstance(rule, Mapping) or not rule.get("verb") or not rule.get("resource"):
            raise AccessReviewError(f"each extra rule needs at least 'verb' and 'resource', got {rule!r}")
        result.append({"verb": str(rule["verb"]), "group": str(rule.get("group") or ""),
                       "resource": str(rule["resource"]), "subresource": str(rule.get("subresource") or ""),
                       **({"name": str(rule["name"])} if rule.get("name") else {})})
    return result


def review_body(rule: Mapping[str, str], namespace: str) -> dict[str, Any]:
    """The SelfSubjectAccessReview object for one rule."""
    attributes = {"verb": rule["verb"], "group": rule["group"], "resource": rule["resource"]}
    if rule.get("subresource"):
        attributes["subresource"] = rule["subresource"]
    if rule["resource"] != "namespaces" or rule["verb"] != "create":
        attributes["namespace"] = namespace
    if rule["resource"] == "namespaces" and rule["verb"] != "create":
        attributes["name"] = namespace
    elif rule.get("name"):
        attributes["name"] = rule["name"]
    return {"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview", "spec": {"resourceAttributes": attributes}}


def describe(rule: Mapping[str, str]) -> str:
    resource = rule["resource"] + (f"/{rule['subresource']}" if rule.get("subresource") else "")
    group = rule.get("group") or "core"
    named = f" named {rule['name']}" if rule.get("name") else ""
    return f"{rule['verb']} {resource}{named} ({group})"


def denial_message(denied: list[dict[str, Any]], namespace: str) -> str:
    """One message listing every denied rule and what to do."""
    listed = "; ".join(describe(d) + (f": {d['reason']}" if d.get("reason") else "") for d in denied)
    return (
        f"the current credentials may not do what the rollout needs in namespace {namespace}: {listed}. "
        "Expected every rule to be allowed. Bind the deployer Role of the namespace_secrets role to this "
        "identity (see docs/roles.md), or run with credentials that have it. Nothing was written."
    )
