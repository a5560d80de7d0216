import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.access_review import (
    CHAIN_RULES,
    AccessReviewError,
    chain_rules,
    denial_message,
    describe,
    review_body,
)


def test_namespace_creation_checked_only_when_missing():
    assert len(chain_rules(True)) == len(CHAIN_RULES)
    missing = chain_rules(False)
    assert missing[-1] == {"verb": "create", "group": "", "resource": "namespaces", "subresource": ""}


@pytest.mark.parametrize(("group", "resource"), [("", "secrets"), ("", "services"), ("apps", "deployments"),
                                                 ("autoscaling", "horizontalpodautoscalers"),
                                                 ("policy", "poddisruptionbudgets"), ("networking.k8s.io", "networkpolicies")])
def test_the_rollbacks_deletes_are_reviewed(group, resource):
    assert {"verb": "delete", "group": group, "resource": resource, "subresource": ""} in chain_rules(True)


@pytest.mark.parametrize(
    "rule, attributes",
    [
        ({"verb": "patch", "group": "apps", "resource": "deployments", "subresource": ""},
         {"verb": "patch", "group": "apps", "resource": "deployments", "namespace": "ns"}),
        ({"verb": "get", "group": "", "resource": "pods", "subresource": "log"},
         {"verb": "get", "group": "", "resource": "pods", "subresource": "log", "namespace": "ns"}),
        ({"verb": "create", "group": "", "resource": "namespaces", "subresource": ""},
         {"verb": "create", "group": "", "resource": "namespaces"}),
        ({"verb": "patch", "group": "", "resource": "namespaces", "subresource": ""},
         {"verb": "patch", "group": "", "resource": "namespaces", "namespace": "ns", "name": "ns"}),
    ],
)
def test_review_body(rule, attributes):
    body = review_body(rule, "ns")
    assert body["kind"] == "SelfSubjectAccessReview"
    assert body["spec"]["resourceAttributes"] == attributes


def test_extra_rules_and_validation():
    rules = chain_rules(True, [{"verb": "get", "resource": "prometheusrules", "group": "monitoring.coreos.com"}])
    assert rules[-1]["group"] == "monitoring.coreos.com"
    with pytest.raises(AccessReviewError, match="'verb' and 'resource'"):
        chain_rules(True, [{"resource": "pods"}])


def test_denial_message_names_every_rule_and_the_fix():
    denied = [{"verb": "patch", "group": "apps", "resource": "deployments", "subresource": "", "reason": "RBAC: no"},
              {"verb": "create", "group": "", "resource": "pods", "subresource": "portforward"}]
    message = denial_message(denied, "vextrus-production")
    assert "patch deployments (apps): RBAC: no" in message
    assert "create pods/portforward (core)" in message
    assert "deployer Role" in message and "Nothing was written" in message
    assert describe(denied[1]) == "create pods/portforward (core)"


def test_the_run_lease_rules_name_the_lease_except_create():
    assert chain_rules(True) == chain_rules(True, lease="")
    lease_rules = chain_rules(True, lease="svc-rollout")[len(CHAIN_RULES):]
    assert [(r["verb"], r.get("name")) for r in lease_rules] == [
        ("create", None), ("get", "svc-rollout"), ("update", "svc-rollout"), ("delete", "svc-rollout")]
    assert {(r["group"], r["resource"]) for r in lease_rules} == {("coordination.k8s.io", "leases")}


@pytest.mark.parametrize(
    "rule, attributes, text",
    [
        ({"verb": "update", "group": "coordination.k8s.io", "resource": "leases", "subresource": "", "name": "svc-rollout"},
         {"verb": "update", "group": "coordination.k8s.io", "resource": "leases", "namespace": "ns", "name": "svc-rollout"},
         "update leases named svc-rollout (coordination.k8s.io)"),
        ({"verb": "create", "group": "coordination.k8s.io", "resource": "leases", "subresource": ""},
         {"verb": "create", "group": "coordination.k8s.io", "resource": "leases", "namespace": "ns"},
         "create leases (coordination.k8s.io)"),
    ],
)
def test_named_rules_are_reviewed_on_that_name(rule, attributes, text):
    assert review_body(rule, "ns")["spec"]["resourceAttributes"] == attributes
    assert describe(rule) == text


def test_extra_rules_may_name_an_object():
    rule = chain_rules(True, [{"verb": "get", "resource": "configmaps", "name": "svc-release"}])[-1]
    assert rule == {"verb": "get", "group": "", "resource": "configmaps", "subresource": "", "name": "svc-release"}
