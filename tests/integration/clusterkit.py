"""Helpers shared by the integration test kits for the local cluster and its infrastructure:
commands that fail with their output, the registry on 127.0.0.1:5000 and its base images, and
Kubernetes reads and deletes that may find nothing. Nothing is mocked."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests
from kubernetes import client
from kubernetes.client.rest import ApiException

REGISTRY = "127.0.0.1:5000"
# The base images localcluster/infra/up.sh makes and pushes to the registry.
RUNTIME_IMAGE = f"{REGISTRY}/vextrus/node-runtime:20"
BUILD_IMAGE = f"{REGISTRY}/vextrus/node-build:20"
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
