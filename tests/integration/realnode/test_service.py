"""kube-proxy on the real node: a Service ClusterIP reaches the pod from the host."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import time
from collections.abc import Callable
from typing import Any

import requests
from realnodekit import ApplyPod, is_ready, local_get, pod_when

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def test_service_cluster_ip_reaches_the_pod_from_the_host(
    apply_pod: ApplyPod, test_image: str, namespace: str, kubectl: Kubectl, wait: Callable[..., Any]
) -> None:
    apply_pod("backend", test_image, labels={"app": "backend"})
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "backend"},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": "backend"},
            "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
        },
    }
    kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps(service))
    cluster_ip = kubectl(
        "-n", namespace, "get", "service", "backend", "-o", "jsonpath={.spec.clusterIP}"
    ).stdout
    assert ipaddress.ip_address(cluster_ip) in ipaddress.ip_network("10.96.0.0/16")

    pod = wait(
        pod_when(kubectl, namespace, "backend", is_ready),
        timeout=120,
        message="pod backend Ready",
    )
    # the EndpointSlice names the pod's IP on the bridge network
    wait(
        lambda: pod["status"]["podIP"]
        in kubectl(
            "-n",
            namespace,
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=backend",
            "-o",
            "jsonpath={.items[*].endpoints[*].addresses[*]}",
        ).stdout,
        timeout=30,
        message="the pod's IP in the Service's EndpointSlice",
    )

    # kube-proxy programs the ClusterIP within a few seconds; the host's own traffic is DNATed
    last_error = ""
    deadline = time.monotonic() + 45
    while time.monotonic() < deadline:
        try:
            answer = local_get(f"http://{cluster_ip}/", timeout=3)
        except requests.RequestException as exc:
            last_error = str(exc)
            time.sleep(1)
            continue
        assert answer.status_code == 200, answer.text
        assert answer.text.strip() == "hello from backend"
        break
    else:
        raise AssertionError(f"http://{cluster_ip}/ did not answer within 45s: {last_error}")

    health = local_get(f"http://{cluster_ip}:80/health", timeout=5)
    assert health.status_code == 200 and health.text.strip() == "ok"
