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
