"""The replicas between runs belong to the HPAs: the week's apply leaves spec.replicas out, track_replicas
writes only the counts the run plan changes, takes them over from an apply that alone owns them, and never
writes back a count an HPA chose after the plan read it (docs/run-plan.md, "Who writes the replicas")."""

from __future__ import annotations

import json
from pathlib import Path

from kubernetes import client

from rolekit import ROOT, PlaybookRunner, profile

STEP = ROOT / "tests" / "integration" / "roles" / "track_replicas_step.yml"
STABLE, CANARY = "finance-service-stable", "finance-service-canary"
APPLY = "vextrus-deploy"


def _owners(apps: client.AppsV1Api, namespace: str, name: str) -> set[str]:
    deployment = apps.read_namespaced_deployment(name, namespace)
    return {entry.manager for entry in deployment.metadata.managed_fields or []
            if "f:replicas" in ((entry.fields_v1 or {}).get("f:spec") or {})}


def _replicas(apps: client.AppsV1Api, namespace: str) -> tuple[int, int]:
    return tuple(apps.read_namespaced_deployment(name, namespace).spec.replicas for name in (STABLE, CANARY))


def test_replicas_are_written_apart_taken_over_and_decided_again_after_an_hpa_scale(
    run_playbook: PlaybookRunner, role_namespace: str, k8s_client: client.ApiClient, tmp_path: Path
) -> None:
    apps = client.AppsV1Api(k8s_client)
    week1 = run_playbook(profile(role_namespace, tmp_path, rollout_week=1))
    assert week1.rc == 0, week1.output[-4000:]
    assert _replicas(apps, role_namespace) == (1, 1)
    for name in (STABLE, CANARY):
        assert APPLY not in _owners(apps, role_namespace, name), f"the week's apply owns {name}'s replicas"

    week2 = profile(role_namespace, tmp_path, rollout_week=2, deploy_replicas=4, deploy_hpa_max=8)
    run = run_playbook(week2)
    assert run.rc == 0, run.output[-4000:]
    assert _replicas(apps, role_namespace) == (3, 1)
    assert _owners(apps, role_namespace, STABLE) == {f"{APPLY}-replicas"}

    # an apply that alone owns the replicas (an earlier version's, a rollback's restore): the next week
    # takes them over first, so the apply that leaves them out does not set them back to the default 1
    whole = k8s_client.sanitize_for_serialization(apps.read_namespaced_deployment(STABLE, role_namespace))
    whole.pop("status", None)
    whole["metadata"] = {"name": STABLE, "namespace": role_namespace, "labels": whole["metadata"].get("labels"),
                         "annotations": whole["metadata"].get("annotations")}
    whole["spec"]["replicas"] = 4
    apps.patch_namespaced_deployment(STABLE, role_namespace, whole, field_manager=APPLY, force=True,
                                     _content_type="application/apply-patch+yaml")
    assert _owners(apps, role_namespace, STABLE) == {APPLY}
    again = run_playbook(week2)
    assert again.rc == 0, again.output[-4000:]
    assert _replicas(apps, role_namespace) == (4, 1), "the 4 stable replicas (within the bounds, 1 of 5 canary) were not kept"
    assert APPLY not in _owners(apps, role_namespace, STABLE)
    assert f"{APPLY}-replicas" in _owners(apps, role_namespace, STABLE)
    assert run_playbook(week2).recap()["changed"] == 0, "the run after the take-over changed something"

    # week 3's plan reads stable 4 + canary 1 (split of 5 at 60 %: stable 2, canary 3); an HPA then scales
    # stable to 6 before the write: the counts are decided again on 7 pods, not written back to 5
    auto = client.AutoscalingV2Api(k8s_client)
    for hpa in auto.list_namespaced_horizontal_pod_autoscaler(role_namespace).items:
        auto.delete_namespaced_horizontal_pod_autoscaler(hpa.metadata.name, role_namespace)  # nothing else scales
    result_file = tmp_path / "track.json"
    inputs = {"service": "finance-service", "replicas": 4, "hpa_min": 2, "hpa_max": 8, "week": 3, "force": True,
              "weights": {1: 10, 2: 30, 3: 60, 4: 100}, "image": week2["rollout_image"]}
    step = run_playbook({"track_namespace": role_namespace, "track_inputs": inputs, "race_scale_to": 6,
                         "track_result_file": str(result_file)}, playbook=STEP)
    assert step.rc == 0, step.output[-4000:]
    result = json.loads(result_file.read_text())
    plan, written = result["plan"], result["written"]
    assert (plan["stable"]["replicas"], plan["canary"]["replicas"]) == (2, 3), plan
    assert plan["basis"]["stable"]["replicas"] == 4
    assert written["decided_again"] is True, written
    assert [(t["name"], t["before"], t["after"]) for t in written["tracks"]] == [(STABLE, 6, 3), (CANARY, 1, 4)]
    assert _replicas(apps, role_namespace) == (3, 4), "the HPA's 7 pods were not kept in week 3's split"

    # the plan as read, no scale in between: the plan's counts, written once
    step = run_playbook({"track_namespace": role_namespace, "track_inputs": {**inputs, "week": 2},
                         "track_result_file": str(result_file)}, playbook=STEP)
    assert step.rc == 0, step.output[-4000:]
    written = json.loads(result_file.read_text())["written"]
    assert written["decided_again"] is False and written["changed"] is True, written
    assert _replicas(apps, role_namespace) == (5, 2), "week 2's split of 7 pods (30 %: canary 2) was not written"

    # stable at 1 (as its HPA may leave it at week 3's minimum); week 4's plan reads stable 1 + canary 2 and gives
    # stable the service's minimum 4 (HPA 4-8). Stable's HPA then lifts 1 to that new minimum before the write, as
    # it does when it syncs right after the apply: that is the plan's own count, not a load that asks for 4 + 2
    # pods, so nothing is decided again
    apps.patch_namespaced_deployment_scale(STABLE, role_namespace, {"spec": {"replicas": 1}})
    step = run_playbook({"track_namespace": role_namespace, "race_scale_to": 4, "track_result_file": str(result_file),
                         "track_inputs": {**inputs, "week": 4, "hpa_min": 4}}, playbook=STEP)
    assert step.rc == 0, step.output[-4000:]
    result = json.loads(result_file.read_text())
    plan, written = result["plan"], result["written"]
    assert (plan["stable"]["replicas"], plan["hpa"]["min"], plan["basis"]["stable"]["replicas"]) == (4, 4, 1), plan
    assert written["decided_again"] is False, written
    assert _replicas(apps, role_namespace) == (4, 2), "stable's new minimum was taken for a scale and decided again"
