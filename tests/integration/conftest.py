"""Fixtures for tests that run against the real local cluster (localcluster/up.sh).

Nothing here mocks the cluster: every fixture talks to the API server on 127.0.0.1:6443
with the admin kubeconfig that localcluster/pki.sh wrote to .local/kubeconfig.

In a parallel session (pytest-xdist, as tests/pytest.sh runs it; ../conftest.py makes the work
units: a file, or a directory whose tests share costly session fixtures) each test runs in
namespaces of its own. Tests that change what every other test relies on run alone: they get the
marker `serial`, a parallel session leaves them out, and tests/pytest.sh runs them in a pass of
their own, with nothing beside them. These are the tests of the infrastructure itself
(SERIAL_DIRECTORIES: the Docker engine and the registry, the control plane and kwok's nodes, the
real node they take down and up) and every test marked serial in its file (a cluster-wide object
such as a CRD). The session fixtures below keep the workers from sharing a cache directory and
from seeing cluster-wide state change; other session fixtures are made once per worker (the week 1
of the chain tests, for example).
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from kubernetes import client
from kubernetes import config as kube_config

from clusterkit import delete_namespace, exists, install_crd, run

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / ".local"
KUBECONFIG = LOCAL / "kubeconfig"
CLUSTER_CA = LOCAL / "cluster" / "pki" / "ca.crt"
APISERVER_URL = "https://127.0.0.1:6443"
K8S_VERSION = "v1.34.4"
CACHE = Path(os.environ.get("VEXTRUS_CACHE", Path.home() / ".cache" / "vextrus-localcluster"))
HERE = Path(__file__).resolve().parent
# Directories (under tests/integration) whose tests run alone.
SERIAL_DIRECTORIES = ("infra", "localcluster", "realnode")

T = TypeVar("T")

KubectlRunner = Callable[..., subprocess.CompletedProcess[str]]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "serial: runs alone, never beside another test (a parallel session leaves it out; "
        "tests/pytest.sh runs these in a pass of their own)",
    )


def _in_parallel_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Marks the tests of SERIAL_DIRECTORIES serial, first, so that `-m` sees the marker; in a
    parallel worker, leaves out every serial test."""
    for item in items:
        path = Path(item.path).resolve()
        if path.is_relative_to(HERE) and path.relative_to(HERE).parts[0] in SERIAL_DIRECTORIES:
            item.add_marker(pytest.mark.serial)
    if not _in_parallel_worker(config):
        return
    alone = [item for item in items if item.get_closest_marker("serial")]
    if alone:
        config.hook.pytest_deselected(items=alone)
        items[:] = [item for item in items if not item.get_closest_marker("serial")]
        if "serial" not in (config.option.markexpr or ""):
            warnings.warn(
                pytest.PytestWarning(
                    f"{len(alone)} test(s) marked serial left out of this parallel session: "
                    "they run alone, with `pytest -m serial` (as tests/pytest.sh does)"
                ),
                stacklevel=1,
            )


@pytest.fixture(scope="session", autouse=True)
def worker_cache_home(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> None:
    """In a parallel worker: a cache directory (XDG_CACHE_HOME) of the worker's own for the
    commands the tests run. The image_build role stages the build context in
    ${XDG_CACHE_HOME:-~/.cache}/vextrus-deploy/image_build/<service>, which two builds of the same
    service in two workers would overwrite under each other."""
    if _in_parallel_worker(request.config):
        os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache", numbered=False))


@pytest.fixture(scope="session", autouse=True)
def worker_cluster_state(request: pytest.FixtureRequest) -> None:
    """In a parallel worker: the cluster-wide state every test of the session sees, set before the
    worker's first test, so that it does not change under a test of another worker. The
    PrometheusRule CRD is installed (as the resource_apply molecule scenario leaves it): every run
    of resource_apply looks it up, and a run and its repetition (the idempotence checks) must see
    the same. The path without the CRD is the serial test's (roles/test_prometheus_crd.py). Does
    nothing when the cluster is not up: the tests that need it fail on their own."""
    if not _in_parallel_worker(request.config) or not KUBECONFIG.exists() or not CLUSTER_CA.exists():
        return
    try:
        up = requests.get(f"{APISERVER_URL}/readyz", verify=str(CLUSTER_CA), timeout=5).status_code == 200
    except requests.RequestException:
        up = False
    if not up:
        return
    api_client = kube_config.new_client_from_config(config_file=str(KUBECONFIG))
    try:
        install_crd(api_client, wait_until)
    finally:
        api_client.close()


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
    api_client = kube_config.new_client_from_config(config_file=str(kubeconfig))
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
