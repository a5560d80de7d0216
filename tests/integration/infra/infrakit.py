"""Shared constants and helpers for the localcluster infrastructure tests (the registry and the
command runner come from ../clusterkit.py)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from clusterkit import REGISTRY, run

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "localcluster" / "infra"
PAUSE_IMAGE = f"{REGISTRY}/localcluster/pause:3.10"

DockerRunner = Callable[..., subprocess.CompletedProcess[str]]


def run_docker(
    *args: str, check: bool = True, timeout: float = 300, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs the docker CLI; raises with stdout/stderr when check and it fails."""
    return run(["docker", *args], check=check, timeout=timeout, input=input)
