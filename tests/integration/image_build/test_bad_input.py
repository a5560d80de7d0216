"""Bad input stops image_build with one clear message and pushes nothing.

Each case runs the role with a repository of its own against the real Docker engine and registry,
and checks: a non-zero exit, exactly one failed task, a message that says what was expected, what
was found and what to do, and that neither the registry nor the Docker engine got an image.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import docker
import pytest

from .conftest import WORKSPACE, BuildRunner, local_images, registry_tags


def copy_workspace(tmp_path: Path) -> Path:
    dest = tmp_path / "finance-service"
    shutil.copytree(WORKSPACE, dest, ignore=shutil.ignore_patterns("node_modules", "dist", ".test-build"))
    return dest


def assert_one_clear_failure(run, *messages: str) -> None:
    assert run.rc != 0, run.output[-3000:]
    assert run.recap()["failed"] == 1, run.output[-3000:]
    assert run.output.count("fatal: [localhost]") == 1, run.output[-3000:]
    for message in messages:
        assert message in run.flat, f"{message!r} not in:\n{run.output[-3000:]}"


@pytest.fixture
def repository() -> str:
    return f"vextrus/image-build-bad-{uuid.uuid4().hex[:8]}"


def assert_nothing_pushed(client: docker.DockerClient, repository: str, registry: str = "127.0.0.1:5000") -> None:
    assert registry_tags(repository) == []
    assert local_images(client, f"{registry}/{repository}") == []


def test_missing_workspace(run_build: BuildRunner, docker_client, repository, tmp_path):
    missing = tmp_path / "no-such-workspace"
    run = run_build({"image_build_context": str(missing), "image_build_repository": repository})
    assert_one_clear_failure(
        run,
        f"workspace not found: {missing} does not exist",
        "Expected the root of a pnpm workspace (package.json, pnpm-workspace.yaml, pnpm-lock.yaml)",
        "set image_build_context to it",
    )
    assert_nothing_pushed(docker_client, repository)


def test_service_not_in_workspace(run_build: BuildRunner, docker_client, repository):
    run = run_build({"image_build_service": "payments", "image_build_repository": repository})
    assert_one_clear_failure(
        run,
        f"service 'payments' is not a package of the pnpm workspace {WORKSPACE}",
        "found the packages @vextrus/money, finance",
        "Set image_build_service to one of them",
    )
    assert_nothing_pushed(docker_client, repository)


def test_lockfile_out_of_date(run_build: BuildRunner, docker_client, repository, tmp_path):
    workspace = copy_workspace(tmp_path)
    manifest_path = workspace / "services" / "finance" / "package.json"
    manifest = json.loads(manifest_path.read_text())
    locked = manifest["dependencies"]["@nestjs/core"]
    manifest["dependencies"]["@nestjs/core"] = f"^{locked}"
    manifest_path.write_text(json.dumps(manifest, indent=2) + "\n")
    run = run_build({"image_build_context": str(workspace), "image_build_repository": repository})
    assert_one_clear_failure(
        run,
        f"pnpm-lock.yaml in {workspace} is out of date with package.json",
        f"services/finance: dependencies @nestjs/core is '^{locked}' in package.json but '{locked}' in pnpm-lock.yaml",
        f"Run `pnpm install` in {workspace} and commit the updated pnpm-lock.yaml",
    )
    assert_nothing_pushed(docker_client, repository)


def test_unreachable_registry(run_build: BuildRunner, docker_client, repository):
    run = run_build({"image_build_registry": "127.0.0.1:5999", "image_build_repository": repository})
    assert_one_clear_failure(
        run,
        "The registry 127.0.0.1:5999 is not reachable: GET http://127.0.0.1:5999/v2/ expected 200 or 401",
        "got no answer",
        "Connection refused",
        "Start the registry",
        "Nothing was built or pushed",
    )
    assert_nothing_pushed(docker_client, repository, registry="127.0.0.1:5999")
    assert_nothing_pushed(docker_client, repository)
