"""Workspace shapes that cannot build stop image_build at its workspace check, before `docker build`.

Each case copies the example workspace, breaks one thing and runs the real role (build.yml) against
the Docker engine and the local registry with a repository of its own. It checks a non-zero exit,
that the one failed task is the workspace check (so nothing was rendered, built or pushed), the
message (the file, the setting, what to do), and that neither the registry nor the engine got an
image. Each run takes seconds.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from clusterkit import BUILD_IMAGE, RUNTIME_IMAGE

from .conftest import WORKSPACE, BuildRunner, local_images, registry_tags

WORKSPACE_CHECK = "Check the workspace, the service, the lockfile, pnpm's settings and the Node version"
SERVICE_DIR = Path("services") / "finance"


def copy_workspace(tmp_path: Path) -> Path:
    dest = tmp_path / "finance-service"
    shutil.copytree(WORKSPACE, dest, ignore=shutil.ignore_patterns("node_modules", "dist", ".test-build"))
    return dest


def edit_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


def drop_inject(workspace: Path) -> None:
    path = workspace / "pnpm-workspace.yaml"
    path.write_text(path.read_text().replace("injectWorkspacePackages: true\n", ""))


def pin_pnpm(version: str) -> Callable[[Path], None]:
    def change(workspace: Path) -> None:
        edit_json(workspace / "package.json", lambda d: d.update(packageManager=f"pnpm@{version}"))

    return change


def no_package_manager(workspace: Path) -> None:
    edit_json(workspace / "package.json", lambda d: d.pop("packageManager"))


def engines(value: str) -> Callable[[Path], None]:
    def change(workspace: Path) -> None:
        edit_json(workspace / SERVICE_DIR / "package.json", lambda d: d["engines"].update(node=value))

    return change


def catalog_without_entry(workspace: Path) -> None:
    edit_json(workspace / SERVICE_DIR / "package.json", lambda d: d["dependencies"].update(rxjs="catalog:"))


def import_dev_dependency(workspace: Path) -> None:
    (workspace / SERVICE_DIR / "src" / "version.ts").write_text(
        "import { version } from 'typescript';\n\nexport const compiler = version;\n"
    )


def pnpm_12_with_only_built(workspace: Path) -> None:
    pin_pnpm("12.23.0")(workspace)
    path = workspace / "pnpm-workspace.yaml"
    path.write_text(path.read_text().replace("onlyBuiltDependencies: []", "onlyBuiltDependencies:\n  - esbuild"))


# node bases for the engines cases: the local Node 20 base only, and no explicitly set base image
NODE_20_ONLY = {
    "image_build_base_image": "",
    "image_build_builder_image": "",
    "image_build_node_bases": {20: {"runtime": RUNTIME_IMAGE, "builder": BUILD_IMAGE}},
}

CASES = {
    "pnpm 10 without injectWorkspacePackages": (
        drop_inject,
        {},
        [
            "pnpm-workspace.yaml: pnpm 10.34.8 (\"packageManager\") makes the image's `pnpm deploy` stop with "
            "ERR_PNPM_DEPLOY_NONINJECTED_WORKSPACE",
            "expected `injectWorkspacePackages: true`, found no injectWorkspacePackages setting",
            "Add the line `injectWorkspacePackages: true` to pnpm-workspace.yaml, then run `pnpm install`",
        ],
    ),
    "engines no base satisfies": (
        engines(">=22"),
        NODE_20_ONLY,
        [
            "no configured Node base satisfies engines.node '>=22' ({ws}/services/finance/package.json)",
            "expected a major of image_build_node_bases some version of which the range allows, found Node 20",
            "Add a base for a fitting major to image_build_node_bases, set image_build_base_image and "
            "image_build_builder_image, or change the range",
        ],
    ),
    "engines not a range": (
        engines("twenty-two"),
        NODE_20_ONLY,
        ["{ws}/services/finance/package.json: engines.node: 'twenty-two' is not an npm semver range", "Fix the range"],
    ),
    "packageManager and lockfileVersion disagree": (
        pin_pnpm("8.15.9"),
        {},
        [
            "{ws}/pnpm-lock.yaml has lockfileVersion '9.0' (written by pnpm 9 or later), but package.json pins "
            "pnpm 8.15.9 in \"packageManager\", which expects lockfileVersion '6.0'",
            "Run `pnpm install` with pnpm 8.15.9",
            "or set \"packageManager\" to the pnpm that wrote the lockfile",
        ],
    ),
    "missing packageManager": (
        no_package_manager,
        {},
        ["{ws}/package.json must pin pnpm in \"packageManager\"", "found no packageManager field"],
    ),
    "catalog: without a catalog entry": (
        catalog_without_entry,
        {},
        [
            "{ws}/services/finance/package.json: dependencies rxjs is 'catalog:', but pnpm-workspace.yaml has no "
            "entry for rxjs in \"catalog\" (catalogs there: none)",
            "or write the range in package.json, then run `pnpm install`",
        ],
    ),
    "production import of a devDependency": (
        import_dev_dependency,
        {},
        [
            "{ws}/services/finance/package.json: the service's sources import typescript (src/version.ts:1), "
            "which package.json has only in \"devDependencies\"",
            "move them there (`pnpm --filter finance add typescript`)",
            "image_build_check_imports: false skips this check",
        ],
    ),
    "pnpm 12 with onlyBuiltDependencies": (
        pnpm_12_with_only_built,
        {},
        [
            "{ws}/pnpm-workspace.yaml: onlyBuiltDependencies (pnpm-workspace.yaml) is not read by pnpm 12.23.0",
            "Replace it with `allowBuilds:`",
        ],
    ),
    "service path not in the workspace": (
        None,
        {"image_build_service": "./services/payments"},
        [
            "service './services/payments' is not a package of the pnpm workspace {ws}",
            "found the packages @vextrus/money, finance, finance-service-workspace (in packages/money, "
            "services/finance, .)",
            "Set image_build_service to one of them",
        ],
    ),
    "builder environment name": (
        None,
        {"image_build_builder_env": {"1ST_FLAG": "x"}},
        ["image_build_builder_env: '1ST_FLAG' is not an environment variable name"],
    ),
}


def failed_task(output: str) -> str:
    """The name of the task whose result is the run's one `fatal:`."""
    before = output.split("fatal: [localhost]")[0]
    names = re.findall(r"TASK \[(?:[\w.]+ : )?(.*?)\] \*", before)
    return names[-1] if names else ""


@pytest.mark.parametrize("case", list(CASES))
def test_bad_workspace_fails_at_the_workspace_check(
    case: str, run_build: BuildRunner, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    breaks, extra, messages = CASES[case]
    workspace = copy_workspace(tmp_path)
    if breaks:
        breaks(workspace)
    repository = f"vextrus/image-build-shape-bad-{uuid.uuid4().hex[:8]}"
    run = run_build({"image_build_context": str(workspace), "image_build_repository": repository, **extra}, timeout=300)
    assert run.rc != 0, run.tail()
    assert run.output.count("fatal: [localhost]") == 1, run.tail()
    assert failed_task(run.output) == WORKSPACE_CHECK, run.tail()
    assert "Build the image with the content tag" not in run.output, run.tail()
    for message in messages:
        expected = message.format(ws=workspace)
        assert expected in run.flat, f"{expected!r} not in:\n{run.tail()}"
    assert registry_tags(repository) == []
    assert local_images(docker_client, f"127.0.0.1:5000/{repository}") == []
