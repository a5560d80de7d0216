"""Bad input stops playbooks/apply.yml with one clear message before anything is written.

Each case runs the real playbook against the local cluster with a namespace of its own (a random
suffix keeps other runs on the cluster out of it) that does not exist beforehand, and checks: a non-zero exit, exactly one failed task, the message, and that
the namespace (and so every object of the roles) was never created.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from clusterkit import unique_name
from rolekit import PlaybookRunner, namespace_exists, profile

HPA_TYPE_POD = [
    {
        "type": "Pod",
        "pods": {
            "metric": {"name": "http_requests_per_second"},
            "target": {"type": "AverageValue", "averageValue": "100"},
        },
    }
]

CASES: list[tuple[str, dict[str, Any], str]] = [
    ("week-0", {"rollout_week": 0}, "rollout_week must be one of 1, 2, 3, 4, got 0"),
    ("week-5", {"rollout_week": 5}, "rollout_week must be one of 1, 2, 3, 4, got 5"),
    ("week-abc", {"rollout_week": "abc"}, "rollout_week must be one of 1, 2, 3, 4, got 'abc'"),
    (
        "weight-above-100",
        {"rollout_weights": {"1": 10, "2": 30, "3": 60, "4": 120}},
        "weight of week 4 must be between 0 and 100 (percent), got 120",
    ),
    (
        "weight-negative",
        {"rollout_weights": {"1": -10, "2": 30, "3": 60, "4": 100}},
        "weight of week 1 must be between 0 and 100 (percent), got -10",
    ),
    (
        "weights-descending",
        {"rollout_weights": {"1": 30, "2": 10, "3": 60, "4": 100}},
        "weights must increase strictly week by week, but week 2 has 10 % after 30 % in week 1",
    ),
    (
        "missing-secret",
        {"deploy_local_vault_file": "", "deploy_local_vault_password_file": ""},
        "Missing required secret value(s): namespace_secrets_jwt_secret (inventory deploy_secret_jwt), "
        "namespace_secrets_database_url (inventory deploy_secret_database_url), "
        "namespace_secrets_eventstore_url (inventory deploy_secret_eventstore_url)",
    ),
    (
        "replicas-below-pdb",
        {"deploy_replicas": 5, "deploy_hpa_min": 2, "deploy_hpa_max": 10, "deploy_pdb_min_available": 7},
        "PodDisruptionBudget finance-service: spec.minAvailable 7 is at or above the 5 replicas",
    ),
    (
        "hpa-type-pod",
        {"deploy_hpa_metrics": HPA_TYPE_POD},
        "HorizontalPodAutoscaler finance-service: spec.metrics[0].type is 'Pod', which autoscaling/v2 "
        "does not accept; did you mean 'Pods'?",
    ),
    (
        "tag-where-digest-required",
        {"deploy_require_digest": True, "rollout_image": "127.0.0.1:5000/vextrus/finance:latest"},
        "uses image '127.0.0.1:5000/vextrus/finance:latest', which is not pinned by digest",
    ),
]


@pytest.mark.parametrize(("case", "overrides", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_fails_clearly_and_writes_nothing(
    case: str,
    overrides: dict[str, Any],
    message: str,
    run_playbook: PlaybookRunner,
    k8s_client: client.ApiClient,
    tmp_path: Path,
) -> None:
    namespace = unique_name(f"vx-bad-{case}")
    assert not namespace_exists(k8s_client, namespace), f"leftover namespace {namespace}"
    run = run_playbook(profile(namespace, tmp_path, **overrides))

    assert run.rc != 0, f"{case}: the playbook succeeded:\n{run.output[-3000:]}"
    assert run.recap()["failed"] == 1, f"{case}: expected exactly one failed task:\n{run.output[-3000:]}"
    assert message in run.flat, f"{case}: message not found:\n{run.output[-3000:]}"
    assert "Nothing was written" in run.flat or "nothing was applied" in run.flat
    assert not namespace_exists(k8s_client, namespace), f"{case}: namespace {namespace} was created"
    assert not (tmp_path / "vault").exists(), f"{case}: local vault files were written"


def test_a_local_vault_file_without_its_password_file_is_refused(
    run_playbook: PlaybookRunner, k8s_client: client.ApiClient, tmp_path: Path
) -> None:
    """A vault file whose password file is gone is not read with a new password: the role refuses,
    before anything is written, and makes no password file."""
    namespace = unique_name("vx-bad-vault-password")
    given = tmp_path / "given"
    given.mkdir()
    vault_file, password_file = given / "local.yml", given / "password"
    vault_file.write_text("$ANSIBLE_VAULT;1.1;AES256\n6162636465660a\n")
    run = run_playbook(profile(namespace, tmp_path, deploy_local_vault_file=str(vault_file),
                               deploy_local_vault_password_file=str(password_file)))

    assert run.rc != 0, run.output[-3000:]
    assert run.recap()["failed"] == 1, run.output[-3000:]
    assert f"{vault_file} exists but its password file {password_file} is missing" in run.flat, run.output[-3000:]
    assert not password_file.exists(), "a new password file was written"
    assert not namespace_exists(k8s_client, namespace), f"namespace {namespace} was created"
