"""Image size and build time of the image_build role, beside the seed's 1.67 GB image.

Runs the role (bench/image_size/build.yml) on a temporary copy of examples/finance-service, with
the local base images and image_build_push=false (the bench pushes nothing):

1. cold build: a fresh source edit (so the content tag is new) and image_build_nocache=true;
2. warm build: another source-only edit; the lockfile did not change, so the dependency layers
   (pnpm fetch) come from Docker's cache;
3. the seed's broken layout (tests/fixtures/seed-broken/Dockerfile), which the role builds and
   then rejects in its runtime verification.

Build times are those of the role's build task (ansible.posix.profile_tasks). Sizes are Docker's
image sizes; the deployed folder is /app in the fixed image (`du -sb`).
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
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = Path(__file__).with_name("build.yml")
WORKSPACE = ROOT / "examples" / "finance-service"
SEED_DOCKERFILE = ROOT / "tests" / "fixtures" / "seed-broken" / "Dockerfile"
SOURCE = Path("services/finance/src/main.ts")
REGISTRY = "127.0.0.1:5000"
REPOSITORY = "vextrus/finance-bench"
RUNTIME = f"{REGISTRY}/vextrus/node-runtime:20"
BUILDER = f"{REGISTRY}/vextrus/node-build:20"
SEED_SIZE = 1.67e9
BUILD_TASK = re.compile(r"image_build : Build the image with the content tag -+ ([0-9.]+)s")
CONTENT_REF = re.compile(rf"{re.escape(REGISTRY)}/{re.escape(REPOSITORY)}:(src-[0-9a-f]{{16}})")


def log(message: str) -> None:
    print(f"image_size: {message}", file=sys.stderr, flush=True)


def run_role(workspace: Path, work: Path, **extra: object) -> tuple[subprocess.CompletedProcess[str], float, str]:
    values = {
        "image_build_context": str(workspace),
        "image_build_service": "finance",
        "image_build_base_image": RUNTIME,
        "image_build_builder_image": BUILDER,
        "image_build_registry": REGISTRY,
        "image_build_repository": REPOSITORY,
        "image_build_tag": "bench",
        "image_build_push": False,
        "image_build_work_dir": str(work),
        "image_build_verify_env": {"JWT_SECRET": "image-size-bench-secret-0123456789abcdef"},
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
    ref = CONTENT_REF.search(output)
    if not timing or not ref:
        raise SystemExit(f"image_size: the role run did not build an image:\n{output[-4000:]}")
    return proc, float(timing.group(1)), f"{REGISTRY}/{REPOSITORY}:{ref.group(1)}"


def edit_source(workspace: Path, note: str) -> None:
    path = workspace / SOURCE
    path.write_text(path.read_text() + f"\n// bench: {note}\n")


def mb(size: float) -> str:
    return f"{size / 1e6:8.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    args = parser.parse_args()
    client = docker.from_env()
    for image in (RUNTIME, BUILDER):
        try:
            client.images.get(image)
        except docker.errors.ImageNotFound:
            raise SystemExit(f"image_size: base image {image} is missing; run localcluster/infra/up.sh first")
    with tempfile.TemporaryDirectory(prefix="image-size-") as tmp:
        workspace = Path(tmp) / "finance-service"
        shutil.copytree(WORKSPACE, workspace, ignore=shutil.ignore_patterns("node_modules", "dist", ".test-build"))
        stamp = str(time.time_ns())
        log("cold build (no layer cache) of a fresh source edit ...")
        edit_source(workspace, f"cold {stamp}")
        proc, cold, _ = run_role(workspace, Path(tmp) / "work", image_build_nocache=True)
        if proc.returncode != 0:
            raise SystemExit(f"image_size: the cold build failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
        log(f"cold build: {cold:.1f} s; warm build after a source-only edit ...")
        edit_source(workspace, f"warm {stamp}")
        proc, warm, fixed_ref = run_role(workspace, Path(tmp) / "work")
        if proc.returncode != 0:
            raise SystemExit(f"image_size: the warm build failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
        log(f"warm build: {warm:.1f} s; the seed's broken layout ...")
        proc, broken_time, broken_ref = run_role(
            workspace, Path(tmp) / "work-broken", image_build_dockerfile=str(SEED_DOCKERFILE)
        )
        if proc.returncode == 0 or "Cannot find module '@nestjs/core'" not in proc.stdout + proc.stderr:
            raise SystemExit("image_size: the broken layout was expected to fail verification with Cannot find module")
    base = client.images.get(RUNTIME).attrs["Size"]
    fixed = client.images.get(fixed_ref).attrs["Size"]
    broken = client.images.get(broken_ref).attrs["Size"]
    du = client.containers.run(fixed_ref, ["du", "-sb", "/app"], entrypoint=[], remove=True, user="0")
    deployed = int(du.decode().split()[0])
    ratio = (fixed - base) / deployed
    rows = [
        ("base image (node-runtime:20)", mb(base), RUNTIME),
        ("fixed image (role template)", mb(fixed), fixed_ref),
        ("broken-layout image (seed)", mb(broken), broken_ref),
        ("deployed folder /app", mb(deployed), "pnpm deploy --prod output"),
        ("seed's image (status page)", mb(SEED_SIZE), "vextrus/finance:week4-prod-final"),
    ]
    print(f"{'':32} {'size':>11}   image")
    for label, size, ref in rows:
        print(f"{label:32} {size}   {ref}")
    print(f"{'(fixed - base) / deployed folder':32} {ratio:8.2f}")
    print(f"{'fixed vs the seed':32} {fixed / SEED_SIZE * 100:7.1f} %  ({SEED_SIZE / fixed:.1f}x smaller)")
    print(f"{'cold build (no cache)':32} {cold:8.1f} s")
    print(f"{'warm build (source-only edit)':32} {warm:8.1f} s")
    print(f"{'broken-layout build (cached)':32} {broken_time:8.1f} s")
    if args.json:
        print(
            json.dumps(
                {
                    "base_bytes": base,
                    "fixed_bytes": fixed,
                    "broken_bytes": broken,
                    "deployed_bytes": deployed,
                    "ratio": round(ratio, 3),
                    "seed_bytes": SEED_SIZE,
                    "cold_build_s": cold,
                    "warm_build_s": warm,
                    "broken_build_s": broken_time,
                }
            )
        )
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
