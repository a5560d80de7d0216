"""Rollback of everything a run changed, at production numbers (10 replicas, HPA 10-25, PDB 70 %) on the
real node: week 3 serves the good digest; week 4 is forced with the seed's broken image, a changed secret,
a new PDB floor and HPA ceiling, and a NetworkPolicy someone deleted by hand (so the run creates it). The
gate fails on the crashing pods and the rollback brings every object of the service back to its spec
before the run - Secret, HPA, both Deployments, Service, PDB - and deletes the NetworkPolicy the run
created; the checksum key stays, the record says FAIL and the run's Lease is released.

The comparison here reads the API with the Kubernetes client and keeps each object's content (spec, or a
Secret's type and data), labels and annotations, minus what the API server itself sets; it does not use
the collection's own comparison."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from chainkit import CANARY, REAL_NODE, SECRET, SEED_ERROR, SERVICE, STABLE, run_week, track_state

PRODUCTION_NUMBERS = {
    "deploy_replicas": 10,
    "deploy_hpa_min": 10,
    "deploy_hpa_max": 25,
    "deploy_pdb_min_available": "70%",
}
# What the failed week 4 changes on top of the new image, each outside the Deployments.
WEEK4_CHANGES = {
    "deploy_secret_jwt": "week-4-rotated-jwt-secret-0123456789abcdef",
    "deploy_pdb_min_available": "80%",
    "deploy_hpa_max": 30,
}
SERVER_ANNOTATIONS = {"deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration"}
SERVER_SERVICE_FIELDS = {"clusterIP", "clusterIPs"}
LEASE = f"{SERVICE}-rollout"
CHECKSUM_KEY = f"{SECRET}-checksum-key"


def _read(call: Callable[[], Any]) -> Any | None:
    try:
        return call()
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _content(api: client.ApiClient, obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    raw = api.sanitize_for_serialization(obj)
    annotations = {k: v for k, v in (raw["metadata"].get("annotations") or {}).items() if k not in SERVER_ANNOTATIONS}
    content = {field: raw.get(field) for field in fields}
    if raw["kind"] == "Service":
        content["spec"] = {k: v for k, v in content["spec"].items() if k not in SERVER_SERVICE_FIELDS}
    return {"labels": raw["metadata"].get("labels") or {}, "annotations": annotations, **content}


def service_objects(api: client.ApiClient, ns: str) -> dict[str, Any]:
    """Every object of the service a run may change, by kind/name (None when absent)."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    autoscaling, policy = client.AutoscalingV2Api(api), client.PolicyV1Api(api)
    networking = client.NetworkingV1Api(api)
    reads: dict[str, tuple[Callable[[], Any], tuple[str, ...]]] = {
        f"Secret/{SECRET}": (lambda: core.read_namespaced_secret(SECRET, ns), ("type", "data", "immutable")),
        f"HorizontalPodAutoscaler/{SERVICE}": (
            lambda: autoscaling.read_namespaced_horizontal_pod_autoscaler(SERVICE, ns), ("spec",)),
        f"Deployment/{STABLE}": (lambda: apps.read_namespaced_deployment(STABLE, ns), ("spec",)),
        f"Deployment/{CANARY}": (lambda: apps.read_namespaced_deployment(CANARY, ns), ("spec",)),
        f"Service/{SERVICE}": (lambda: core.read_namespaced_service(SERVICE, ns), ("spec",)),
        f"PodDisruptionBudget/{SERVICE}": (
            lambda: policy.read_namespaced_pod_disruption_budget(SERVICE, ns), ("spec",)),
        f"NetworkPolicy/{SERVICE}": (lambda: networking.read_namespaced_network_policy(SERVICE, ns), ("spec",)),
    }
    state = {}
    for key, (read, fields) in reads.items():
        obj = _read(read)
        state[key] = None if obj is None else _content(api, obj, fields)
    return state


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [f"{key}:\n  before {before[key]}\n  after  {after.get(key)}" for key in before if before[key] != after.get(key)]


def test_failed_week4_at_production_numbers_restores_every_object_of_the_service(
    good_image: str,
    broken_image: str,
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    ns = new_namespace("rollback-all")
    production = {**REAL_NODE, **PRODUCTION_NUMBERS}
    # week 3 straight away (forced: the record has no week 2); 6 canary and 4 stable pods serve
    week3 = run_week(3, ns, tmp_path / "week3", chain_vault,
                     {**production, "rollout_image": good_image, "rollout_force": True})
    assert week3.rc == 0, week3.tail()
    assert week3.report is not None and week3.report["verdict"] == "PASS", week3.tail()

    networking = client.NetworkingV1Api(k8s_client)
    networking.delete_namespaced_network_policy(SERVICE, ns)
    before = service_objects(k8s_client, ns)
    assert before[f"NetworkPolicy/{SERVICE}"] is None
    assert all(before[key] is not None for key in before if not key.startswith("NetworkPolicy/")), before
    assert (before[f"Deployment/{STABLE}"]["spec"]["replicas"], before[f"Deployment/{CANARY}"]["spec"]["replicas"]) == (4, 6)
    hpa_before = before[f"HorizontalPodAutoscaler/{SERVICE}"]["spec"]
    key_before = client.CoreV1Api(k8s_client).read_namespaced_secret(CHECKSUM_KEY, ns).data
    pods_before = track_state(k8s_client, ns)

    week4 = run_week(4, ns, tmp_path / "week4", chain_vault,
                     {**production, **WEEK4_CHANGES, "rollout_image": broken_image, "rollout_force": True})

    # the release is at fault: FAIL, exit 2, and the rollback says it restored everything
    assert week4.rc == 2, week4.tail()
    last = week4.last_lines(30)
    assert "Week 4 FAILED" in last and "Cause: crash." in last, week4.tail()
    assert SEED_ERROR in last and "Rollback: restored" in last, week4.tail()
    report = week4.report
    assert report is not None, week4.tail()
    assert (report["verdict"], report["cause"]) == ("FAIL", "crash"), report
    rollback = report["rollback"]
    assert rollback["ran"] and rollback["healthy"], rollback

    # the run really changed what it is to restore (else the comparison below proves nothing) ...
    assert rollback["objects_removed"] == [f"NetworkPolicy/{SERVICE}"], rollback
    # (week 4 puts the candidate on stable at full size; the canary keeps week 3's pods until it passes)
    assert sorted(rollback["objects_restored"]) == sorted([
        f"Secret/{SECRET}", f"HorizontalPodAutoscaler/{SERVICE}", f"Deployment/{STABLE}", f"PodDisruptionBudget/{SERVICE}",
    ]), rollback
    assert rollback["verified"] and not rollback["differences"], rollback

    # ... and every object is as before the run: the created NetworkPolicy is gone, the rest has the spec,
    # the data, the labels and annotations it had
    after = service_objects(k8s_client, ns)
    assert not differences(before, after), "\n".join(differences(before, after))
    assert after[f"HorizontalPodAutoscaler/{SERVICE}"]["spec"] == hpa_before
    assert client.CoreV1Api(k8s_client).read_namespaced_secret(CHECKSUM_KEY, ns).data == key_before

    # the pods run the good digest again, at week 3's numbers
    pods_after = track_state(k8s_client, ns)
    assert pods_after == pods_before, f"after the rollback:\n{pods_after}\nafter week 3:\n{pods_before}"

    record = json.loads(client.CoreV1Api(k8s_client).read_namespaced_config_map(f"{SERVICE}-release", ns).data["release.json"])
    assert record["runs"][-1]["verdict"] == "FAIL" and record["runs"][-1]["week"] == 4, record["runs"][-1]
    assert _read(lambda: client.CoordinationV1Api(k8s_client).read_namespaced_lease(LEASE, ns)) is None, "the run's Lease is still held"
