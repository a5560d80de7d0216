"""Shared constants and helpers for the localcluster infrastructure tests."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "localcluster" / "infra"
REGISTRY = "127.0.0.1:5000"
RUNTIME_IMAGE = f"{REGISTRY}/vextrus/node-runtime:20"
BUILD_IMAGE = f"{REGISTRY}/vextrus/node-build:20"
PAUSE_IMAGE = f"{REGISTRY}/localcluster/pause:3.10"
MANIFEST_ACCEPT = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.manifest.v1+json",
    )
)

DockerRunner = Callable[..., subprocess.CompletedProcess[str]]


def run_docker(
    *args: str, check: bool = True, timeout: float = 300, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs the docker CLI; raises with stdout/stderr when check and it fails."""
    proc = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, input=input, check=False
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"docker {' '.join(args)} exited {proc.returncode}\n"
            f"stdout: {proc.stdout[-2000:]}\nstderr: {proc.stderr[-2000:]}"
        )
    return proc


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
    return answer.headers["Docker-Content-Digest"]
