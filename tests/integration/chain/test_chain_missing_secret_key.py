"""A key the pods need that the service's Secret does not hold ends in CreateContainerConfigError in
the report: caught before any workload is written when the key is one of resource_apply_secret_keys
(the Secret the run wrote is removed again by the rollback), and
by the rollout gate on the real node when an extra env entry references it (the kubelet's own error).
Either way the configuration is at fault, not the release: ERROR, exit code 4."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubernetes import client

from chainkit import REAL_NODE, SECRET, deployments_in, read_or_none, run_week

MISSING_KEY = "PAYMENT_GATEWAY_KEY"


def test_secret_key_missing_from_the_secret_stops_before_anything_is_written(
    good_image: str,
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    ns = new_namespace("nokey")
    run = run_week(
        1,
        ns,
        tmp_path / "report",
        chain_vault,
        {
            **REAL_NODE,
            "rollout_image": good_image,
            "resource_apply_secret_keys": ["JWT_SECRET", "DATABASE_URL", "EVENTSTORE_CONNECTION_STRING", MISSING_KEY],
        },
    )
    assert run.rc == 4, run.tail()
    last = run.last_lines(30)
    assert "Week 1 ERROR" in last and "CreateContainerConfigError" in last and MISSING_KEY in last, run.tail()
    report = run.report
    assert report is not None, run.tail()
    assert (report["verdict"], report["cause"]) == ("ERROR", "config")
    assert "CreateContainerConfigError" in report["reason"] and MISSING_KEY in report["reason"], report["reason"]
    assert report["gate"] == {"ran": False}
    # no workload was created, and the Secret this first run wrote (namespace_secrets ran) was removed
    # again by the rollback: nothing of the service is left
    assert read_or_none(lambda: client.CoreV1Api(k8s_client).read_namespaced_secret(SECRET, ns)) is None
    assert report["rollback"]["objects_removed"] == [f"Secret/{SECRET}"], report["rollback"]
    assert deployments_in(k8s_client, ns) == []


def test_secret_key_missing_from_the_secret_fails_the_gate_on_the_real_node(
    good_image: str,
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    ns = new_namespace("nokey-gate")
    run = run_week(
        1,
        ns,
        tmp_path / "report",
        chain_vault,
        {
            **REAL_NODE,
            "rollout_image": good_image,
            "resource_apply_env": [
                {"name": MISSING_KEY, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": MISSING_KEY}}}
            ],
        },
    )
    assert run.rc == 4, run.tail()
    assert "Week 1 ERROR" in run.last_lines(30) and "CreateContainerConfigError" in run.last_lines(30), run.tail()
    report = run.report
    assert report is not None, run.tail()
    assert (report["verdict"], report["cause"]) == ("ERROR", "secrets")
    gate = report["gate"]
    assert gate["ran"] and not gate["passed"], gate
    assert gate["reason"] == "CreateContainerConfigError", gate
    assert MISSING_KEY in gate["message"], gate
    assert float(gate["elapsed"]) < 60, gate
    assert "CreateContainerConfigError" in report["reason"]
    assert report["rollback"]["ran"], report["rollback"]
    assert deployments_in(k8s_client, ns) == []
