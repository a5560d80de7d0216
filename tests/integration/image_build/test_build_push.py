"""A fresh source change goes the whole way: build, runtime verification, push, digest; the same
inputs a second time change nothing (no build, no verification, no push)."""

from __future__ import annotations

import re
import shutil
import uuid

import requests

from .conftest import REGISTRY, WORKSPACE, BuildRunner, registry_tags

REPOSITORY = "vextrus/finance-it"
MANIFEST_TYPES = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"


def task_status(output: str, task: str) -> str:
    """The first status word (ok, changed, skipping, fatal) after a task's header."""
    after = output.split(f"TASK [vextrus.deploy.image_build : {task}]", 1)[1]
    return re.search(r"^(ok|changed|skipping|fatal):", after, re.M).group(1)


def test_fresh_change_is_built_verified_pushed_then_left_alone(run_build: BuildRunner, docker_client, tmp_path):
    workspace = tmp_path / "finance-service"
    shutil.copytree(WORKSPACE, workspace, ignore=shutil.ignore_patterns("node_modules", "dist", ".test-build"))
    marker = uuid.uuid4().hex[:8]
    main = workspace / "services" / "finance" / "src" / "main.ts"
    main.write_text(main.read_text() + f"\n// integration test {marker}\n")
    values = {
        "image_build_context": str(workspace),
        "image_build_repository": REPOSITORY,
        "image_build_tag": f"it-{marker}",
        "image_build_work_dir": str(tmp_path / "work"),
    }

    first = run_build(values, "-v")
    assert first.rc == 0, first.output[-4000:]
    assert "passed runtime verification" in first.flat
    match = re.search(rf"({re.escape(REGISTRY)}/{re.escape(REPOSITORY)}@sha256:[0-9a-f]{{64}}) \(tags (src-[0-9a-f]{{16}}) and it-{marker}\)", first.flat)
    assert match, first.output[-4000:]
    digest_ref, content_tag = match.groups()
    assert {content_tag, f"it-{marker}"} <= set(registry_tags(REPOSITORY))
    for tag in (content_tag, f"it-{marker}"):
        answer = requests.head(f"http://{REGISTRY}/v2/{REPOSITORY}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}, timeout=10)
        assert answer.status_code == 200
        assert f"{REGISTRY}/{REPOSITORY}@{answer.headers['Docker-Content-Digest']}" == digest_ref
    assert docker_client.containers.list(all=True, filters={"name": f"image-verify-finance-{content_tag}"}) == []

    second = run_build(values)
    assert second.rc == 0, second.output[-4000:]
    assert second.recap()["changed"] == 0, second.output[-4000:]
    assert task_status(second.output, "Build the image with the content tag") == "skipping"
    assert f"{digest_ref} (tags {content_tag} and it-{marker})" in second.flat

    # a new tag for the same inputs only moves the tag: nothing is built or verified again
    third = run_build({**values, "image_build_tag": f"it-{marker}-b"})
    assert third.rc == 0, third.output[-4000:]
    assert task_status(third.output, "Build the image with the content tag") == "skipping"
    assert task_status(third.output, "Decide whether the image passed") == "skipping"
    assert task_status(third.output, "Push the content tag") == "skipping"
    assert f"it-{marker}-b" in registry_tags(REPOSITORY)
    answer = requests.head(f"http://{REGISTRY}/v2/{REPOSITORY}/manifests/it-{marker}-b", headers={"Accept": MANIFEST_TYPES}, timeout=10)
    assert f"{REGISTRY}/{REPOSITORY}@{answer.headers['Docker-Content-Digest']}" == digest_ref
