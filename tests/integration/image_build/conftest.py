"""Fixtures of the image_build tests: the real Docker engine and the local registry on
127.0.0.1:5000 (localcluster/infra/up.sh); nothing is mocked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from playbookrun import Run

ROOT = Path(__file__).resolve().parents[3]
PLAYBOOK = Path(__file__).with_name("build.yml")
WORKSPACE = ROOT / "examples" / "finance-service"
SEED_DOCKERFILE = ROOT / "tests" / "fixtures" / "seed-broken" / "Dockerfile"
REGISTRY = "127.0.0.1:5000"
BIN = Path(sys.executable).parent
BASES = {
    "image_build_base_image": f"{REGISTRY}/vextrus/node-runtime:20",
    "image_build_builder_image": f"{REGISTRY}/vextrus/node-build:20",
}
SECRET_ENV = {"JWT_SECRET": "image-build-integration-secret-0123456789abcdef"}


BuildRunner = Callable[..., Run]


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    try:
        client = docker.from_env()
        client.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"the Docker engine is not reachable ({exc}); run `make cluster-up` or localcluster/infra/up.sh")
    yield client
    client.close()


@pytest.fixture(scope="session")
def registry(docker_client: docker.DockerClient) -> str:
    try:
        answer = requests.get(f"http://{REGISTRY}/v2/", timeout=5)
    except requests.RequestException as exc:
        pytest.fail(f"the registry {REGISTRY} is not reachable ({exc}); run `make cluster-up` or localcluster/infra/up.sh")
    assert answer.status_code == 200, answer.text
    for image in BASES.values():
        try:
            docker_client.images.get(image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"base image {image} is missing; run localcluster/infra/up.sh")
    return REGISTRY


def registry_tags(repository: str, registry: str = REGISTRY) -> list[str]:
    """Tags of a repository in the registry; [] when the repository does not exist."""
    answer = requests.get(f"http://{registry}/v2/{repository}/tags/list", timeout=10)
    if answer.status_code == 404:
        return []
    answer.raise_for_status()
    return answer.json().get("tags") or []


def local_images(client: docker.DockerClient, name: str) -> list[str]:
    return [tag for image in client.images.list(name=name) for tag in image.tags]


@pytest.fixture(scope="session")
def run_build(registry: str) -> BuildRunner:
    """run_build(extra_vars, timeout=900) -> Run: ansible-playbook of build.yml with the local bases."""

    def run(extra: dict[str, Any], *args: str, timeout: float = 900) -> Run:
        env = dict(os.environ)
        env.update(
            ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_FORCE_COLOR="0",
            PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        )
        values = {
            "image_build_context": str(WORKSPACE),
            "image_build_service": "finance",
            "image_build_registry": registry,
            "image_build_verify_env": SECRET_ENV,
            **BASES,
            **extra,
        }
        cmd = [str(BIN / "ansible-playbook"), "-i", "localhost,", str(PLAYBOOK), "-e", json.dumps(values), *args]
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
        return Run(proc.returncode, proc.stdout + proc.stderr)

    return run
