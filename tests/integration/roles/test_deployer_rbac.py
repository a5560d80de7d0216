"""The deployer Role is enough for resource_apply, and no more than the namespace needs."""

from __future__ import annotations

from pathlib import Path

from kubernetes import client

from rolekit import ROOT, PlaybookRunner, deployer_kubeconfig, profile


def test_resource_apply_runs_as_the_deployer(
    run_playbook: PlaybookRunner,
    role_namespace: str,
    k8s_client: client.ApiClient,
    cluster_ca: Path,
    tmp_path: Path,
) -> None:
    # the namespace, RBAC and secrets need an admin once
    setup = run_playbook(profile(role_namespace, tmp_path, rollout_week=1))
    assert setup.rc == 0, setup.output[-4000:]

    kubeconfig = deployer_kubeconfig(k8s_client, role_namespace, cluster_ca, tmp_path / "deployer.kubeconfig")
    playbook = ROOT / "tests" / "integration" / "roles" / "resource_apply_only.yml"
    for week in (2, 4):
        run = run_playbook(
            profile(role_namespace, tmp_path, rollout_week=week, deploy_kubeconfig=str(kubeconfig)),
            playbook=playbook,
        )
        assert run.rc == 0, f"week {week} as the deployer:\n{run.output[-4000:]}"
    apps = client.AppsV1Api(k8s_client)
    assert apps.read_namespaced_deployment("finance-service-stable", role_namespace).spec.replicas == 2
    names = [d.metadata.name for d in apps.list_namespaced_deployment(role_namespace).items]
    assert names == ["finance-service-stable"], "the deployer removed the canary at 100 %"

    # and it cannot do what it does not need: read other secrets or touch RBAC
    review = client.AuthorizationV1Api(k8s_client)
    user = f"system:serviceaccount:{role_namespace}:vextrus-deployer"
    for attributes, allowed in (
        ({"verb": "list", "resource": "secrets"}, False),
        ({"verb": "get", "resource": "secrets", "name": "another-secret"}, False),
        ({"verb": "update", "resource": "roles", "group": "rbac.authorization.k8s.io"}, False),
        ({"verb": "patch", "resource": "deployments", "group": "apps"}, True),
    ):
        answer = review.create_subject_access_review(
            {
                "spec": {
                    "user": user,
                    "groups": ["system:serviceaccounts", f"system:serviceaccounts:{role_namespace}", "system:authenticated"],
                    "resourceAttributes": {"namespace": role_namespace, **attributes},
                }
            }
        )
        assert answer.status.allowed is allowed, f"{attributes}: allowed={answer.status.allowed}"
