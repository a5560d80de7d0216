"""Several objects read in one go: their API paths, k8s_info's resources for each answer (a 404 reads
as no object, the items of a list get their kind back), and refs that cannot be read refused."""

from __future__ import annotations

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.read_objects import (
    Forbidden,
    ObjectRef,
    ReadObjectsError,
    parse_refs,
    path,
    plural,
    read_objects,
)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("Deployment", "deployments"),
        ("NetworkPolicy", "networkpolicies"),
        ("PodDisruptionBudget", "poddisruptionbudgets"),
        ("HorizontalPodAutoscaler", "horizontalpodautoscalers"),
        ("Ingress", "ingresses"),
        ("Endpoints", "endpoints"),
        ("Gateway", "gateways"),
        ("Policy", "policies"),
    ],
)
def test_plural(kind, expected):
    assert plural(kind) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"api_version": "v1", "kind": "ConfigMap", "name": "rec"}, "/api/v1/namespaces/ns/configmaps/rec"),
        ({"api_version": "apps/v1", "kind": "Deployment"}, "/apis/apps/v1/namespaces/ns/deployments"),
        ({"api_version": "v1", "kind": "Secret", "name": "s", "namespace": "other"}, "/api/v1/namespaces/other/secrets/s"),
        ({"api_version": "v1", "kind": "Namespace", "name": "ns"}, "/api/v1/namespaces/ns"),
        ({"api_version": "monitoring.coreos.com/v1", "kind": "PrometheusRule", "name": "svc"},
         "/apis/monitoring.coreos.com/v1/namespaces/ns/prometheusrules/svc"),
        ({"api_version": "example.com/v1", "kind": "Thing", "name": "t", "plural": "thingies"},
         "/apis/example.com/v1/namespaces/ns/thingies/t"),
    ],
)
def test_path(raw, expected):
    (ref,) = parse_refs([raw], "ns")
    assert path(ref) == expected


@pytest.mark.parametrize(
    ("raw", "namespace", "message"),
    [
        ([{"kind": "Secret", "name": "s"}], "ns", "object 1 to read needs api_version and kind"),
        ([{"api_version": "v1", "kind": "Secret"}, "Secret"], "ns", "object 2 to read needs api_version and kind"),
        ([{"api_version": "v1", "kind": "Secret", "name": "s"}], "", r"object 1 to read \(Secret s\) needs a namespace"),
    ],
)
def test_refs_that_cannot_be_read_are_refused(raw, namespace, message):
    with pytest.raises(ReadObjectsError, match=message):
        parse_refs(raw, namespace)


RECORD = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rec"}, "data": {"release.json": "{}"}}
DEPLOYMENTS = {"kind": "DeploymentList", "items": [{"metadata": {"name": "svc-stable"}}, {"metadata": {"name": "svc-canary"}}]}


def test_each_ref_gets_what_k8s_info_returns():
    answers = {
        "/api/v1/namespaces/ns/configmaps/rec": RECORD,
        "/apis/apps/v1/namespaces/ns/deployments": DEPLOYMENTS,
    }
    asked = []

    def get(api_path, label):
        asked.append((api_path, label))
        return answers.get(api_path)  # anything else: 404

    refs = parse_refs([
        {"api_version": "v1", "kind": "ConfigMap", "name": "rec"},
        {"api_version": "apps/v1", "kind": "Deployment"},
        {"api_version": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "name": "svc"},
    ], "ns")
    results = read_objects(refs, get)
    assert [r["resources"] for r in results] == [
        [RECORD],
        [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "svc-stable"}},
         {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "svc-canary"}}],
        [],
    ]
    assert [(r["kind"], r["name"], r["namespace"]) for r in results] == [
        ("ConfigMap", "rec", "ns"), ("Deployment", "", "ns"), ("HorizontalPodAutoscaler", "svc", "ns")]
    assert [label for _path, label in asked] == [
        "ConfigMap ns/rec", "every Deployment in ns", "HorizontalPodAutoscaler ns/svc"]


def test_a_cluster_scoped_kind_takes_no_namespace():
    (ref,) = parse_refs([{"api_version": "v1", "kind": "Namespace", "name": "ns", "namespace": "x"}], "ns")
    assert ref == ObjectRef("v1", "Namespace", "ns", "")


SECRET = {
    "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
    "metadata": {"name": "s", "annotations": {"vextrus.io/checksum": "abc",
                                              "kubectl.kubernetes.io/last-applied-configuration": '{"data": {"JWT": "djE="}}'}},
    "data": {"JWT": "djE=", "DB": "djI="},
    "stringData": {"OTHER": "v3"},
}


@pytest.mark.parametrize("secret_values", [True, False])
def test_a_secret_without_its_values(secret_values):
    refs = parse_refs([{"api_version": "v1", "kind": "Secret", "name": "s"},
                       {"api_version": "v1", "kind": "ConfigMap", "name": "c"}], "ns")
    config_map = {"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"k": "v"}}
    answers = {"/api/v1/namespaces/ns/secrets/s": SECRET, "/api/v1/namespaces/ns/configmaps/c": config_map}
    (secret,), (other,) = (r["resources"] for r in read_objects(refs, lambda p, _label: answers[p], secret_values))
    assert other == config_map
    if secret_values:
        assert secret == SECRET
        return
    assert secret["data"] == {"JWT": "", "DB": ""} and "stringData" not in secret
    assert secret["metadata"]["annotations"] == {"vextrus.io/checksum": "abc"}
    assert "djE=" not in str(secret) and "v3" not in str(secret)
    assert SECRET["data"]["JWT"] == "djE=", "the answer itself is left as it is"


def test_a_refusal_reads_as_no_object_only_where_it_may():
    refs = parse_refs([{"api_version": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "name": "crd",
                        "ignore_forbidden": True},
                       {"api_version": "v1", "kind": "ConfigMap", "name": "rec"}], "ns")

    def get(api_path, label):
        if "customresourcedefinitions" in api_path:
            raise Forbidden(f"cannot read {label}: 403 Forbidden", 'customresourcedefinitions "crd" is forbidden')
        return RECORD

    crd, record = read_objects(refs, get)
    assert crd["resources"] == [] and crd["forbidden"] == 'customresourcedefinitions "crd" is forbidden'
    assert record["resources"] == [RECORD] and record["forbidden"] == ""

    def refuse(_api_path, label):
        raise Forbidden(f"cannot read {label}: 403 Forbidden")

    with pytest.raises(Forbidden, match=r"^cannot read ConfigMap ns/rec: 403 Forbidden$"):
        read_objects(refs, refuse)
