"""A real pod on the real node: image by digest from 127.0.0.1:5000, logs, exec, port-forward."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from typing import Any

from realnodekit import NODE_NAME, ApplyPod, PortForward, container_status, is_ready, local_get, pod_when

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def test_pod_by_digest_runs_with_logs_exec_and_port_forward(
    apply_pod: ApplyPod,
    test_image: str,
    namespace: str,
    kubectl: Kubectl,
    kubectl_argv: list[str],
    wait: Callable[..., Any],
) -> None:
    assert "@sha256:" in test_image and test_image.startswith("127.0.0.1:5000/")
    start = time.monotonic()
    apply_pod("web", test_image)
    pod = wait(
        pod_when(kubectl, namespace, "web", is_ready),
        timeout=120,
        message="pod web Ready on the real node",
    )
    print(f"\nkubectl apply -> Ready (small image, by digest): {time.monotonic() - start:.1f}s")

    # it ran on the real node, from exactly the pushed digest
    assert pod["spec"]["nodeName"] == NODE_NAME
    status = container_status(pod)
    digest = test_image.split("@", 1)[1]
    assert status["ready"] is True and "running" in status["state"]
    assert status["imageID"].endswith(digest), status["imageID"]
    assert pod["status"]["podIP"].startswith("10.244."), pod["status"].get("podIP")

    # kubectl logs (API server -> kubelet on 127.0.0.1:10250)
    def server_logs() -> str | None:
        out = kubectl("-n", namespace, "logs", "web").stdout
        return out if "listening on 8080" in out else None

    logs = wait(server_logs, timeout=30, message="the server's start line in kubectl logs")
    assert "realnode-http listening on 8080" in logs

    # kubectl exec runs inside the container
    hostname = kubectl("-n", namespace, "exec", "web", "--", "cat", "/etc/hostname").stdout.strip()
    assert hostname == "web"
    answer = kubectl(
        "-n",
        namespace,
        "exec",
        "web",
        "--",
        "node",
        "-e",
        "require('http').get('http://127.0.0.1:8080/health', r => console.log('status', r.statusCode))",
    ).stdout
    assert "status 200" in answer

    # kubectl port-forward: an HTTP GET through it returns 200
    forward = PortForward(kubectl_argv, namespace, "pod/web", 8080)
    with forward:
        reply = local_get(f"http://127.0.0.1:{forward.local_port}/", timeout=10)
        health = local_get(f"http://127.0.0.1:{forward.local_port}/health", timeout=10)
    assert reply.status_code == 200 and reply.text.strip() == "hello from web"
    assert health.status_code == 200 and health.text.strip() == "ok"
