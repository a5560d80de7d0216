"""The local registry, the Docker engine and the locally made base images, for real."""

from __future__ import annotations

import io
import json
import re
import socket
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from clusterkit import BUILD_IMAGE, REGISTRY, RUNTIME_IMAGE, registry_digest
from infrakit import PAUSE_IMAGE, DockerRunner


@pytest.fixture
def probe_image(docker: DockerRunner, tmp_path: Path) -> Iterator[tuple[str, str, str]]:
    """A fresh image built FROM the runtime base (classic builder) and pushed; cleaned up after."""
    marker = uuid.uuid4().hex
    repository = "vextrus-test/infra-probe"
    ref = f"{REGISTRY}/{repository}:{marker[:12]}"
    (tmp_path / "marker.txt").write_text(marker + "\n")
    (tmp_path / "Dockerfile").write_text(
        f'FROM {RUNTIME_IMAGE}\nCOPY marker.txt /marker.txt\nCMD ["cat", "/marker.txt"]\n'
    )
    docker("build", "-q", "-t", ref, str(tmp_path))
    docker("push", ref)
    yield ref, repository, marker
    digest = registry_digest(repository, ref.rpartition(":")[2])
    if digest:
        requests.delete(f"http://{REGISTRY}/v2/{repository}/manifests/{digest}", timeout=10)
    docker("image", "rm", "-f", ref, check=False)
    if digest:
        docker("image", "rm", "-f", f"{REGISTRY}/{repository}@{digest}", check=False)


def test_pushed_image_pulls_back_by_digest(docker: DockerRunner, probe_image: tuple[str, str, str]) -> None:
    ref, repository, marker = probe_image
    repo_digests = json.loads(docker("image", "inspect", "--format", "{{json .RepoDigests}}", ref).stdout)
    local = [d for d in repo_digests if d.startswith(f"{REGISTRY}/{repository}@")]
    assert len(local) == 1, repo_digests
    digest = local[0].split("@", 1)[1]

    served = registry_digest(repository, ref.rpartition(":")[2])
    assert served == digest, f"registry serves {served}, docker recorded {digest}"
    # The registry also answers for the digest itself, with the same digest.
    assert registry_digest(repository, digest) == digest

    image_id = docker("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip()
    docker("image", "rm", "-f", image_id)
    assert docker("image", "inspect", ref, check=False).returncode != 0, "local copy still present"

    by_digest = f"{REGISTRY}/{repository}@{digest}"
    docker("pull", by_digest)
    pulled_id = docker("image", "inspect", "--format", "{{.Id}}", by_digest).stdout.strip()
    assert pulled_id == image_id, "the image pulled by digest is not the one pushed"
    assert docker("run", "--rm", by_digest).stdout.strip() == marker


def test_registry_listens_on_loopback_only() -> None:
    port_hex = f"{5000:04X}"
    listeners: list[str] = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, state = fields[1], fields[3]
            if state == "0A" and local.endswith(f":{port_hex}"):
                listeners.append(f"{table}:{local}")
    # 0100007F is 127.0.0.1 in the kernel's little-endian notation.
    assert listeners == [f"/proc/net/tcp:0100007F:{port_hex}"], listeners

    requests.get(f"http://{REGISTRY}/v2/", timeout=5).raise_for_status()
    addresses = subprocess.run(
        ["ip", "-4", "-o", "addr", "show"], capture_output=True, text=True, check=True
    ).stdout
    others = [a.split("/")[0] for a in re.findall(r"inet (\S+)", addresses) if not a.startswith("127.")]
    assert others, "no non-loopback address to probe (docker0 should exist)"
    for address in others:
        with socket.socket() as sock:
            sock.settimeout(3)
            assert sock.connect_ex((address, 5000)) != 0, f"registry reachable on {address}:5000"


def test_pause_image_holds_only_the_binary(docker: DockerRunner, tmp_path: Path) -> None:
    archive = tmp_path / "pause.tar"
    docker("image", "save", "-o", str(archive), PAUSE_IMAGE)
    with tarfile.open(archive) as saved:
        manifest = json.load(saved.extractfile("manifest.json"))  # type: ignore[arg-type]
        assert len(manifest) == 1 and len(manifest[0]["Layers"]) == 1
        layer = saved.extractfile(manifest[0]["Layers"][0])
        assert layer is not None
        with tarfile.open(fileobj=io.BytesIO(layer.read())) as files:
            names = [m.name.removeprefix("./") for m in files.getmembers() if m.name not in (".", "./")]
    assert names == ["pause"]
    config = json.loads(
        docker("image", "inspect", "--format", "{{json .Config.Entrypoint}}", PAUSE_IMAGE).stdout
    )
    assert config == ["/pause"]


@pytest.mark.parametrize("signal", ["TERM", "INT"])
def test_pause_exits_cleanly_on_stop_signals(docker: DockerRunner, signal: str) -> None:
    name = f"infra-pause-{signal.lower()}-{uuid.uuid4().hex[:8]}"
    docker("run", "-d", "--name", name, PAUSE_IMAGE)
    try:
        deadline = time.monotonic() + 20
        while docker("inspect", "--format", "{{.State.Running}}", name).stdout.strip() != "true":
            assert time.monotonic() < deadline, "pause container never started"
            time.sleep(0.1)
        # A long grace period: had pause ignored the signal, docker would SIGKILL it
        # only after 60 s and the exit code would be 137, not 0.
        if signal == "TERM":
            docker("stop", "--time", "60", name, timeout=120)
        else:
            docker("kill", "--signal", signal, name)
        exit_code = docker("wait", name, timeout=120).stdout.strip()
        assert exit_code == "0", f"pause exited {exit_code} after SIG{signal}"
        logs = docker("logs", name).stderr
        assert "shutting down" in logs, logs
    finally:
        docker("rm", "-f", name, check=False)


def test_classic_build_has_network_for_npm(docker: DockerRunner, tmp_path: Path) -> None:
    """`docker build` RUN steps (classic builder) reach the npm registry from FROM node-build."""
    tag = f"vextrus-test/infra-npm-build:{uuid.uuid4().hex[:12]}"
    (tmp_path / "Dockerfile").write_text(
        f"FROM {BUILD_IMAGE}\nRUN npm view pnpm@10 version --json > /pnpm-versions.json\n"
    )
    try:
        docker("build", "-q", "-t", tag, str(tmp_path), timeout=300)
        versions = json.loads(docker("run", "--rm", tag, "cat", "/pnpm-versions.json").stdout)
        assert any(v.startswith("10.") for v in versions), versions
    finally:
        docker("image", "rm", "-f", tag, check=False)
