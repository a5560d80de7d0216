"""Real failures on the real node: a crashing container, failing readiness and liveness probes."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable
from typing import Any

from realnodekit import ApplyPod, condition, container_status, pod_json, pod_when

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def _events(kubectl: Kubectl, namespace: str, pod: str) -> list[dict[str, Any]]:
    out = kubectl(
        "-n", namespace, "get", "events", "--field-selector", f"involvedObject.name={pod}", "-o", "json"
    ).stdout
    return json.loads(out)["items"]


def test_exit_1_reaches_crashloopbackoff_and_previous_logs_show_the_output(
    apply_pod: ApplyPod, test_image: str, namespace: str, kubectl: Kubectl, wait: Callable[..., Any]
) -> None:
    marker = f"crash-{uuid.uuid4().hex[:8]}"
    script = (
        f"console.log('{marker} starting');"
        "console.error(\"Error: Cannot find module '@nestjs/core'\");"
        "process.exit(1)"
    )
    apply_pod("crasher", test_image, command=["node", "-e", script])

    def in_backoff() -> dict[str, Any] | None:
        pod = pod_json(kubectl, namespace, "crasher")
        waiting = container_status(pod).get("state", {}).get("waiting") or {}
        return pod if waiting.get("reason") == "CrashLoopBackOff" else None

    first = wait(in_backoff, timeout=90, message="CrashLoopBackOff")
    first_count = container_status(first)["restartCount"]
    last = container_status(first)["lastState"]["terminated"]
    assert last["exitCode"] == 1 and last["reason"] == "Error", last
    assert (
        condition(first, "Ready") == "False"
    )  # while backing off (it may be Ready for an instant after a start)

    # the restart count keeps growing while the kubelet backs off (10 s, 20 s, ...)
    grown = wait(
        pod_when(
            kubectl, namespace, "crasher", lambda p: container_status(p).get("restartCount", 0) > first_count
        ),
        timeout=90,
        interval=1,
        message=f"restartCount above {first_count}",
    )
    assert container_status(grown)["restartCount"] >= 2

    def previous_logs() -> str | None:
        proc = kubectl("-n", namespace, "logs", "crasher", "--previous", check=False)
        return proc.stdout if proc.returncode == 0 and marker in proc.stdout else None

    previous = wait(previous_logs, timeout=20, interval=1, message="kubectl logs --previous with the output")
    assert f"{marker} starting" in previous
    assert "Cannot find module '@nestjs/core'" in previous
    reasons = {e["reason"] for e in _events(kubectl, namespace, "crasher")}
    assert "BackOff" in reasons, reasons


def test_failing_readiness_probe_keeps_the_pod_unready(
    apply_pod: ApplyPod, test_image: str, namespace: str, kubectl: Kubectl, wait: Callable[..., Any]
) -> None:
    probe = {"httpGet": {"path": "/not-there", "port": 8080}, "periodSeconds": 1, "failureThreshold": 1}
    apply_pod("unready", test_image, container={"readinessProbe": probe})

    running = wait(
        pod_when(kubectl, namespace, "unready", lambda p: "running" in container_status(p).get("state", {})),
        timeout=120,
        message="container running",
    )
    assert running["spec"]["nodeName"] == "real-node-0"
    # the server answers (the process is healthy), but the probe's path is a 404: never Ready
    deadline = time.monotonic() + 12
    while time.monotonic() < deadline:
        pod = pod_json(kubectl, namespace, "unready")
        status = container_status(pod)
        assert condition(pod, "Ready") == "False", pod["status"]["conditions"]
        assert status["ready"] is False and "running" in status["state"]
        time.sleep(1)
    assert container_status(pod)["restartCount"] == 0  # readiness never restarts
    messages = [
        e.get("message", "") for e in _events(kubectl, namespace, "unready") if e["reason"] == "Unhealthy"
    ]
    assert any("Readiness probe failed" in m and "404" in m for m in messages), messages


def test_failing_liveness_probe_restarts_the_container(
    apply_pod: ApplyPod, test_image: str, namespace: str, kubectl: Kubectl, wait: Callable[..., Any]
) -> None:
    probe = {
        "httpGet": {"path": "/not-there", "port": 8080},
        "initialDelaySeconds": 1,
        "periodSeconds": 2,
        "failureThreshold": 1,
    }
    apply_pod("unlive", test_image, container={"livenessProbe": probe})

    restarted = wait(
        pod_when(kubectl, namespace, "unlive", lambda p: container_status(p).get("restartCount", 0) >= 1),
        timeout=120,
        interval=1,
        message="a restart caused by the liveness probe",
    )
    last = container_status(restarted)["lastState"].get("terminated") or {}
    assert last, container_status(restarted)
    events = _events(kubectl, namespace, "unlive")
    messages = [e.get("message", "") for e in events if e["reason"] == "Unhealthy"]
    assert any("Liveness probe failed" in m and "404" in m for m in messages), messages
    killing = [e.get("message", "") for e in events if e["reason"] == "Killing"]
    assert any("failed liveness probe" in m for m in killing), killing
