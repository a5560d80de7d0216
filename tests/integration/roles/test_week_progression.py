"""Weeks 1 to 4 with the production profile's numbers: the split, each track's HPA bounds and the PDB
follow the week, the stable track keeps the old image until 100 %, then takes the new one and the canary
is removed with its HPA."""

from __future__ import annotations

from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from rolekit import DIGEST_A, DIGEST_B, PlaybookRunner, profile

PRODUCTION_NUMBERS = {
    "deploy_replicas": 10,
    "deploy_hpa_min": 10,
    "deploy_hpa_max": 25,
    "deploy_pdb_min_available": "70%",
    "deploy_require_digest": True,
}
# week -> (stable, canary, stable HPA, canary HPA): canary = max(1, round-half-up(10 * w / 100)); each HPA's
# bounds are the week's split of 10..25 (25 at 10 %: 2.5 -> 3 canary pods; at 30 %: 7.5 -> 8; at 60 %: 15)
EXPECTED = {1: (9, 1, (9, 22), (1, 3)), 2: (7, 3, (7, 17), (3, 8)), 3: (4, 6, (4, 10), (6, 15)), 4: (10, 0, (10, 25), None)}


def _image(apps: client.AppsV1Api, name: str, namespace: str) -> str:
    return apps.read_namespaced_deployment(name, namespace).spec.template.spec.containers[0].image


def test_weeks_one_to_four_with_production_numbers(
    run_playbook: PlaybookRunner, role_namespace: str, k8s_client: client.ApiClient, tmp_path: Path
) -> None:
    apps = client.AppsV1Api(k8s_client)
    hpa_api = client.AutoscalingV2Api(k8s_client)
    pdb_api = client.PolicyV1Api(k8s_client)

    # the release before: everything on image A
    base = run_playbook(profile(role_namespace, tmp_path, rollout_week=4, rollout_image=DIGEST_A, **PRODUCTION_NUMBERS))
    assert base.rc == 0, base.output[-4000:]
    assert _image(apps, "finance-service-stable", role_namespace) == DIGEST_A

    for week, (stable, canary, bounds, canary_bounds) in EXPECTED.items():
        run = run_playbook(profile(role_namespace, tmp_path, rollout_week=week, rollout_image=DIGEST_B, **PRODUCTION_NUMBERS))
        assert run.rc == 0, f"week {week}:\n{run.output[-4000:]}"

        stable_dep = apps.read_namespaced_deployment("finance-service-stable", role_namespace)
        assert stable_dep.spec.replicas == stable, f"week {week}"
        assert stable_dep.metadata.annotations["vextrus.io/rollout-week"] == str(week)
        assert _image(apps, "finance-service-stable", role_namespace) == (DIGEST_B if week == 4 else DIGEST_A)
        if canary:
            canary_dep = apps.read_namespaced_deployment("finance-service-canary", role_namespace)
            assert canary_dep.spec.replicas == canary, f"week {week}"
            assert _image(apps, "finance-service-canary", role_namespace) == DIGEST_B
        else:
            with pytest.raises(ApiException) as gone:
                apps.read_namespaced_deployment("finance-service-canary", role_namespace)
            assert gone.value.status == 404, "the canary must be removed at 100 %"

        hpa = hpa_api.read_namespaced_horizontal_pod_autoscaler("finance-service", role_namespace)
        assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == bounds, f"week {week}"
        assert hpa.spec.scale_target_ref.name == "finance-service-stable"
        hpas = {h.metadata.name: h for h in hpa_api.list_namespaced_horizontal_pod_autoscaler(role_namespace).items}
        if canary_bounds:
            canary_hpa = hpas["finance-service-canary"]
            assert (canary_hpa.spec.min_replicas, canary_hpa.spec.max_replicas) == canary_bounds, f"week {week}"
            assert canary_hpa.spec.scale_target_ref.name == "finance-service-canary"
        else:
            assert "finance-service-canary" not in hpas, "the canary's HPA goes with the canary at 100 %"
        pdb = pdb_api.read_namespaced_pod_disruption_budget("finance-service", role_namespace)
        assert pdb.spec.min_available == "70%"
