"""Helpers shared by the integration test kits for the local cluster and its infrastructure:
commands that fail with their output, the registry on 127.0.0.1:5000 and its base images, and
Kubernetes reads and deletes that may find nothing. Nothing is mocked."""

from __future__ import annotations

import fcntl
import os
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import pytest
import requests
import yaml
from kubernetes import client, utils
from kubernetes.client.rest import ApiException

REGISTRY = "127.0.0.1:5000"
# Every test session pushes the service to a registry repository of its own, so its first week-1
# build really builds and verifies, whatever earlier runs left in the registry's storage (a content
# tag found in the registry skips the verification). Set in the environment, so that the molecule
# scenarios the session runs push there too, and so that the workers of a parallel session share
# it: the process that starts them (tests/pytest.sh, or pytest itself when this module is imported
# by the conftest of a path it was given) sets it before they start. A worker that finds neither
# makes its own, which is as correct, only slower (its first week 1 builds again).
RUN_ID = os.environ.setdefault("VEXTRUS_TEST_RUN", uuid.uuid4().hex[:10])
SESSION_REPOSITORY = os.environ.setdefault("VEXTRUS_TEST_REPOSITORY", f"vextrus-test/{RUN_ID}/finance")
# The base images localcluster/infra/up.sh makes and pushes to the registry.
RUNTIME_IMAGE = f"{REGISTRY}/vextrus/node-runtime:20"
BUILD_IMAGE = f"{REGISTRY}/vextrus/node-build:20"
RUNTIME_IMAGE_24 = f"{REGISTRY}/vextrus/node-runtime:24"
BUILD_IMAGE_24 = f"{REGISTRY}/vextrus/node-build:24"
# Node major -> (runtime image, build image), and the Debian suite each pair is made from.
BASE_IMAGES = {20: (RUNTIME_IMAGE, BUILD_IMAGE), 24: (RUNTIME_IMAGE_24, BUILD_IMAGE_24)}
BASE_SUITES = {20: "trixie", 24: "forky"}
MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    )
)


def run(
    cmd: list[str], *, timeout: float = 300, check: bool = True, **kw: Any
) -> subprocess.CompletedProcess[str]:
    """Runs a command to the end with its output captured as text; raises with that output when
    check and it fails. Keyword arguments go to subprocess.run (cwd, env, input)."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}\nstdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
        )
    return proc


# The PrometheusRule CRD (cluster-wide): resource_apply applies the service's PrometheusRule only
# when it is installed.
CRD_FILE = Path(__file__).resolve().parents[1] / "fixtures" / "crds" / "prometheusrules.monitoring.coreos.com.yml"
CRD_NAME = "prometheusrules.monitoring.coreos.com"
# Runs that may build and verify the example service take this lock (see building_the_example).
EXAMPLE_BUILD_LOCK = Path(tempfile.gettempdir()) / "vextrus-test-example-build.lock"


def require_registry(hint: str = "run `make cluster-up`") -> str:
    """The registry's address once its /v2/ endpoint answers; fails the test clearly (with hint)
    when it is not reachable."""
    try:
        answer = requests.get(f"http://{REGISTRY}/v2/", timeout=5)
    except requests.RequestException as exc:
        pytest.fail(f"the registry {REGISTRY} is not reachable ({exc}); {hint}")
    assert answer.status_code == 200, answer.text
    return REGISTRY


def registry_digest(repository: str, reference: str) -> str | None:
    """The Docker-Content-Digest the registry serves for repository:reference, or None."""
    answer = requests.head(
        f"http://{REGISTRY}/v2/{repository}/manifests/{reference}",
        headers={"Accept": MANIFEST_ACCEPT},
        timeout=10,
    )
    if answer.status_code == 404:
        return None
    answer.raise_for_status()
    digest: str = answer.headers["Docker-Content-Digest"]
    return digest


def registry_tags(repository: str) -> list[str]:
    """Tags of a repository in the registry; [] when the repository does not exist."""
    answer = requests.get(f"http://{REGISTRY}/v2/{repository}/tags/list", timeout=10)
    if answer.status_code == 404:
        return []
    answer.raise_for_status()
    tags: list[str] = answer.json().get("tags") or []
    return tags


@contextmanager
def building_the_example(repository: str | None = None) -> Iterator[None]:
    """Wraps a run that may build and verify the example service (examples/finance-service as it
    is, the default shape): the image_build role names the container of the runtime verification
    after the content tag, so two runs verifying the same image at once (two workers of a parallel
    session, or two sessions on this machine) would replace each other's container. Such runs take
    turns through a lock file.

    With the session's repository: once it holds an image (a tag), a run finds the content tag
    there and neither builds nor verifies, so it goes ahead without the lock, also while it waits
    for the lock (another run of the session building the image pushes it before its week ends)."""
    with EXAMPLE_BUILD_LOCK.open("a", encoding="utf-8") as handle:
        if repository is None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        elif not _lock_unless_pushed(handle, repository):
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _lock_unless_pushed(handle: IO[str], repository: str) -> bool:
    """Waits until this process holds the lock on handle (True) or the repository holds an image
    (False, the lock not taken)."""
    while not registry_tags(repository):
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            time.sleep(2)
    return False


def exists(read: Callable[[], Any]) -> bool:
    """True when read() finds its Kubernetes object, False when the API answers 404."""
    try:
        read()
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def unique_name(prefix: str) -> str:
    """prefix plus six random hex digits, cut to a valid namespace name (63 characters)."""
    return f"{prefix}-{uuid.uuid4().hex[:6]}"[:63].rstrip("-")


def delete_namespace(api: client.ApiClient, name: str) -> None:
    """Deletes a namespace in the background; a namespace that is already gone is fine."""
    try:
        client.CoreV1Api(api).delete_namespace(name, propagation_policy="Background")
    except ApiException as exc:
        if exc.status != 404:
            raise


def crd_installed(api: client.ApiClient) -> bool:
    """True when the PrometheusRule CRD is installed."""
    return exists(lambda: client.ApiextensionsV1Api(api).read_custom_resource_definition(CRD_NAME))


def install_crd(api: client.ApiClient, wait: Any) -> None:
    """Installs the PrometheusRule CRD unless it is (another process may install it meanwhile: it
    exists already, which is as good) and waits until it is established."""
    if not crd_installed(api):
        try:
            utils.create_from_dict(api, yaml.safe_load(CRD_FILE.read_text()))
        except utils.FailToCreateError as exc:
            if any(error.status != 409 for error in exc.api_exceptions):
                raise

    def established() -> bool:
        crd = client.ApiextensionsV1Api(api).read_custom_resource_definition(CRD_NAME)
        return any(c.type == "Established" and c.status == "True" for c in (crd.status.conditions or []))

    wait(established, timeout=60, message="PrometheusRule CRD established")


def uninstall_crd(api: client.ApiClient, wait: Any) -> None:
    try:
        client.ApiextensionsV1Api(api).delete_custom_resource_definition(CRD_NAME)
    except ApiException as exc:
        if exc.status != 404:
            raise
    wait(lambda: not crd_installed(api), timeout=120, message="PrometheusRule CRD deleted")


DYING_NODE_TAINT = "vextrus.io/test-node"


def _ready_now(since: str) -> dict[str, str]:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "kubelet is posting ready status",
            "lastHeartbeatTime": now, "lastTransitionTime": since}


@contextmanager
def dying_node(api: client.ApiClient, heartbeat_seconds: float = 5) -> Iterator[dict[str, Any]]:
    """A Node of its own whose 'kubelet' (a thread here) posts its Ready status every few seconds until
    ``stop`` is set: then the control plane sees what it sees of a machine that dies (the node
    lifecycle controller marks it Ready Unknown after its grace period). Tainted (``taint``: key,
    value and effect) so that only pods that tolerate it go there (``selector`` picks it); deleted
    at the end. Yields {"name", "stop", "selector", "toleration"}."""
    core = client.CoreV1Api(api)
    name = unique_name("dying-node")
    template = core.read_node("kwok-node-0")
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    core.create_node({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                              DYING_NODE_TAINT: name}},
        "spec": {"taints": [{"key": DYING_NODE_TAINT, "value": name, "effect": "NoSchedule"}]},
        "status": {
            "capacity": template.status.capacity,
            "allocatable": template.status.allocatable,
            "addresses": [{"type": "Hostname", "address": name}],
            "conditions": [_ready_now(since)],
        },
    })
    stop = threading.Event()

    def heartbeat() -> None:
        while not stop.wait(heartbeat_seconds):
            core.patch_node_status(name, {"status": {"conditions": [_ready_now(since)]}})

    beating = threading.Thread(target=heartbeat, name=f"kubelet of {name}", daemon=True)
    beating.start()
    try:
        yield {
            "name": name,
            "stop": stop,
            "selector": {DYING_NODE_TAINT: name},
            "toleration": {"key": DYING_NODE_TAINT, "operator": "Equal", "value": name, "effect": "NoSchedule"},
        }
    finally:
        stop.set()
        beating.join(timeout=30)
        try:
            core.delete_node(name)
        except ApiException as exc:
            if exc.status != 404:
                raise


def pods_on(api: client.ApiClient, namespace: str, node: str) -> list[str]:
    """The names of the namespace's pods bound to the node."""
    return [p.metadata.name for p in client.CoreV1Api(api).list_namespaced_pod(namespace).items if p.spec.node_name == node]
