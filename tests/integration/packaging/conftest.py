"""Fixtures of the packaging tests: the collection built into a tarball, installed into an empty
collections path, and week 1 run from that installation against the local cluster. The fixtures of
../conftest.py (kubeconfig, k8s_client) fail the session clearly when the cluster is not up;
nothing is mocked.

`installed_week1` runs week 1 of the installed collection with an empty rollout_image: it builds,
verifies and pushes the example service to a repository of the session's own for the installed
collection (PACKAGING_REPOSITORY); the ansible-runner test deploys that digest, as an AWX survey
would pass it. Its image is not the checkout's (another content tag), so in the session's
repository it would move the tag the checkout's week 1 points at the checkout's image ("local")
between two runs of another test, such as the molecule chain scenario's converge and its
idempotence check, when both run at once in a parallel session.

`ee`, `job_secrets` and `example_image` are what AWX-style jobs need (test_ee_image.py,
test_awx_workflow.py): the execution environment built and pushed, the job's secrets, and the
example service's image built on the host. Session fixtures, so the image is built once a session.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from awxjob import EE_IMAGE, LOCAL_BUILD, Secrets, docker, new_secrets
from chain.chainkit import REAL_NODE, WORKSPACE, deployments_in
from clusterkit import (
    REGISTRY,
    RUN_ID,
    SESSION_REPOSITORY,
    building_the_example,
    delete_namespace,
    require_registry,
)
from packkit import (
    BIN,
    ROOT,
    BuiltCollection,
    InstalledCollection,
    InstalledWeek,
    install_collection,
    run,
    run_installed_week,
    tarball_name,
    unique_namespace,
)
from playbookrun import ansible_env, ansible_playbook, week_vars

PACKAGING_REPOSITORY = f"vextrus-test/{RUN_ID}/installed"


@pytest.fixture(scope="session")
def built_collection(tmp_path_factory: pytest.TempPathFactory) -> BuiltCollection:
    """`ansible-galaxy collection build <checkout> --output-path <tmp>`, run from a tmp directory."""
    out = tmp_path_factory.mktemp("collection-build")
    build = run([str(BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(out)], cwd=out)
    assert build.rc == 0, build.tail()
    tarballs = sorted(out.glob("*.tar.gz"))
    assert [t.name for t in tarballs] == [tarball_name()], build.tail()
    return BuiltCollection(tarballs[0], build)


@pytest.fixture(scope="session")
def installed_collection(
    built_collection: BuiltCollection, tmp_path_factory: pytest.TempPathFactory
) -> InstalledCollection:
    """The tarball installed (offline, dependencies from the pinned ansible package) into an empty
    collections path of its own."""
    installed = install_collection(built_collection.tarball, tmp_path_factory.mktemp("collection-install"))
    assert installed.install.rc == 0, installed.install.tail()
    return installed


@pytest.fixture(scope="session")
def installed_week1(
    installed_collection: InstalledCollection,
    kubeconfig: Path,
    k8s_client: client.ApiClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[InstalledWeek]:
    """`ansible-playbook vextrus.deploy.week1` of the installed collection, from a tmp directory,
    on the real node, building the example service (whose workspace is not part of the
    collection, so deploy_build_context names it). The namespace is deleted at the end."""
    workdir = tmp_path_factory.mktemp("installed-week1")
    namespace = unique_namespace("installed")
    values = week_vars(
        namespace,
        workdir / "reports",
        workdir / "vault",
        {
            **REAL_NODE,
            "rollout_image": "",
            "deploy_build_context": str(WORKSPACE),
            "deploy_repository": PACKAGING_REPOSITORY,
        },
    )
    try:
        with building_the_example(PACKAGING_REPOSITORY):
            week = run_installed_week(installed_collection, 1, workdir, values, kubeconfig)
        yield InstalledWeek(namespace, workdir, week, deployments_in(k8s_client, namespace))
    finally:
        delete_namespace(k8s_client, namespace)


@pytest.fixture(scope="session")
def packaged_image(installed_week1: InstalledWeek) -> str:
    """The digest installed_week1 built, verified and pushed (fails when that week did not pass)."""
    report = installed_week1.run.report
    assert installed_week1.run.rc == 0 and report is not None, installed_week1.run.tail()
    image = str(report["image"])
    assert image.startswith(f"{REGISTRY}/{PACKAGING_REPOSITORY}@sha256:"), image
    return image


@pytest.fixture(scope="session")
def ee(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """awx/ee/local.py: the execution environment built (base included when missing) and pushed
    under the run's own repository; its summary (image, digest, collections)."""
    info = docker("info", "--format", "{{.ServerVersion}}", timeout=30)
    if info.returncode != 0:
        pytest.fail(f"the Docker engine does not answer ({info.stderr.strip()}); run `make cluster-up`")
    require_registry()
    out = tmp_path_factory.mktemp("ee-build")
    done = subprocess.run(
        [sys.executable, str(LOCAL_BUILD), "--tag", EE_IMAGE, "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False,
    )
    assert done.returncode == 0, f"awx/ee/local.py failed:\n{done.stderr[-5000:]}"
    summary: dict[str, Any] = json.loads(done.stdout)
    return summary


@pytest.fixture(scope="session")
def job_secrets() -> Secrets:
    """The secret values the jobs' inventory holds vault-encrypted, and the vault password."""
    return new_secrets()


@pytest.fixture(scope="session")
def example_image(tmp_path_factory: pytest.TempPathFactory, job_secrets: Secrets) -> str:
    """The example service's image, built, verified and pushed on the host with week 1's settings
    (build_example.yml beside this file): the session's image when another run pushed it already."""
    require_registry()
    work = tmp_path_factory.mktemp("example-image")
    values = week_vars("vx-ee-build", work / "reports", work / "vault",
                       {"deploy_build_context": str(WORKSPACE), "image_build_verify_env": job_secrets.values})
    with building_the_example(SESSION_REPOSITORY):
        done = ansible_playbook(str(ROOT / "inventories" / "local"), str(Path(__file__).with_name("build_example.yml")),
                                values, env=ansible_env(path=[ROOT / ".local" / "bin"]), timeout=1200)
    assert done.rc == 0, done.tail()
    found = re.search(rf"({re.escape(REGISTRY)}/{re.escape(SESSION_REPOSITORY)}@sha256:[0-9a-f]{{64}}) \(tags src-", done.flat)
    assert found, f"no pushed digest in the build's output:\n{done.tail()}"
    return found.group(1)
