"""Image size and build time of the image_build role, for the example and the fixture workspaces,
beside the seed's 1.67 GB image.

Runs the role (bench/image_size/build.yml) on a temporary copy of each workspace (examples/
finance-service and tests/fixtures/workspaces/*), with the local Node bases (the workspace's Node
version picks the pair) and image_build_push=false (the bench pushes nothing):

1. cold build: a fresh source edit (so the content tag is new) and image_build_nocache=true;
2. warm build: another source-only edit; the lockfile did not change, so the dependency layers
   (pnpm fetch) come from Docker's cache;
3. for the example only, the seed's broken layout (tests/fixtures/seed-broken/Dockerfile), which
   the role builds and then rejects in its runtime verification.

Build times are those of the role's build task (ansible.posix.profile_tasks). Sizes are Docker's
image sizes; the deployed folder is /app in the built image (`du -sb`). The goal per workspace:
(image - base) / deployed folder <= 1.1, i.e. the image adds next to nothing to what runs.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import yaml

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = Path(__file__).with_name("build.yml")
FIXTURES = ROOT / "tests" / "fixtures" / "workspaces"
SEED_DOCKERFILE = ROOT / "tests" / "fixtures" / "seed-broken" / "Dockerfile"
REGISTRY = "127.0.0.1:5000"
NODE_BASES = {
    major: {"runtime": f"{REGISTRY}/vextrus/node-runtime:{major}", "builder": f"{REGISTRY}/vextrus/node-build:{major}"}
    for major in (20, 24)
}
SEED_SIZE = 1.67e9
GOAL = 1.1
BUILD_TASK = re.compile(r"image_build : Build the image with the content tag -+ ([0-9.]+)s")


@dataclass(frozen=True)
class Workspace:
    """One workspace the bench builds: where it is, which package, the source file it edits and
    the role variables of its shape."""

    name: str
    path: Path
    service: str
    source: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def repository(self) -> str:
        return f"vextrus/bench-{self.name}"


def _fixture(name: str, source: str) -> Workspace:
    profile = yaml.safe_load((FIXTURES / f"{name}.vars.yml").read_text(encoding="utf-8"))
    return Workspace(
        name=name,
        path=ROOT / profile["deploy_build_context"],
        service=profile["deploy_build_service"],
        source=source,
        extra={"image_build_service_shape": profile.get("deploy_service_shape", {})},
    )


def workspaces() -> list[Workspace]:
    return [
        Workspace(
            name="finance-service",
            path=ROOT / "examples" / "finance-service",
            service="finance",
            source="services/finance/src/main.ts",
            # the example refuses to start without its secret, as its pods get it from the Secret
            extra={"image_build_verify_env": {"JWT_SECRET": "image-size-bench-secret-0123456789abcdef"}},
        ),
        _fixture("ledger-esm", "apps/ledger/src/server.ts"),
        _fixture("status-fastify", "packages/status-svc/src/main.ts"),
    ]


def log(message: str) -> None:
    print(f"image_size: {message}", file=sys.stderr, flush=True)


def run_role(
    workspace: Workspace, copy: Path, work: Path, **extra: object
) -> tuple[subprocess.CompletedProcess[str], float, str]:
    values = {
        "image_build_context": str(copy),
        "image_build_service": workspace.service,
        "image_build_node_bases": NODE_BASES,
        "image_build_registry": REGISTRY,
        "image_build_repository": workspace.repository,
        "image_build_tag": "bench",
        "image_build_push": False,
        "image_build_work_dir": str(work),
        **workspace.extra,
        **extra,
    }
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks",
        PROFILE_TASKS_TASK_OUTPUT_LIMIT="all",
        ANSIBLE_NOCOLOR="1",
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    )
    cmd = [str(Path(sys.executable).parent / "ansible-playbook"), "-v", "-i", "localhost,", str(PLAYBOOK), "-e", json.dumps(values)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    output = proc.stdout + proc.stderr
    timing = BUILD_TASK.search(output)
    ref = re.search(rf"{re.escape(REGISTRY)}/{re.escape(workspace.repository)}:(src-[0-9a-f]{{16}})", output)
    if not timing or not ref:
        raise SystemExit(f"image_size: the role run did not build an image of {workspace.name}:\n{output[-4000:]}")
    return proc, float(timing.group(1)), f"{REGISTRY}/{workspace.repository}:{ref.group(1)}"


def edit_source(copy: Path, workspace: Workspace, note: str) -> None:
    path = copy / workspace.source
    path.write_text(path.read_text(encoding="utf-8") + f"\n// bench: {note}\n", encoding="utf-8")


def mb(size: float) -> str:
    return f"{size / 1e6:8.1f} MB"


def _build_twice(client: docker.DockerClient, workspace: Workspace, tmp: Path, stamp: str) -> dict[str, Any]:
    """Cold and warm builds of one workspace; its sizes and times."""
    copy = tmp / workspace.name
    shutil.copytree(workspace.path, copy, ignore=shutil.ignore_patterns("node_modules", "dist", "build", ".test-build"))
    log(f"{workspace.name}: cold build (no layer cache) of a fresh source edit ...")
    edit_source(copy, workspace, f"cold {stamp}")
    proc, cold, _ = run_role(workspace, copy, tmp / f"work-{workspace.name}", image_build_nocache=True)
    if proc.returncode != 0:
        raise SystemExit(f"image_size: the cold build of {workspace.name} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    log(f"{workspace.name}: cold build {cold:.1f} s; warm build after a source-only edit ...")
    edit_source(copy, workspace, f"warm {stamp}")
    proc, warm, ref = run_role(workspace, copy, tmp / f"work-{workspace.name}")
    if proc.returncode != 0:
        raise SystemExit(f"image_size: the warm build of {workspace.name} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
    image = client.images.get(ref)
    base_ref = image.labels.get("org.opencontainers.image.base.name", "")
    base = client.images.get(base_ref).attrs["Size"]
    du = client.containers.run(ref, ["du", "-sb", "/app"], entrypoint=[], remove=True, user="0")
    deployed = int(du.decode().split()[0])
    figures = {
        "workspace": workspace.name,
        "image": ref,
        "base": base_ref,
        "base_bytes": base,
        "image_bytes": image.attrs["Size"],
        "deployed_bytes": deployed,
        "ratio": round((image.attrs["Size"] - base) / deployed, 3),
        "cold_build_s": cold,
        "warm_build_s": warm,
    }
    log(f"{workspace.name}: warm build {warm:.1f} s; (image - base) / deployed {figures['ratio']:.2f}")
    return figures


def _seed_layout(workspace: Workspace, tmp: Path) -> tuple[str, float]:
    """The seed's broken layout over the example (the role must reject it at verification)."""
    copy = tmp / workspace.name
    proc, seconds, ref = run_role(workspace, copy, tmp / "work-broken", image_build_dockerfile=str(SEED_DOCKERFILE))
    if proc.returncode == 0 or "Cannot find module '@nestjs/core'" not in proc.stdout + proc.stderr:
        raise SystemExit("image_size: the broken layout was expected to fail verification with Cannot find module")
    return ref, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--only", action="append", default=[], help="build only this workspace (repeatable)")
    args = parser.parse_args()
    client = docker.from_env()
    for pair in NODE_BASES.values():
        for image in pair.values():
            try:
                client.images.get(image)
            except docker.errors.ImageNotFound:
                raise SystemExit(f"image_size: base image {image} is missing; run localcluster/infra/up.sh first")
    chosen = [w for w in workspaces() if not args.only or w.name in args.only]
    rows: list[dict[str, Any]] = []
    broken: tuple[str, float] | None = None
    with tempfile.TemporaryDirectory(prefix="image-size-") as tmp_name:
        tmp = Path(tmp_name)
        stamp = str(time.time_ns())
        for workspace in chosen:
            rows.append(_build_twice(client, workspace, tmp, stamp))
            if workspace.name == "finance-service":
                log("finance-service: the seed's broken layout ...")
                broken = _seed_layout(workspace, tmp)
    print(f"{'workspace':16} {'base':34} {'base':>11} {'image':>11} {'deployed':>11} {'ratio':>6} {'cold':>7} {'warm':>7}")
    for row in rows:
        print(
            f"{row['workspace']:16} {row['base'].rsplit('/', 1)[-1]:34} {mb(row['base_bytes'])} {mb(row['image_bytes'])}"
            f" {mb(row['deployed_bytes'])} {row['ratio']:6.2f} {row['cold_build_s']:6.1f}s {row['warm_build_s']:6.1f}s"
        )
    print(f"goal: (image - base) / deployed folder <= {GOAL}; "
          f"{'met' if all(r['ratio'] <= GOAL for r in rows) else 'NOT met'} for {len(rows)} workspace(s)")
    example = next((r for r in rows if r["workspace"] == "finance-service"), None)
    if example:
        print(f"baseline: the seed's image (status page) {mb(SEED_SIZE)}; the example's image "
              f"{mb(example['image_bytes'])} ({SEED_SIZE / example['image_bytes']:.1f}x smaller)")
    if broken:
        broken_bytes = client.images.get(broken[0]).attrs["Size"]
        print(f"the seed's broken layout over the example: {mb(broken_bytes)}, built in {broken[1]:.1f} s (cached), "
              "rejected by the runtime verification (Cannot find module '@nestjs/core')")
    if args.json:
        print(json.dumps({"workspaces": rows, "seed_bytes": SEED_SIZE, "goal": GOAL}))
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
