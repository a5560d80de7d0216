"""A real node whose run was killed before its down.sh (another checkout's: an earlier CI clone, a
second work tree) leaves its pods running: the shims outlive their containerd, the containers keep
their pod IPs on the same bridge vxbr0 and the same /vextrus-node cgroups, and the next node's fresh
IP allocation would hand those IPs out again. up.sh removes what such a node left before it starts:
its processes, veths, bridge and mounts; the node then runs pods that answer as themselves.

The other checkout is a copy of localcluster/ in a temporary directory, sharing this cluster's PKI
and kubeconfig, so that its node registers as the same Node; its daemons are then killed with
SIGKILL, which is what a killed run leaves."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from realnodekit import ROOT, ApplyPod, container_status, is_ready, local_get, mount_points, node_down, node_up, pod_json, pod_when
from clusterkit import run

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def _processes_of(checkout: Path) -> list[str]:
    """Processes whose working directory or root is inside checkout: the shims (their bundle is
    their working directory) and the containers (their root file system) of its node."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            places = [os.readlink(proc / "cwd"), os.readlink(proc / "root")]
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(place.startswith(str(checkout)) for place in places):
            found.append(f"{proc.name}: {cmdline[:120]}")
    return found


def _mounts_of(checkout: Path) -> list[str]:
    return [point for point in mount_points() if point.startswith(str(checkout) + "/")]


def _node_script(checkout: Path, script: str) -> subprocess.CompletedProcess[str]:
    return run(["bash", str(checkout / "localcluster" / "node" / script)], timeout=600, check=False)


@pytest.fixture
def other_checkout() -> Iterator[Path]:
    """A second checkout's localcluster/, with this cluster's PKI and kubeconfig, in a short path
    (the kubelet's unix sockets under it must fit 108 bytes). Afterwards, if anything of its node
    is still there, this checkout's node goes down, its down.sh takes the rest away and this
    checkout's node is started again (the two share the socket, cgroups and bridge)."""
    checkout = Path(tempfile.mkdtemp(prefix="vx-other-", dir="/tmp"))
    shutil.copytree(ROOT / "localcluster", checkout / "localcluster")
    (checkout / ".local" / "cluster").mkdir(parents=True)
    (checkout / ".local" / "kubeconfig").symlink_to(ROOT / ".local" / "kubeconfig")
    (checkout / ".local" / "cluster" / "pki").symlink_to(ROOT / ".local" / "cluster" / "pki")
    yield checkout
    if _processes_of(checkout) or _mounts_of(checkout):
        node_down()
        _node_script(checkout, "down.sh")
        node_up()
    shutil.rmtree(checkout, ignore_errors=True)


def _kill_daemons(checkout: Path) -> list[str]:
    killed = []
    for name in ("kube-proxy", "kubelet", "node-containerd"):
        pid = int((checkout / ".local" / "cluster" / "run" / f"{name}.pid").read_text())
        os.kill(pid, signal.SIGKILL)
        killed.append(f"{name} {pid}")
    return killed


def test_up_removes_what_a_killed_node_of_another_checkout_left_running(
    real_node: str,
    other_checkout: Path,
    apply_pod: ApplyPod,
    test_image: str,
    namespace: str,
    kubectl: Kubectl,
    wait: Callable[..., Any],
) -> None:
    node_down()
    started = _node_script(other_checkout, "up.sh")
    assert started.returncode == 0, started.stderr[-4000:]
    apply_pod("orphan", test_image)
    orphan = wait(pod_when(kubectl, namespace, "orphan", is_ready), timeout=120, message="pod orphan Ready")
    _kill_daemons(other_checkout)
    left = _processes_of(other_checkout)
    # what a killed run leaves: the pod's shim and its containers keep running, mounted
    assert left and _mounts_of(other_checkout), "nothing of the killed node kept running"
    assert local_get(f"http://{orphan['status']['podIP']}:8080/").text.strip() == "hello from orphan"
    orphan_container = container_status(orphan)["containerID"]

    up = run(["bash", str(ROOT / "localcluster" / "node" / "up.sh")], timeout=900, check=False)
    assert up.returncode == 0, up.stderr[-4000:]
    assert _processes_of(other_checkout) == [], f"still running after up.sh (before it: {left})"
    assert _mounts_of(other_checkout) == []
    assert "killing leftover shim" in up.stderr, up.stderr[-4000:]

    # the orphan's status still says Ready with the killed container's IP until this node's kubelet
    # has started it again: wait for a Ready status of a container this node runs
    def restarted_here(pod: dict[str, Any]) -> bool:
        return is_ready(pod) and container_status(pod).get("containerID") not in (None, orphan_container)

    wait(pod_when(kubectl, namespace, "orphan", restarted_here), timeout=120, message="pod orphan Ready in a new container")
    # the node's own pods run and answer as themselves, on IPs the fresh allocation hands out again
    for name in ("after-1", "after-2"):
        apply_pod(name, test_image)
    for name in ("orphan", "after-1", "after-2"):
        pod = wait(pod_when(kubectl, namespace, name, is_ready), timeout=120, message=f"pod {name} Ready")
        for _ in range(5):
            answer = local_get(f"http://{pod['status']['podIP']}:8080/")
            assert answer.text.strip() == f"hello from {name}", (name, pod["status"]["podIP"], answer.text)
    print("\n" + json.dumps({name: pod_json(kubectl, namespace, name)["status"]["podIP"]
                             for name in ("orphan", "after-1", "after-2")}))
