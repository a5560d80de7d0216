"""testinfra checks of the image the converge pushed, run inside a container of it (docker backend)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
import requests
import testinfra

ROOT = Path(os.environ.get("MOLECULE_PROJECT_DIRECTORY", Path(__file__).resolve().parents[3]))
SERVICE_MANIFEST = ROOT / "examples" / "finance-service" / "services" / "finance" / "package.json"
RECORD = Path(os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY", "/tmp")) / "image_build.json"


REGISTRY = "127.0.0.1:5000"
REPOSITORY = os.environ.get("VEXTRUS_TEST_REPOSITORY") or "vextrus-molecule/finance"  # as vars/image_build.yml
TAG = "molecule"  # image_build_tag of vars/image_build.yml
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json"
)


@pytest.fixture(scope="module")
def digest_ref() -> str:
    """The digest the converge reported (image_build_digest); after a converge run on its own
    (`molecule converge`, then `molecule verify`), the digest the registry holds for its tag."""
    if RECORD.exists():
        return json.loads(RECORD.read_text())["digest"]
    answer = requests.head(
        f"http://{REGISTRY}/v2/{REPOSITORY}/manifests/{TAG}", headers={"Accept": MANIFEST_TYPES}, timeout=10
    )
    assert answer.status_code == 200, f"neither {RECORD} nor the tag {TAG} in the registry: run the converge first"
    return f"{REGISTRY}/{REPOSITORY}@{answer.headers['Docker-Content-Digest']}"


def test_digest_is_what_the_registry_serves(digest_ref):
    name, digest = digest_ref.split("@")
    assert name == f"{REGISTRY}/{REPOSITORY}"
    answer = requests.head(
        f"http://{REGISTRY}/v2/{REPOSITORY}/manifests/{digest}", headers={"Accept": MANIFEST_TYPES}, timeout=10
    )
    assert answer.status_code == 200
    assert answer.headers["Docker-Content-Digest"] == digest


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(SERVICE_MANIFEST.read_text())


@pytest.fixture(scope="module")
def image_host(digest_ref: str) -> Iterator[testinfra.host.Host]:
    """The pushed image, pulled by digest and started with its own entrypoint and command."""
    client = docker.from_env()
    client.images.pull(digest_ref)
    container = client.containers.run(
        digest_ref,
        name=f"image-build-testinfra-{uuid.uuid4().hex[:8]}",
        environment={"JWT_SECRET": "testinfra-image-build-secret-0123456789abcdef"},
        detach=True,
    )
    try:
        deadline = time.monotonic() + 30
        host = testinfra.get_host(f"docker://{container.name}")
        while time.monotonic() < deadline:
            container.reload()
            assert container.status == "running", container.logs().decode(errors="replace")
            probe = host.run(
                "node -e \"require('http').get('http://127.0.0.1:3014/health', r => process.exit(r.statusCode === 200 ? 0 : 1))"
                ".on('error', () => process.exit(1))\""
            )
            if probe.rc == 0:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"the image did not answer /health within 30 s: {container.logs().decode(errors='replace')}")
        yield host
    finally:
        container.remove(force=True)
        client.close()


def test_runs_as_non_root(image_host, digest_ref):
    # a numeric user without a passwd entry: nothing to log in as, nothing to escalate to
    assert docker.from_env().images.get(digest_ref).attrs["Config"]["User"] == "10001:10001"
    assert image_host.check_output("id -u") == "10001"
    assert image_host.check_output("id -g") == "10001"
    # every process of the container, the service's node included, runs as that user
    # (read from /proc: the image carries no ps)
    table = image_host.check_output(
        "sh -c 'for s in /proc/[0-9]*/status; do grep -E \"^(Name|Uid):\" \"$s\" | tr \"\\n\" \" \"; echo; done'"
    )
    processes = [line.split() for line in table.splitlines() if line.strip()]
    assert any(p[1] == "node" for p in processes), table
    # Uid: real effective saved filesystem
    assert all(p[3:7] == ["10001"] * 4 for p in processes), table


def test_app_is_not_writable_by_the_service(image_host):
    app = image_host.file("/app")
    assert app.user == "root" and not app.mode & 0o002


def test_dev_dependencies_are_absent(image_host, manifest):
    dev = sorted(manifest["devDependencies"])
    assert "typescript" in dev
    for name in dev:
        assert not image_host.file(f"/app/node_modules/{name}").exists, name
        # resolved from the service's directory, a devDependency is not found in /app (the base
        # image's own system packages, e.g. Debian's /usr/share/nodejs, do not count)
        check = image_host.run(f"node -e \"console.log(require.resolve('{name}/package.json'))\"")
        assert check.rc != 0 or not check.stdout.startswith("/app/"), f"{name} resolves to {check.stdout}"
    # typescript is no transitive production dependency either: not anywhere in the deployed folder
    assert image_host.check_output("find /app -path '*/typescript/package.json'") == ""
    assert not image_host.exists("tsc")


def test_no_package_manager_store_or_build_tools(image_host):
    assert not image_host.exists("pnpm")
    assert not image_host.file("/pnpm").exists
    assert not image_host.file("/src").exists
    assert not image_host.file("/root/.local/share/pnpm").exists


def test_production_dependencies_resolve(image_host, manifest):
    assert "@nestjs/core" in manifest["dependencies"]
    core = image_host.run("node -e \"console.log(require.resolve('@nestjs/core'))\"")
    assert core.rc == 0, core.stderr
    assert core.stdout.strip().startswith("/app/node_modules/")
    for name in manifest["dependencies"]:
        check = image_host.run(f"node -e \"require.resolve('{name}')\"")
        assert check.rc == 0, f"{name}: {check.stderr}"


def test_health_answers_with_the_package_version(image_host, manifest):
    body = image_host.check_output(
        "node -e \"require('http').get('http://127.0.0.1:3014/health', r => { let b = ''; r.on('data', d => b += d);"
        " r.on('end', () => console.log(b)); })\""
    )
    health = json.loads(body)
    assert health["status"] == "ok"
    assert health["version"] == manifest["version"]
