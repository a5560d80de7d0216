"""Helpers shared by the integration test kits for the local cluster and its infrastructure:
commands that fail with their output, the registry on 127.0.0.1:5000 and its base images, and
Kubernetes reads and deletes that may find nothing. Nothing is mocked."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from kubernetes import client
from kubernetes.client.rest import ApiException

REGISTRY = "127.0.0.1:5000"
# Every test session pushes the service to a registry repository of its own, so its first week-1
# build really builds and verifies, whatever earlier runs left in the registry's storage (a content
# tag found in the registry skips the verification). Set in the environment, so that the molecule
# scenarios the session runs push there too.
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
