import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vextrus.deploy.plugins.filter.rollback import FilterModule

FILTERS = FilterModule().filters()
HPA = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "svc", "resourceVersion": "3"},
       "spec": {"minReplicas": 4, "maxReplicas": 20}}


def test_filters_chain_from_scope_to_differences():
    scope = FILTERS["rollback_scope"]("svc", "")
    snapshot = FILTERS["rollback_snapshot"]([HPA], scope)
    assert snapshot == [{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "svc"},
                         "spec": {"minReplicas": 4, "maxReplicas": 20}}]
    raised = {**HPA, "spec": {"minReplicas": 10, "maxReplicas": 20}}
    assert FILTERS["rollback_plan"](snapshot, [raised], scope)["summary"]["restore"] == ["HorizontalPodAutoscaler/svc"]
    assert FILTERS["rollback_differences"](snapshot, [raised], scope) == [
        "HorizontalPodAutoscaler/svc: spec.minReplicas (10, before the run 4)"]


@pytest.mark.parametrize(
    ("name", "args", "match"),
    [
        ("rollback_scope", (None,), "rollback_scope: expected the service name"),
        ("rollback_snapshot", ([HPA], "svc"), "rollback_snapshot: expected the rollback scope"),
        ("rollback_plan", ([], [{"kind": "Secret"}], [{"kind": "Secret", "name": "s"}]), "rollback_plan: expected a Kubernetes object"),
        ("rollback_differences", ([], 3, [{"kind": "Secret", "name": "s"}]), "rollback_differences: expected a list of objects"),
    ],
)
def test_errors_are_filter_errors(name, args, match):
    with pytest.raises(AnsibleFilterError, match=match):
        FILTERS[name](*args)
