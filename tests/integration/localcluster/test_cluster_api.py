"""The local control plane: readiness, nodes, authentication, kwok's scope."""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from kubernetes import client

APISERVER_URL = "https://127.0.0.1:6443"
K8S_VERSION = "v1.34.4"
KubectlRunner = Callable[..., subprocess.CompletedProcess[str]]
KWOK_NODES = [f"kwok-node-{i}" for i in range(3)]


def test_readyz_ok(cluster_ca: Path) -> None:
    answer = requests.get(f"{APISERVER_URL}/readyz?verbose", verify=str(cluster_ca), timeout=10)
    assert answer.status_code == 200, answer.text
    assert answer.text.rstrip().endswith("readyz check passed"), answer.text


def test_every_node_ready(k8s_client: client.ApiClient) -> None:
    nodes = client.CoreV1Api(k8s_client).list_node().items
    by_name = {n.metadata.name: n for n in nodes}
    assert set(KWOK_NODES) <= set(by_name), sorted(by_name)
    for node in nodes:
        ready = [c for c in node.status.conditions or [] if c.type == "Ready"]
        assert ready and ready[0].status == "True", f"{node.metadata.name} is not Ready: {ready}"
    for name in KWOK_NODES:
        node = by_name[name]
        assert node.metadata.labels["type"] == "kwok"
        assert node.metadata.annotations["kwok.x-k8s.io/node"] == "fake"
        assert node.status.allocatable["cpu"] == "4"
        assert node.status.allocatable["memory"] == "16Gi"
        assert node.status.allocatable["pods"] == "110"
        assert node.spec.pod_cidr, f"{name} got no podCIDR from kube-controller-manager"


def test_admin_kubeconfig_works(kubectl: KubectlRunner) -> None:
    version = json.loads(kubectl("version", "-o", "json").stdout)
    assert version["serverVersion"]["gitVersion"] == K8S_VERSION
    assert version["clientVersion"]["gitVersion"] == K8S_VERSION
    assert kubectl("config", "current-context").stdout.strip() == "vextrus-local"
    assert kubectl("auth", "can-i", "*", "*", "--all-namespaces").stdout.strip() == "yes"
    whoami = json.loads(kubectl("auth", "whoami", "-o", "json").stdout)
    assert "system:masters" in whoami["status"]["userInfo"]["groups"]


def test_anonymous_request_is_refused(cluster_ca: Path) -> None:
    answer = requests.get(
        f"{APISERVER_URL}/api/v1/namespaces/default/pods", verify=str(cluster_ca), timeout=10
    )
    assert answer.status_code in (401, 403), (answer.status_code, answer.text[:300])
    secrets = requests.get(
        f"{APISERVER_URL}/api/v1/namespaces/kube-system/secrets", verify=str(cluster_ca), timeout=10
    )
    assert secrets.status_code in (401, 403), (secrets.status_code, secrets.text[:300])


def test_default_service_account_exists(k8s_client: client.ApiClient) -> None:
    sa = client.CoreV1Api(k8s_client).read_namespaced_service_account("default", "default")
    assert sa.metadata.name == "default"


def test_controllers_use_their_own_identities(kubectl: KubectlRunner) -> None:
    # --use-service-account-credentials: each controller has its own ServiceAccount in kube-system
    names = kubectl("get", "serviceaccounts", "-n", "kube-system", "-o", "name").stdout.split()
    for sa in ("deployment-controller", "replicaset-controller", "disruption-controller",
               "endpointslice-controller", "horizontal-pod-autoscaler"):
        assert f"serviceaccount/{sa}" in names, names
    # kwok runs with a narrow ClusterRole, not as cluster admin
    can = kubectl("auth", "can-i", "delete", "namespaces", "--as", "vextrus:kwok-controller",
                  check=False)
    assert can.stdout.strip() == "no", can.stdout + can.stderr
    can = kubectl("auth", "can-i", "patch", "pods/status", "--as", "vextrus:kwok-controller")
    assert can.stdout.strip() == "yes"


def test_kwok_leaves_other_nodes_alone(
    k8s_client: client.ApiClient, wait: Callable[..., Any]
) -> None:
    """A node without the kwok annotation (as a real kubelet's node) gets no status from kwok."""
    core = client.CoreV1Api(k8s_client)
    name = f"unmanaged-{uuid.uuid4().hex[:6]}"
    core.create_node({"metadata": {"name": name, "labels": {"type": "test-unmanaged"}}})
    try:
        # kwok is alive and renewing the leases of its own nodes meanwhile ...
        coordination = client.CoordinationV1Api(k8s_client)
        before = coordination.read_namespaced_lease("kwok-node-0", "kube-node-lease").spec.renew_time
        wait(
            lambda: coordination.read_namespaced_lease("kwok-node-0", "kube-node-lease").spec.renew_time
            > before,
            timeout=30,
            message="kwok to renew the lease of kwok-node-0",
        )
        # ... but never touches the unmanaged node: no conditions, no lease, over a 5 s window.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            node = core.read_node(name)
            kubelet_conditions = [
                c for c in node.status.conditions or [] if c.reason and "Kubelet" in c.reason
            ]
            assert not kubelet_conditions, f"kwok managed {name}: {node.status.conditions}"
            assert node.status.node_info is None or not node.status.node_info.kubelet_version
            time.sleep(0.5)
        leases = coordination.list_namespaced_lease("kube-node-lease").items
        assert name not in {lease.metadata.name for lease in leases}
    finally:
        core.delete_node(name)
