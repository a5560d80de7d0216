"""Two builds of one service at once never share a work directory or a verification container:
each stages its build context in a directory of its own (run-<token>), removed at the end, and
both end with the same verified digest; the same inputs again change nothing."""

from __future__ import annotations

import re
import shutil
import uuid
from concurrent.futures import ThreadPoolExecutor

from playbookrun import ansible_env, ansible_playbook

from .conftest import BASES, PLAYBOOK, REGISTRY, SECRET_ENV, WORKSPACE

REPOSITORY = "vextrus/finance-it"


def test_concurrent_builds_stage_apart_and_clean_up(registry, docker_client, tmp_path):
    workspace = tmp_path / "finance-service"
    shutil.copytree(WORKSPACE, workspace, ignore=shutil.ignore_patterns("node_modules", "dist", ".test-build"))
    marker = uuid.uuid4().hex[:8]
    main = workspace / "services" / "finance" / "src" / "main.ts"
    main.write_text(main.read_text() + f"\n// concurrent builds {marker}\n")
    cache = tmp_path / "cache"
    values = {
        "image_build_context": str(workspace),
        "image_build_service": "finance",
        "image_build_registry": registry,
        "image_build_repository": REPOSITORY,
        "image_build_tag": f"it-{marker}",
        "image_build_verify_env": SECRET_ENV,
        **BASES,
    }
    env = ansible_env(XDG_CACHE_HOME=str(cache))

    def build():
        return ansible_playbook("localhost,", str(PLAYBOOK), values, "-v", env=env, timeout=900)

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda _: build(), range(2)))
    for run in runs:
        assert run.rc == 0, run.output[-4000:]
    service_dir = cache / "vextrus-deploy" / "image_build" / "finance"
    work_dirs = [set(re.findall(rf"{re.escape(str(service_dir))}/(run-[a-z0-9]{{8}})", run.output)) for run in runs]
    assert all(len(dirs) == 1 for dirs in work_dirs), work_dirs
    assert work_dirs[0] != work_dirs[1], "both runs staged into the same directory"
    assert list(service_dir.iterdir()) == [], "a run left its work directory behind"
    found = [
        re.search(rf"({re.escape(REGISTRY)}/{re.escape(REPOSITORY)}@sha256:[0-9a-f]{{64}}) \(tags (src-[0-9a-f]{{16}}) and it-{marker}\)", run.flat)
        for run in runs
    ]
    assert all(found), runs[0].output[-4000:]
    assert found[0].groups() == found[1].groups(), "the two runs ended with different digests"
    content_tag = found[0].group(2)
    assert docker_client.containers.list(all=True, filters={"name": f"image-verify-finance-{content_tag}"}) == []

    again = ansible_playbook("localhost,", str(PLAYBOOK), values, env=env, timeout=900)
    assert again.rc == 0, again.output[-4000:]
    assert again.recap()["changed"] == 0, again.output[-4000:]
    assert list(service_dir.iterdir()) == []
