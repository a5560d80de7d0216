"""A second run changes nothing; --check --diff shows the next week's changes and writes nothing;
a replica count the HPA chose is kept on a re-run of the same week."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from rolekit import PlaybookRunner, fingerprints, profile


def test_second_run_is_unchanged_and_check_mode_writes_nothing(
    run_playbook: PlaybookRunner, role_namespace: str, k8s_client: client.ApiClient, tmp_path: Path
) -> None:
    week1 = profile(role_namespace, tmp_path, rollout_week=1)
    first = run_playbook(week1)
    assert first.rc == 0, first.output[-4000:]
    assert first.recap()["changed"] > 0

    second = run_playbook(week1)
    assert second.rc == 0, second.output[-4000:]
    assert second.recap()["changed"] == 0, f"second run changed something:\n{second.output[-4000:]}"

    before = fingerprints(k8s_client, role_namespace)
    week2 = profile(role_namespace, tmp_path, rollout_week=2, deploy_replicas=4, deploy_hpa_max=8)
    check = run_playbook(week2, "--check", "--diff")
    assert check.rc == 0, check.output[-4000:]
    assert check.recap()["changed"] > 0, "check mode reported no change for a new week"
    # the diff shows the new split (stable 1 -> 3 of 4 pods at 30 %: canary 1, stable 3)
    assert '"replicas": 3' in check.output or "replicas: 3" in check.output, check.output[-4000:]
    assert "vextrus.io/rollout-week" in check.output
    assert fingerprints(k8s_client, role_namespace) == before, "check mode wrote to the cluster"

    apps = client.AppsV1Api(k8s_client)
    assert apps.read_namespaced_deployment("finance-service-stable", role_namespace).spec.replicas == 1

    applied = run_playbook(week2)
    assert applied.rc == 0, applied.output[-4000:]
    assert apps.read_namespaced_deployment("finance-service-stable", role_namespace).spec.replicas == 3
    assert apps.read_namespaced_deployment("finance-service-canary", role_namespace).spec.replicas == 1
    again = run_playbook(week2)
    assert again.recap()["changed"] == 0, again.output[-4000:]

    # a count the autoscaler chose since (within its bounds, same split) survives a re-run
    apps.patch_namespaced_deployment_scale("finance-service-stable", role_namespace, {"spec": {"replicas": 5}})
    rerun = run_playbook(week2)
    assert rerun.rc == 0, rerun.output[-4000:]
    assert apps.read_namespaced_deployment("finance-service-stable", role_namespace).spec.replicas == 5
