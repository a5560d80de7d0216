"""Fixtures for tests that run against the real local cluster (localcluster/up.sh).

Nothing here mocks the cluster: every fixture talks to the API server on 127.0.0.1:6443
with the admin kubeconfig that localcluster/pki.sh wrote to .local/kubeconfig.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from kubernetes import client, config

from clusterkit import delete_namespace, exists, run

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".local"
KUBECONFIG = LOCAL / "kubeconfig"
CLUSTER_CA = LOCAL / "cluster" / "pki" / "ca.crt"
APISERVER_URL = "https://127.0.0.1:6443"
K8S_VERSION = "v1.34.4"
CACHE = Path(os.environ.get("VEXTRUS_CACHE", Path.home() / ".cache" / "vextrus-localcluster"))

T = TypeVar("T")

KubectlRunner = Callable[..., subprocess.CompletedProcess[str]]


def _kubectl_binary() -> Path:
    for candidate in (LOCAL / "bin" / "kubectl", CACHE / K8S_VERSION / "bin" / "kubectl"):
        if candidate.exists():
            return candidate
    pytest.fail(
        "kubectl not found in .local/bin or the build cache; run `make cluster-up` "
        "(or localcluster/up.sh) first"
    )


@pytest.fixture(scope="session")
def cluster_ca() -> Path:
    """The cluster CA certificate, to verify the API server's serving certificate."""
    if not CLUSTER_CA.exists():
        pytest.fail(f"{CLUSTER_CA} is missing: the local cluster was never started (make cluster-up)")
    return CLUSTER_CA


@pytest.fixture(scope="session")
def kubeconfig(cluster_ca: Path) -> Path:
    """Path of the admin kubeconfig; fails the session clearly when the cluster is not up."""
    if not KUBECONFIG.exists():
        pytest.fail(f"{KUBECONFIG} is missing: start the local cluster with `make cluster-up`")
    try:
        answer = requests.get(f"{APISERVER_URL}/readyz", verify=str(cluster_ca), timeout=5)
    except requests.RequestException as exc:
        pytest.fail(f"the local cluster is not up ({APISERVER_URL}/readyz: {exc}); run `make cluster-up`")
    if answer.status_code != 200:
        pytest.fail(f"{APISERVER_URL}/readyz answered {answer.status_code}: {answer.text[:500]}")
    return KUBECONFIG


@pytest.fixture(scope="session")
def kubectl(kubeconfig: Path) -> KubectlRunner:
    """Runs the built kubectl with the admin kubeconfig; returns the CompletedProcess.

    kubectl("get", "nodes", check=True, input=None, timeout=120)
    """
    binary = _kubectl_binary()

    def kubectl_run(
        *args: str, check: bool = True, input: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return run([str(binary), "--kubeconfig", str(kubeconfig), *args], check=check, input=input, timeout=timeout)

    return kubectl_run


@pytest.fixture(scope="session")
def k8s_client(kubeconfig: Path) -> Iterator[client.ApiClient]:
    """A kubernetes ApiClient for the admin kubeconfig."""
    api_client = config.new_client_from_config(config_file=str(kubeconfig))
    yield api_client
    api_client.close()


@pytest.fixture
def namespace(k8s_client: client.ApiClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards."""
    core = client.CoreV1Api(k8s_client)
    name = f"t-{request.node.name[:30].lower().replace('_', '-').strip('-')}-{uuid.uuid4().hex[:6]}"
    name = "".join(c if c.isalnum() or c == "-" else "-" for c in name)
    core.create_namespace(
        {"metadata": {"name": name, "labels": {"vextrus.io/test": "localcluster"}}}
    )
    # Pods of workload controllers need the namespace's default ServiceAccount.
    wait_until(
        lambda: exists(lambda: core.read_namespaced_service_account("default", name)),
        timeout=30,
        message=f"ServiceAccount default in namespace {name}",
    )
    yield name
    delete_namespace(k8s_client, name)


def wait_until(
    probe: Callable[[], T | None],
    *,
    timeout: float,
    interval: float = 0.5,
    message: str = "condition",
) -> T:
    """Polls probe() until it returns a truthy value (returned) or fails after timeout seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while True:
        last = probe()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {message}; last value: {last!r}")
        time.sleep(interval)


@pytest.fixture(scope="session")
def wait() -> Callable[..., Any]:
    """The bounded polling helper: wait(probe, timeout=30, interval=0.5, message=...)."""
    return wait_until
