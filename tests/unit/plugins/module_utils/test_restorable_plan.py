"""rollback_scope, rollback_snapshot, rollback_plan and rollback_differences: the rollback of everything
a run changed, at the production numbers of a failed week 4 (stable 4 -> 10 after the week's HPA min 10)."""

import copy
import json

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.restorable import (
    RestorableError,
    restorable_definition,
    rollback_differences,
    rollback_plan,
    rollback_scope,
    rollback_snapshot,
)

NS = "vextrus-production"
SCOPE = rollback_scope("finance-service")
SECRET_VALUE = "postgres://finance:s3cr3t-pa55@db:5432/finance"
SECRET_B64 = "cG9zdGdyZXM6Ly9maW5hbmNlOnMzY3IzdC1wYTU1QGRiOjU0MzIvZmluYW5jZQ=="
NEW_SECRET_B64 = "cG9zdGdyZXM6Ly9maW5hbmNlOm5ldy1wYTU1QGRiOjU0MzIvZmluYW5jZQ=="


def _obj(api_version, kind, name, **content):
    metadata = {"name": name, "namespace": NS, "uid": f"uid-{name}", "resourceVersion": "42",
                "managedFields": [{"manager": "vextrus-deploy"}], "labels": {"app.kubernetes.io/name": "finance-service"}}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **content, "status": {"observed": 1}}


def _hpa(low, high):
    return _obj("autoscaling/v2", "HorizontalPodAutoscaler", "finance-service", spec={
        "minReplicas": low, "maxReplicas": high,
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "finance-service-stable"}})


def _deployment(track, replicas, image):
    return _obj("apps/v1", "Deployment", f"finance-service-{track}", spec={
        "replicas": replicas, "template": {"spec": {"containers": [{"name": "finance", "image": image}]}}})


def _secret(data):
    return _obj("v1", "Secret", "finance-service-secrets", type="Opaque", data=data)


BEFORE = [
    _secret({"DATABASE_URL": SECRET_B64}),
    _obj("v1", "Secret", "finance-service-secrets-checksum-key", type="Opaque", data={"key": "a2V5"}),
    _hpa(4, 20),
    _deployment("stable", 4, "img@sha256:old"),
    _deployment("canary", 6, "img@sha256:new"),
    _obj("v1", "Service", "finance-service", spec={"clusterIP": "10.0.0.7", "clusterIPs": ["10.0.0.7"], "ports": [{"port": 80}]}),
    _obj("networking.k8s.io/v1", "NetworkPolicy", "finance-service", spec={"podSelector": {}}),
    _obj("v1", "ConfigMap", "finance-service-release", data={"record": "{}"}),
    _obj("coordination.k8s.io/v1", "Lease", "finance-service-rollout", spec={"holderIdentity": "user a"}),
]
SNAPSHOT = rollback_snapshot(BEFORE, SCOPE)


def _now(*changes, drop=(), add=()):
    """The objects after the failed run: BEFORE with the (kind, name) objects of ``changes`` replaced."""
    objects = {(o["kind"], o["metadata"]["name"]): copy.deepcopy(o) for o in BEFORE}
    for obj in changes:
        objects[(obj["kind"], obj["metadata"]["name"])] = obj
    for key in drop:
        del objects[key]
    return list(objects.values()) + list(add)


PDB = _obj("policy/v1", "PodDisruptionBudget", "finance-service", spec={"minAvailable": 3})
CANARY_HPA = _obj("autoscaling/v2", "HorizontalPodAutoscaler", "finance-service-canary", spec={
    "minReplicas": 6, "maxReplicas": 15,
    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "finance-service-canary"}})


def test_scope_lists_the_services_objects_in_restore_order_and_leaves_the_bookkeeping():
    labels = [f"{item['kind']}/{item['name']}" for item in SCOPE]
    assert labels == [
        "Secret/finance-service-secrets", "HorizontalPodAutoscaler/finance-service", "HorizontalPodAutoscaler/finance-service-canary",
        "Deployment/finance-service-stable",
        "Deployment/finance-service-canary", "Service/finance-service", "PodDisruptionBudget/finance-service",
        "NetworkPolicy/finance-service", "PrometheusRule/finance-service",
    ]
    assert rollback_scope("svc", "custom")[0] == {"apiVersion": "v1", "kind": "Secret", "name": "custom"}


def test_snapshot_keeps_the_scope_only_without_server_fields():
    assert [f"{o['kind']}/{o['metadata']['name']}" for o in SNAPSHOT] == [
        "Secret/finance-service-secrets", "HorizontalPodAutoscaler/finance-service", "Deployment/finance-service-stable",
        "Deployment/finance-service-canary", "Service/finance-service", "NetworkPolicy/finance-service",
    ]
    assert SNAPSHOT[0] == {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "data": {"DATABASE_URL": SECRET_B64},
                           "metadata": {"name": "finance-service-secrets", "namespace": NS,
                                        "labels": {"app.kubernetes.io/name": "finance-service"}}}
    assert SNAPSHOT[4]["spec"] == {"ports": [{"port": 80}]}, "a Service keeps the clusterIP the server allocated"


@pytest.mark.parametrize(
    ("now", "restore", "delete"),
    [
        pytest.param(_now(), [], [], id="nothing-changed"),
        pytest.param(_now(_hpa(10, 20), _deployment("stable", 10, "img@sha256:old")),
                     ["HorizontalPodAutoscaler/finance-service", "Deployment/finance-service-stable"], [],
                     id="week4-hpa-bounds-and-stable-restored"),
        pytest.param(_now(add=[PDB]), [], ["PodDisruptionBudget/finance-service"], id="pdb-created-by-the-run-deleted"),
        pytest.param(_now(add=[CANARY_HPA]), [], ["HorizontalPodAutoscaler/finance-service-canary"],
                     id="canary-hpa-created-by-the-run-deleted"),
        pytest.param(_now(_secret({"DATABASE_URL": NEW_SECRET_B64})), ["Secret/finance-service-secrets"], [],
                     id="secret-changed-restored"),
        pytest.param(_now(_secret({"DATABASE_URL": SECRET_B64, "EXTRA": "eA=="})), ["Secret/finance-service-secrets"], [],
                     id="secret-key-added-restored"),
        pytest.param(_now(drop=[("Deployment", "finance-service-canary")]), ["Deployment/finance-service-canary"], [],
                     id="deployment-removed-by-the-run-recreated"),
        pytest.param(_now(add=[_obj("monitoring.coreos.com/v1", "PrometheusRule", "finance-service", spec={}), PDB]),
                     [], ["PodDisruptionBudget/finance-service", "PrometheusRule/finance-service"], id="created-objects-deleted"),
        pytest.param(_now(_obj("v1", "Service", "finance-service", spec={"clusterIP": "10.0.0.7", "ports": [{"port": 8080}]})),
                     ["Service/finance-service"], [], id="service-port-restored"),
    ],
)
def test_plan(now, restore, delete):
    plan = rollback_plan(SNAPSHOT, now, SCOPE)
    assert plan["summary"]["restore"] == restore
    assert [f"{o['kind']}/{o['metadata']['name']}" for o in plan["restore"]] == restore
    assert plan["summary"]["delete"] == delete
    assert [f"{r['kind']}/{r['name']}" for r in plan["delete"]] == delete
    # every object of the snapshot is either restored or left, once
    in_snapshot = [f"{o['kind']}/{o['metadata']['name']}" for o in SNAPSHOT]
    assert sorted(plan["unchanged"] + [name for name in restore if name in in_snapshot]) == sorted(in_snapshot)


def test_restored_definitions_are_the_pre_run_state():
    plan = rollback_plan(SNAPSHOT, _now(_hpa(10, 20), _secret({"DATABASE_URL": NEW_SECRET_B64})), SCOPE)
    hpa = next(o for o in plan["restore"] if o["kind"] == "HorizontalPodAutoscaler")
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (4, 20)
    secret = next(o for o in plan["restore"] if o["kind"] == "Secret")
    assert secret["data"] == {"DATABASE_URL": SECRET_B64}
    assert "status" not in hpa and "uid" not in hpa["metadata"]


def test_first_run_failure_deletes_what_it_created_the_canary_first():
    created = _now(add=[PDB])
    plan = rollback_plan([], created, SCOPE)
    assert plan["restore"] == []
    assert [f"{r['kind']}/{r['name']}" for r in plan["delete"]] == [
        "Deployment/finance-service-stable", "Deployment/finance-service-canary", "HorizontalPodAutoscaler/finance-service",
        "PodDisruptionBudget/finance-service", "Service/finance-service", "NetworkPolicy/finance-service",
        "Secret/finance-service-secrets",
    ]
    assert plan["delete"][0] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "finance-service-stable"}


@pytest.mark.parametrize("changed", [
    _obj("v1", "ConfigMap", "finance-service-release", data={"record": '{"release": 9}'}),
    _obj("coordination.k8s.io/v1", "Lease", "finance-service-rollout", spec={"holderIdentity": "user b"}),
    _obj("v1", "Secret", "finance-service-secrets-checksum-key", type="Opaque", data={"key": "bmV3"}),
], ids=["record", "lease", "checksum-key"])
def test_bookkeeping_is_never_touched(changed):
    plan = rollback_plan(SNAPSHOT, _now(changed), SCOPE)
    touched = plan["summary"]["restore"] + plan["summary"]["delete"] + plan["summary"]["unchanged"]
    assert f"{changed['kind']}/{changed['metadata']['name']}" not in touched
    assert plan["restore"] == [] and plan["delete"] == []
    assert rollback_plan([], [changed], SCOPE)["delete"] == [], "not deleted either, even when absent before"


def test_secret_values_never_in_the_printable_summary():
    plan = rollback_plan(SNAPSHOT, _now(_secret({"DATABASE_URL": NEW_SECRET_B64})), SCOPE)
    printed = json.dumps(plan["summary"])
    assert "Secret/finance-service-secrets" in printed
    for value in (SECRET_VALUE, SECRET_B64, NEW_SECRET_B64, "s3cr3t-pa55", "DATABASE_URL"):
        assert value not in printed
    assert plan["summary"]["text"] == "restored Secret/finance-service-secrets; nothing removed"


@pytest.mark.parametrize(
    ("live", "expected"),
    [
        pytest.param(_now(), [], id="restored"),
        pytest.param(_now(_hpa(10, 20)), ["HorizontalPodAutoscaler/finance-service: spec.minReplicas (10, before the run 4)"],
                     id="hpa-bounds-left"),
        pytest.param(_now(add=[PDB]), ["PodDisruptionBudget/finance-service: exists (it did not before the run)"], id="pdb-left"),
        pytest.param(_now(drop=[("Deployment", "finance-service-canary")]),
                     ["Deployment/finance-service-canary: missing (it existed before the run)"], id="canary-gone"),
        pytest.param(_now(_secret({"DATABASE_URL": NEW_SECRET_B64, "EXTRA": "eA=="})),
                     ["Secret/finance-service-secrets: data.DATABASE_URL, data.EXTRA (added by the run)"], id="secret-by-key"),
        pytest.param(_now(_deployment("stable", 7, "img@sha256:old")), [], id="replicas-within-the-hpa-bounds"),
        pytest.param(_now(_deployment("stable", 3, "img@sha256:old")),
                     ["Deployment/finance-service-stable: spec.replicas (3, before the run 4)"], id="replicas-below-the-hpa-min"),
        pytest.param(_now(_deployment("canary", 7, "img@sha256:new")),
                     ["Deployment/finance-service-canary: spec.replicas (7, before the run 6)"], id="canary-not-scaled-by-the-hpa"),
        pytest.param(_now(_deployment("stable", 7, "img@sha256:bad")),
                     ["Deployment/finance-service-stable: spec.replicas (7, before the run 4), "
                      "spec.template.spec.containers"], id="image-and-replicas"),
        pytest.param(_now({**_hpa(4, 20), "metadata": {**_hpa(4, 20)["metadata"], "labels": {"week": "4"}}}),
                     ["HorizontalPodAutoscaler/finance-service: metadata.labels.app.kubernetes.io/name (removed by the run), "
                      "metadata.labels.week (added by the run)"], id="labels"),
        pytest.param(_now(_obj("coordination.k8s.io/v1", "Lease", "finance-service-rollout", spec={})), [], id="lease-ignored"),
    ],
)
def test_differences(live, expected):
    assert rollback_differences(SNAPSHOT, live, SCOPE) == expected


def test_differences_never_show_a_secret_value():
    live = _now({**_secret({"DATABASE_URL": NEW_SECRET_B64}),
                 "metadata": {**_secret({})["metadata"], "annotations": {"vextrus.io/checksum": "hmac-of-the-value"}}})
    text = " ".join(rollback_differences(SNAPSHOT, live, SCOPE))
    assert "Secret/finance-service-secrets" in text and "data.DATABASE_URL" in text
    for value in (SECRET_B64, NEW_SECRET_B64, SECRET_VALUE, "hmac-of-the-value"):
        assert value not in text


def test_server_annotations_are_not_differences():
    stable = _deployment("stable", 4, "img@sha256:old")
    stable["metadata"]["annotations"] = {"deployment.kubernetes.io/revision": "9"}
    assert rollback_differences(SNAPSHOT, _now(stable), SCOPE) == []
    assert restorable_definition(stable)["metadata"].get("annotations") is None


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: rollback_scope(""), "service name"),
        (lambda: rollback_plan(SNAPSHOT, {"kind": "Deployment"}, SCOPE), "list of objects"),
        (lambda: rollback_plan(SNAPSHOT, [{"kind": "Deployment", "metadata": {}}], SCOPE), "kind and metadata.name"),
        (lambda: rollback_differences(SNAPSHOT, [], "finance-service"), "rollback scope"),
        (lambda: rollback_snapshot(BEFORE, [{"kind": "Secret"}]), "scope item"),
    ],
    ids=["empty-service", "mapping-not-list", "object-without-name", "scope-not-list", "scope-item-without-name"],
)
def test_rejects_bad_inputs(call, match):
    with pytest.raises(RestorableError, match=match):
        call()
