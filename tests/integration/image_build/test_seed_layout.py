"""The seed's broken image layout (tests/fixtures/seed-broken/Dockerfile) builds, but the role's
runtime verification rejects it with the container's own error, and nothing reaches the registry."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

from .conftest import SEED_DOCKERFILE, BuildRunner, registry_tags

REPOSITORY = "vextrus/finance"
PACKAGE = Path(__file__).resolve().parents[3] / "examples" / "finance-service" / "services" / "finance" / "package.json"


def test_seed_layout_fails_verification_and_is_not_pushed(run_build: BuildRunner, docker_client, tmp_path):
    tag = f"seed-broken-{uuid.uuid4().hex[:8]}"
    run = run_build(
        {
            "image_build_dockerfile": str(SEED_DOCKERFILE),
            "image_build_repository": REPOSITORY,
            "image_build_tag": tag,
            "image_build_work_dir": str(tmp_path / "work"),
        }
    )
    assert run.rc != 0, run.output[-3000:]
    assert run.recap()["failed"] == 1, run.output[-3000:]
    failed = run.flat.split("fatal: [localhost]")[-1]
    assert "failed runtime verification, nothing was pushed" in run.flat
    # the container's own error output, read from its logs
    assert "Container output: Error: Cannot find module '@nestjs/core'" in run.flat
    assert "Cannot find module '@nestjs/core'" in failed
    # the dependency check counts every production dependency of package.json: none resolves
    count = len(json.loads(PACKAGE.read_text())["dependencies"])
    assert count >= 7
    assert f"{count} of {count} production dependencies of package.json do not resolve from /app" in run.flat
    content_tag = re.search(r"vextrus/finance:(src-[0-9a-f]{16}) failed runtime verification", run.flat).group(1)
    tags = registry_tags(REPOSITORY)
    assert tag not in tags
    assert content_tag not in tags
    # the verification containers are gone
    leftovers = docker_client.containers.list(all=True, filters={"name": f"image-verify-finance-{content_tag}"})
    assert leftovers == []
