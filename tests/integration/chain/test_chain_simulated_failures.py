"""Each failure mode the simulated nodes play (annotation localcluster.vextrus.io/simulate) fails the
week with its own reason, long before the gate's default timeout (300 s); the failed first install
is rolled back (nothing left running), the play exits non-zero and the report says FAIL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from kubernetes import client

from chainkit import KWOK_NODES, SIMULATED_REASONS, deployments_in, run_week

DEFAULT_GATE_TIMEOUT = 300
NOT_READY_TIMEOUT = 20


@pytest.mark.parametrize("mode", ["crashloop", "imagepull", "oom", "not-ready"])
def test_simulated_failure_fails_the_week_with_its_reason(
    mode: str,
    good_image: str,
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    ns = new_namespace(mode)
    extra = {
        **KWOK_NODES,
        "deploy_pod_annotations": {"localcluster.vextrus.io/simulate": mode},
        "rollout_image": good_image,
    }
    if mode == "not-ready":
        extra["rollout_gate_timeout"] = NOT_READY_TIMEOUT
    run = run_week(1, ns, tmp_path / "report", chain_vault, extra)

    # the release is at fault: FAIL, exit code 2
    assert run.rc == 2, run.tail()
    assert "Week 1 FAILED" in run.last_lines(30), run.tail()
    report = run.report
    assert report is not None, run.tail()
    assert report["verdict"] == "FAIL", report
    assert report["cause"] == {"crashloop": "crash", "imagepull": "image-pull", "oom": "oom", "not-ready": "not-ready"}[mode]
    gate = report["gate"]
    assert gate["ran"] and not gate["passed"], gate
    assert gate["reason"] in SIMULATED_REASONS[mode], f"{mode}: {gate}"
    assert gate["reason"] in report["reason"]
    assert gate["reason"] in run.last_lines(30), run.tail()
    elapsed = float(gate["elapsed"])
    print(f"{mode}: gate verdict {gate['reason']} after {elapsed:.1f} s (play {run.seconds:.0f} s)")
    if mode == "not-ready":
        # nothing crashes: only the time budget can end it, and it does at the budget
        assert NOT_READY_TIMEOUT <= elapsed < NOT_READY_TIMEOUT + 15, gate
        assert "ready" in gate["msg"], gate
    else:
        # the evidence is on the pod: the verdict comes within seconds, not at a timeout
        assert elapsed < 60, gate
        assert gate["pod"] and gate["container"] == "finance-service", gate
    if mode == "oom":
        assert gate["exit_code"] == 137, gate
    if mode == "crashloop":
        assert gate["exit_code"] == 1, gate
    assert elapsed < DEFAULT_GATE_TIMEOUT / 4
    # nothing after the verdict waits for the gate's budget either (the failed container's log comes
    # through a node that may not answer: a simulated one here)
    assert run.seconds < DEFAULT_GATE_TIMEOUT, f"{mode}: the play took {run.seconds:.0f} s"

    # a failed first install leaves nothing behind: the rollback removed both Deployments
    rollback = report["rollback"]
    assert rollback["ran"], rollback
    assert sorted(rollback["removed"]) == ["finance-service-canary", "finance-service-stable"], rollback
    assert deployments_in(k8s_client, ns) == []
