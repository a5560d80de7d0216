"""Rollback of everything a run changed, at production numbers (10 replicas, HPA 10-25, PDB 70 %) on the
real node: week 3 serves the good digest; week 4 is forced with the seed's broken image, a changed secret,
a new PDB floor and HPA ceiling, and a NetworkPolicy someone deleted by hand (so the run creates it). The
gate fails on the crashing pods and the rollback brings every object of the service back to its spec
before the run - Secret, HPA, both Deployments, Service, PDB - and deletes the NetworkPolicy the run
created; the checksum key stays, the record says FAIL and the run's Lease is released.

The comparison (chainkit.service_objects) reads the API with the Kubernetes client; it does not use the
collection's own comparison."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubernetes import client

from chainkit import (
    CANARY,
    REAL_NODE,
    SECRET,
    SEED_ERROR,
    SERVICE,
    STABLE,
    differences,
    read_or_none,
    release_record,
    run_week,
    service_objects,
    track_state,
)

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
LEASE = f"{SERVICE}-rollout"
CHECKSUM_KEY = f"{SECRET}-checksum-key"


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

    record = release_record(k8s_client, ns)
    assert record["runs"][-1]["verdict"] == "FAIL" and record["runs"][-1]["week"] == 4, record["runs"][-1]
    assert read_or_none(lambda: client.CoordinationV1Api(k8s_client).read_namespaced_lease(LEASE, ns)) is None, "the run's Lease is still held"
