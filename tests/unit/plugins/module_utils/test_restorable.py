import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.restorable import RestorableError, restorable_definition

LIVE = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {
        "name": "finance-service-stable",
        "namespace": "vextrus-local",
        "uid": "0b6c",
        "resourceVersion": "811",
        "generation": 4,
        "creationTimestamp": "2026-11-26T08:00:00Z",
        "managedFields": [{"manager": "vextrus-deploy"}],
        "labels": {"app.kubernetes.io/name": "finance-service"},
        "annotations": {"deployment.kubernetes.io/revision": "3", "vextrus.io/week": "2"},
    },
    "spec": {"replicas": 7, "template": {"spec": {"containers": [{"name": "finance", "image": "img@sha256:1"}]}}},
    "status": {"replicas": 7, "readyReplicas": 7},
}


def test_keeps_what_a_user_sets_and_drops_the_rest():
    definition = restorable_definition(LIVE)
    assert definition == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "finance-service-stable",
            "namespace": "vextrus-local",
            "labels": {"app.kubernetes.io/name": "finance-service"},
            "annotations": {"vextrus.io/week": "2"},
        },
        "spec": LIVE["spec"],
    }
    definition["spec"]["replicas"] = 1
    definition["spec"]["template"]["spec"]["containers"][0]["image"] = "other"
    definition["metadata"]["labels"]["added"] = "x"
    assert LIVE["spec"]["replicas"] == 7, "the input must not be modified"
    assert LIVE["spec"]["template"]["spec"]["containers"][0]["image"] == "img@sha256:1"
    assert "added" not in LIVE["metadata"]["labels"]


def test_only_server_annotations_leaves_none():
    live = {**LIVE, "metadata": {**LIVE["metadata"], "annotations": {"deployment.kubernetes.io/revision": "1"}}}
    assert "annotations" not in restorable_definition(live)["metadata"]


@pytest.mark.parametrize("obj", [None, {}, {"kind": "Deployment", "metadata": {}}, "text"])
def test_rejects_non_objects(obj):
    with pytest.raises(RestorableError, match="kind and metadata.name"):
        restorable_definition(obj)
