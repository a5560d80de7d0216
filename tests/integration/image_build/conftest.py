"""Fixtures of the image_build tests: the real Docker engine and the local registry on
127.0.0.1:5000 (localcluster/infra/up.sh); nothing is mocked."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

# registry_tags stays importable from here for the image_build tests.
from clusterkit import BUILD_IMAGE, REGISTRY, RUNTIME_IMAGE, registry_tags, require_registry
from playbookrun import ROOT, Run, ansible_playbook

PLAYBOOK = Path(__file__).with_name("build.yml")
WORKSPACE = ROOT / "examples" / "finance-service"
SEED_DOCKERFILE = ROOT / "tests" / "fixtures" / "seed-broken" / "Dockerfile"
BASES = {
    "image_build_base_image": RUNTIME_IMAGE,
    "image_build_builder_image": BUILD_IMAGE,
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
    """The local registry's address, once it answers and the base images are in the engine."""
    require_registry("run `make cluster-up` or localcluster/infra/up.sh")
    for image in BASES.values():
        try:
            docker_client.images.get(image)
        except docker.errors.ImageNotFound:
            pytest.fail(f"base image {image} is missing; run localcluster/infra/up.sh")
    return REGISTRY


def local_images(client: docker.DockerClient, name: str) -> list[str]:
    return [tag for image in client.images.list(name=name) for tag in image.tags]


@pytest.fixture(scope="session")
def run_build(registry: str) -> BuildRunner:
    """run_build(extra_vars, timeout=900) -> Run: ansible-playbook of build.yml with the local bases."""

    def run(extra: dict[str, Any], *args: str, timeout: float = 900) -> Run:
        values = {
            "image_build_context": str(WORKSPACE),
            "image_build_service": "finance",
            "image_build_registry": registry,
            "image_build_verify_env": SECRET_ENV,
            **BASES,
            **extra,
        }
        return ansible_playbook("localhost,", str(PLAYBOOK), values, *args, timeout=timeout)

    return run
