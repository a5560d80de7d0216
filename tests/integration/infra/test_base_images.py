"""The locally made Node base images, one runtime/build pair per Node major, for real: what they run,
what they hold, how they stop, and that base-image.sh keeps them current without rebuilding."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from clusterkit import BASE_IMAGES, BASE_SUITES, REGISTRY, registry_digest
from infrakit import INFRA, PAUSE_IMAGE, DockerRunner

HOST_CA_DIR = Path("/usr/local/share/ca-certificates")
MAJORS = sorted(BASE_IMAGES)
ALL_IMAGES = [ref for major in MAJORS for ref in BASE_IMAGES[major]] + [PAUSE_IMAGE]
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def _split(ref: str) -> tuple[str, str]:
    """127.0.0.1:5000/a/b:tag -> ("a/b", "tag")."""
    path = ref.removeprefix(f"{REGISTRY}/")
    repository, _, tag = path.rpartition(":")
    return repository, tag


def _labels(docker: DockerRunner, ref: str) -> dict[str, str]:
    return json.loads(docker("image", "inspect", "--format", "{{json .Config.Labels}}", ref).stdout) or {}


def _node_version(docker: DockerRunner, ref: str) -> str:
    return docker("run", "--rm", ref, "node", "--version").stdout.strip()


@pytest.mark.parametrize("major", MAJORS)
def test_runtime_image_runs_its_node_major_without_npm(docker: DockerRunner, major: int) -> None:
    runtime, _ = BASE_IMAGES[major]
    assert re.fullmatch(rf"v{major}\.\d+\.\d+", _node_version(docker, runtime))
    no_npm = docker("run", "--rm", runtime, "sh", "-c", "command -v npm npx", check=False)
    assert no_npm.returncode != 0 and no_npm.stdout.strip() == "", f"npm found in {runtime}: {no_npm.stdout}"
    leftovers = docker(
        "run", "--rm", runtime, "sh", "-c", "find /var/lib/apt/lists /var/cache/apt -mindepth 1 | head -5"
    ).stdout.strip()
    assert leftovers == "", f"apt lists/caches left in {runtime}: {leftovers}"
    config = json.loads(docker("image", "inspect", "--format", "{{json .Config}}", runtime).stdout)
    assert config["Entrypoint"] == ["/usr/bin/tini", "--"]
    assert config["WorkingDir"] == "/app"
    assert f"NODE_EXTRA_CA_CERTS={CA_BUNDLE}" in config["Env"]
    assert docker("run", "--rm", "--user", "1000:1000", runtime, "id", "-un").stdout.strip() == "node"


@pytest.mark.parametrize("major", MAJORS)
def test_build_image_has_npm_and_the_same_node(docker: DockerRunner, major: int) -> None:
    runtime, build = BASE_IMAGES[major]
    assert re.fullmatch(r"\d+\.\d+\.\d+", docker("run", "--rm", build, "npm", "--version").stdout.strip())
    assert _node_version(docker, build) == _node_version(docker, runtime)
    env = json.loads(docker("image", "inspect", "--format", "{{json .Config.Env}}", build).stdout)
    assert f"NODE_EXTRA_CA_CERTS={CA_BUNDLE}" in env


@pytest.mark.parametrize("major", MAJORS)
def test_images_come_from_their_suite(docker: DockerRunner, major: int) -> None:
    for ref in BASE_IMAGES[major]:
        labels = _labels(docker, ref)
        assert labels.get("org.localcluster.debian-suite") == BASE_SUITES[major], labels
        assert labels.get("org.localcluster.nodejs", "").startswith(f"{major}."), labels
        codename = docker("run", "--rm", ref, "sh", "-c", ". /etc/os-release; echo $VERSION_CODENAME").stdout
        assert codename.strip() == BASE_SUITES[major], f"{ref} is Debian {codename.strip()}"


@pytest.mark.parametrize("major", MAJORS)
def test_runtime_image_trusts_the_hosts_added_certificates(docker: DockerRunner, major: int) -> None:
    runtime, _ = BASE_IMAGES[major]
    bundle = docker("run", "--rm", runtime, "cat", CA_BUNDLE).stdout
    bodies = {
        path.name: "".join(
            line for line in path.read_text().splitlines() if line and not line.startswith("-----")
        )
        for path in sorted(HOST_CA_DIR.glob("*.crt"))
    }
    flat = bundle.replace("\n", "")
    assert bundle.count("BEGIN CERTIFICATE") > 50, f"the CA bundle of {runtime} looks empty"
    missing = [name for name, body in bodies.items() if body not in flat]
    assert missing == [], f"host CA certificates missing from the bundle of {runtime}: {missing}"


@pytest.mark.parametrize("major", MAJORS)
def test_build_image_reaches_the_npm_registry_over_https(docker: DockerRunner, major: int) -> None:
    """A later image build installs pnpm from the npm registry inside this image."""
    _, build = BASE_IMAGES[major]
    proc = docker("run", "--rm", build, "npm", "view", "pnpm", "version", timeout=180)
    assert re.fullmatch(r"\d+\.\d+\.\d+", proc.stdout.strip()), proc.stdout


HANDLER = "process.on('SIGTERM',()=>{console.log('bye');process.exit(0)}); console.log('up'); setInterval(()=>{},1000)"
NO_HANDLER = "console.log('up'); setInterval(()=>{},1000)"


@pytest.mark.parametrize("major", MAJORS)
@pytest.mark.parametrize(
    ("script", "exit_code", "said"),
    [(HANDLER, "0", "bye"), (NO_HANDLER, "143", "up")],
    ids=["with-handler", "without-handler"],
)
def test_docker_stop_reaches_node_through_the_init(
    docker: DockerRunner, major: int, script: str, exit_code: str, said: str
) -> None:
    """PID 1 is the init; SIGTERM reaches node (PID 2), which handles it or dies of it at once.
    Node as PID 1 would ignore an unhandled SIGTERM and be SIGKILLed (137) after the grace period."""
    runtime, _ = BASE_IMAGES[major]
    name = f"infra-sigterm-{major}-{uuid.uuid4().hex[:8]}"
    docker("run", "-d", "--name", name, runtime, "node", "-e", script)
    try:
        deadline = time.monotonic() + 20
        while "up" not in docker("logs", name).stdout:
            assert time.monotonic() < deadline, f"node never started: {docker('logs', name).stderr}"
            time.sleep(0.1)
        assert docker("exec", name, "cat", "/proc/1/comm").stdout.strip() == "tini"
        started = time.monotonic()
        docker("stop", "--time", "30", name, timeout=60)
        took = time.monotonic() - started
        assert docker("wait", name).stdout.strip() == exit_code
        assert said in docker("logs", name).stdout
        assert took < 5, f"docker stop took {took:.1f}s: SIGTERM did not reach node"
    finally:
        docker("rm", "-f", name, check=False)


def test_base_images_are_current_and_published(docker: DockerRunner) -> None:
    """Every image is in the registry with its local digest and carries the recipe the script
    computes now (so the next run has nothing to do)."""
    recipes = {
        int(major): (suite, recipe)
        for major, suite, recipe in (
            line.split()
            for line in subprocess.run(
                ["bash", str(INFRA / "base-image.sh"), "--recipes"],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            ).stdout.splitlines()
        )
    }
    assert {m: s for m, (s, _) in recipes.items()} == BASE_SUITES
    for ref in ALL_IMAGES:
        repository, tag = _split(ref)
        served = registry_digest(repository, tag)
        assert served, f"{ref} missing from the registry"
        repo_digests = json.loads(docker("image", "inspect", "--format", "{{json .RepoDigests}}", ref).stdout)
        assert f"{REGISTRY}/{repository}@{served}" in repo_digests
        label = _labels(docker, ref).get("org.localcluster.recipe", "")
        assert re.fullmatch(r"[0-9a-f]{16}", label), ref
    for major, (_, recipe) in recipes.items():
        for ref in BASE_IMAGES[major]:
            assert _labels(docker, ref)["org.localcluster.recipe"] == recipe, ref


def test_second_run_rebuilds_nothing(docker: DockerRunner) -> None:
    before = {
        ref: docker("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip() for ref in ALL_IMAGES
    }
    started = time.monotonic()
    proc = subprocess.run(
        ["bash", str(INFRA / "up.sh")], capture_output=True, text=True, timeout=600, check=True
    )
    took = time.monotonic() - started
    assert proc.stderr.count("nothing to do") == len(ALL_IMAGES), proc.stderr
    for needle in ("debootstrap", "pushing", "imported", "starting"):
        assert needle not in proc.stderr, proc.stderr
    after = {ref: docker("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip() for ref in before}
    assert after == before
    assert took < 30, f"a run with nothing to do took {took:.1f}s"
