"""A healthy service that is slow to become ready (STARTUP_DELAY_MS: /health/ready answers 503 for
15 s after it listens) passes on the real node: the gate waits for readiness instead of failing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubernetes import client

from chainkit import REAL_NODE, SERVICE, live_pods, run_week

DELAY_MS = 15000


def test_slow_but_healthy_start_passes(
    good_image: str,
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    ns = new_namespace("slow")
    run = run_week(
        1,
        ns,
        tmp_path / "report",
        chain_vault,
        {
            **REAL_NODE,
            "rollout_image": good_image,
            "resource_apply_env": [{"name": "STARTUP_DELAY_MS", "value": str(DELAY_MS)}],
        },
    )
    assert run.rc == 0, run.tail()
    report = run.report
    assert report is not None and report["verdict"] == "PASS", run.tail()
    assert report["gate"]["passed"] and report["smoke"]["passed"], report

    # the pods really were slow: Ready came at least the delay after the container started
    for track in ("stable", "canary"):
        pods = live_pods(k8s_client, ns, track)
        assert pods, f"no {track} pod"
        for pod in pods:
            env = {e.name: e.value for e in pod.spec.containers[0].env or []}
            assert env.get("STARTUP_DELAY_MS") == str(DELAY_MS), env
            started = next(s for s in pod.status.container_statuses if s.name == SERVICE).state.running.started_at
            ready = next(c for c in pod.status.conditions if c.type == "Ready")
            assert ready.status == "True", pod.status.conditions
            assert (ready.last_transition_time - started).total_seconds() >= DELAY_MS / 1000, (
                f"{pod.metadata.name}: started {started}, ready {ready.last_transition_time}"
            )
