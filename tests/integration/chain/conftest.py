"""Fixtures of the week-chain tests: playbooks/weekN.yml against the local cluster (the real node
where pods must really run, the simulated nodes for failure modes), the Docker engine and the
registry on 127.0.0.1:5000. The fixtures of ../conftest.py (kubeconfig, k8s_client, wait) fail the
session clearly when the cluster is not up; nothing is mocked.

The session's image of the example service comes from `week1_release` (week 1 with an empty
rollout_image: the chain builds, verifies and pushes the example service to the session's
repository, or finds it there when another run of the session pushed it first, such as the
week 1 of another worker of a parallel session); every other test deploys that digest, and the
weeks test carries on in its namespace.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest
from kubernetes import client

from chainkit import (
    REAL_NODE,
    build_and_push,
    SEED_DOCKERFILE,
    WORKSPACE,
    WeekRun,
    run_week,
    track_state,
    unique_namespace,
)
from clusterkit import (
    BUILD_IMAGE,
    REGISTRY,
    RUNTIME_IMAGE,
    SESSION_REPOSITORY,
    building_the_example,
    delete_namespace,
    require_registry,
)

BROKEN_REPOSITORY = f"{REGISTRY}/vextrus-test/seed-broken"
FAULTS = Path(__file__).resolve().parents[2] / "fixtures" / "faults"


@dataclass
class Release:
    namespace: str
    run: WeekRun
    image: str
    state: dict


@pytest.fixture(scope="session")
def chain_vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local vault (generated secrets) of this session's chain runs, outside .local/vault."""
    return tmp_path_factory.mktemp("chain-vault")


@pytest.fixture(scope="session")
def registry() -> str:
    """The local registry's address; fails the session clearly when it does not answer."""
    return require_registry()


def _namespaces(k8s_client: client.ApiClient) -> Iterator[Callable[[str], str]]:
    names: list[str] = []

    def make(label: str) -> str:
        names.append(unique_namespace(label))
        return names[-1]

    yield make
    for name in names:
        delete_namespace(k8s_client, name)


@pytest.fixture
def new_namespace(k8s_client: client.ApiClient) -> Iterator[Callable[[str], str]]:
    """new_namespace(label) -> a unique namespace name the chain creates; deleted after the test."""
    yield from _namespaces(k8s_client)


@pytest.fixture(scope="module")
def module_namespace(k8s_client: client.ApiClient) -> Iterator[Callable[[str], str]]:
    """As new_namespace, for a module's fixtures: deleted after the module's last test."""
    yield from _namespaces(k8s_client)


@pytest.fixture(scope="session")
def week1_release(
    k8s_client: client.ApiClient,
    registry: str,
    chain_vault: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Release]:
    """Week 1 on the real node with an empty rollout_image: the chain builds the example service,
    verifies and pushes it (unless the session's repository holds it already), and rolls it out.
    Its namespace is deleted at the end of the session."""
    namespace = unique_namespace("weeks")
    with building_the_example(SESSION_REPOSITORY):
        run = run_week(
            1,
            namespace,
            tmp_path_factory.mktemp("week1-build-report"),
            chain_vault,
            {**REAL_NODE, "rollout_image": ""},
        )
    try:
        assert run.rc == 0, run.tail()
        assert run.report is not None, run.tail()
        assert run.report["verdict"] == "PASS", run.tail()
        image = run.report["image"]
        assert image.startswith(f"{REGISTRY}/{SESSION_REPOSITORY}@sha256:"), image
        yield Release(namespace, run, image, track_state(k8s_client, namespace))
    finally:
        delete_namespace(k8s_client, namespace)


@pytest.fixture(scope="session")
def good_image(week1_release: Release) -> str:
    """The digest of the example service as the chain built, verified and pushed it."""
    return week1_release.image


@pytest.fixture(scope="session")
def broken_image(registry: str) -> str:
    """The seed's broken image (tests/fixtures/seed-broken/Dockerfile), built with the Docker SDK and
    pushed to the registry under a test repository; returned by digest."""
    try:
        engine = docker.from_env(timeout=900)
        engine.ping()
    except docker.errors.DockerException as exc:
        pytest.fail(f"the Docker engine is not reachable ({exc}); run `make cluster-up`")
    try:
        image, _ = engine.images.build(
            path=str(WORKSPACE),
            dockerfile=str(SEED_DOCKERFILE),
            buildargs={
                "BUILDER_IMAGE": BUILD_IMAGE,
                "RUNTIME_IMAGE": RUNTIME_IMAGE,
                "PNPM_VERSION": "10.34.8",
            },
            tag=f"{BROKEN_REPOSITORY}:seed-broken",
            rm=True,
            forcerm=True,
        )
        errors = [
            line["error"]
            for line in engine.images.push(BROKEN_REPOSITORY, tag="seed-broken", stream=True, decode=True)
            if "error" in line
        ]
        assert not errors, f"push of {BROKEN_REPOSITORY}:seed-broken failed: {errors}"
        image.reload()
        digests = [d for d in image.attrs.get("RepoDigests") or [] if d.startswith(f"{BROKEN_REPOSITORY}@sha256:")]
        assert digests, f"no digest of {BROKEN_REPOSITORY} after the push: {image.attrs.get('RepoDigests')}"
        return digests[0]
    except docker.errors.BuildError as exc:
        log = "".join(str(part.get("stream") or part.get("error") or "") for part in exc.build_log)
        pytest.fail(f"the seed-broken image did not build: {exc}\n{log[-3000:]}")
    finally:
        engine.close()


@pytest.fixture(scope="session")
def another_good_image(good_image: str, registry: str) -> Callable[[str], str]:
    """another_good_image(label) -> the digest of an image that runs exactly like good_image but is a
    different release: good_image plus one LABEL, built with the Docker SDK and pushed to the registry."""
    repository = good_image.split("@", 1)[0]
    made: dict[str, str] = {}

    def make(label: str) -> str:
        if label not in made:
            dockerfile = f"FROM {good_image}\nLABEL io.vextrus.test.release={json.dumps(label)}\n"
            made[label] = build_and_push(repository, f"test-{label}", fileobj=io.BytesIO(dockerfile.encode()))
            assert made[label] != good_image
        return made[label]

    return make


@pytest.fixture(scope="session")
def fault_image(good_image: str, registry: str) -> Callable[[str], str]:
    """fault_image(name) -> the digest of good_image with the fault fixture tests/fixtures/faults/<name>.js
    applied (errors-10pct: every tenth API request answers 500; latency-800ms: API requests wait 800 ms),
    built with the Docker SDK and pushed to the registry. /health answers as before."""
    repository = good_image.split("@", 1)[0]
    made: dict[str, str] = {}

    def make(name: str) -> str:
        assert (FAULTS / f"{name}.js").is_file(), f"no fault fixture {name} in {FAULTS}"
        if name not in made:
            engine = docker.from_env(timeout=300)
            try:
                user = engine.images.pull(good_image).attrs["Config"].get("User") or "0"
            finally:
                engine.close()
            made[name] = build_and_push(repository, f"fault-{name}", path=str(FAULTS),
                                         buildargs={"BASE": good_image, "FAULT": name, "RUN_AS": user})
        return made[name]

    return make
