"""Constants and helpers for the tests on the local cluster's real node (localcluster/node)."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from clusterkit import REGISTRY, RUNTIME_IMAGE, registry_digest, run

ROOT = Path(__file__).resolve().parents[3]
NODE_SCRIPTS = ROOT / "localcluster" / "node"
NODE_STATE = ROOT / ".local" / "cluster" / "node"
NODE_NAME = "real-node-0"
NODE_LABEL = ("vextrus.io/node", "real")
NODE_TAINT_KEY = "vextrus.io/real-node"
TEST_REPOSITORY = "vextrus-test/realnode-http"
CONTAINERD_SOCKET = "/run/vextrus-containerd/containerd.sock"
CNI_BRIDGE = "vxbr0"
CNI_NETWORK = "vextrus-pod-network"
CGROUP_ROOT = "vextrus-node"
ApplyPod = Callable[..., dict[str, Any]]

# A small HTTP server: / answers with the pod's hostname, /health with "ok", anything else 404.
SERVER_JS = """\
const http = require('http');
const os = require('os');
const port = Number(process.env.PORT || 8080);
http.createServer((req, res) => {
  if (req.url === '/health') { res.end('ok\\n'); return; }
  if (req.url === '/') { res.end(`hello from ${os.hostname()}\\n`); return; }
  res.statusCode = 404; res.end('not found\\n');
}).listen(port, () => console.log(`realnode-http listening on ${port}`));
process.on('SIGTERM', () => { console.log('realnode-http: SIGTERM'); process.exit(0); });
"""

DOCKERFILE = f"""\
FROM {RUNTIME_IMAGE}
COPY server.js /srv/server.js
EXPOSE 8080
CMD ["node", "/srv/server.js"]
"""


def local_get(url: str, timeout: float = 5) -> requests.Response:
    """GET without any proxy from the environment: these addresses exist only on this host."""
    with requests.Session() as session:
        session.trust_env = False
        return session.get(url, timeout=timeout)


def build_and_push_test_image(workdir: Path) -> str:
    """Builds the test server image FROM the node-runtime base, pushes it to the local registry
    and returns the reference by digest (registry/repository@sha256:...)."""
    tag = hashlib.sha256((DOCKERFILE + SERVER_JS).encode()).hexdigest()[:12]
    image = f"{REGISTRY}/{TEST_REPOSITORY}:{tag}"
    digest = registry_digest(TEST_REPOSITORY, tag)
    if digest is None:
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "Dockerfile").write_text(DOCKERFILE)
        (workdir / "server.js").write_text(SERVER_JS)
        run(["docker", "build", "-q", "-t", image, str(workdir)], timeout=600)
        run(["docker", "push", image], timeout=600)
        digest = registry_digest(TEST_REPOSITORY, tag)
    assert digest and digest.startswith("sha256:"), f"the registry serves no digest for {image}: {digest!r}"
    return f"{REGISTRY}/{TEST_REPOSITORY}@{digest}"


def pod_manifest(
    name: str,
    image: str,
    *,
    command: list[str] | None = None,
    labels: dict[str, str] | None = None,
    container: dict[str, Any] | None = None,
    restart_policy: str = "Always",
) -> dict[str, Any]:
    """A pod that opts into the real node: nodeSelector on its label + toleration of its taint."""
    spec_container: dict[str, Any] = {
        "name": "app",
        "image": image,
        "ports": [{"containerPort": 8080, "name": "http"}],
        "resources": {"requests": {"cpu": "10m", "memory": "32Mi"}, "limits": {"memory": "256Mi"}},
    }
    if command is not None:
        spec_container["command"] = command
    spec_container.update(container or {})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": {
            "nodeSelector": {NODE_LABEL[0]: NODE_LABEL[1]},
            "tolerations": [
                {"key": NODE_TAINT_KEY, "operator": "Equal", "value": "true", "effect": "NoSchedule"}
            ],
            "restartPolicy": restart_policy,
            "terminationGracePeriodSeconds": 2,
            "containers": [spec_container],
        },
    }


def pod_json(
    kubectl: Callable[..., subprocess.CompletedProcess[str]], namespace: str, name: str
) -> dict[str, Any]:
    return json.loads(kubectl("-n", namespace, "get", "pod", name, "-o", "json").stdout)


def pod_when(
    kubectl: Callable[..., subprocess.CompletedProcess[str]],
    namespace: str,
    name: str,
    predicate: Callable[[dict[str, Any]], bool],
) -> Callable[[], dict[str, Any] | None]:
    """A probe for wait(): the pod when predicate(pod) holds, else None."""

    def probe() -> dict[str, Any] | None:
        pod = pod_json(kubectl, namespace, name)
        return pod if predicate(pod) else None

    return probe


def is_ready(pod: dict[str, Any]) -> bool:
    return condition(pod, "Ready") == "True"


def condition(pod: dict[str, Any], kind: str) -> str | None:
    for cond in pod.get("status", {}).get("conditions", []) or []:
        if cond.get("type") == kind:
            return cond.get("status")
    return None


def container_status(pod: dict[str, Any]) -> dict[str, Any]:
    statuses = pod.get("status", {}).get("containerStatuses") or []
    return statuses[0] if statuses else {}


class PortForward:
    """`kubectl port-forward` to a local port chosen by kubectl; stopped by its pid on exit."""

    def __init__(self, kubectl_cmd: list[str], namespace: str, target: str, remote_port: int) -> None:
        self.proc = subprocess.Popen(
            [
                *kubectl_cmd,
                "-n",
                namespace,
                "port-forward",
                "--address",
                "127.0.0.1",
                target,
                f":{remote_port}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.local_port = 0

    def __enter__(self) -> PortForward:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            match = re.search(r"Forwarding from 127\.0\.0\.1:(\d+) ->", line)
            if match:
                self.local_port = int(match.group(1))
                return self
        self.__exit__()
        stderr = self.proc.stderr.read() if self.proc.stderr else ""
        raise AssertionError(f"kubectl port-forward did not start: {stderr[-2000:]}")

    def __exit__(self, *exc: object) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def node_up() -> float:
    """Runs localcluster/node/up.sh; returns its wall time in seconds."""
    start = time.monotonic()
    proc = run(["bash", str(NODE_SCRIPTS / "up.sh")], timeout=900, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        pytest.fail(
            f"localcluster/node/up.sh failed ({proc.returncode}) after {elapsed:.1f}s:\n{proc.stderr[-4000:]}"
        )
    return elapsed


def node_down(*args: str) -> float:
    start = time.monotonic()
    proc = run(["bash", str(NODE_SCRIPTS / "down.sh"), *args], timeout=300, check=False)
    elapsed = time.monotonic() - start
    if proc.returncode != 0:
        pytest.fail(f"localcluster/node/down.sh failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return elapsed


# ---- what the node leaves on the host (for the down/up test)


def node_processes() -> list[str]:
    """Processes of the node: its containerd, the kubelet, kube-proxy, shims of our containerd."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if (
            str(NODE_STATE / "containerd" / "config.toml") in cmdline
            or CONTAINERD_SOCKET in cmdline
            or (("/kubelet " in cmdline or "/kube-proxy " in cmdline) and str(NODE_STATE) in cmdline)
        ):
            found.append(f"{proc.name}: {cmdline[:160]}")
    return found


def mount_points() -> list[str]:
    """Every mount point of the host (this process's mount namespace)."""
    return [line.split()[4].replace("\\040", " ") for line in Path("/proc/self/mountinfo").read_text().splitlines()]


def node_mounts() -> list[str]:
    """Mount points under the node's state directory or containerd's runtime directory."""
    return [
        point for point in mount_points()
        if point.startswith(str(NODE_STATE) + "/") or point.startswith("/run/vextrus-containerd")
    ]


def node_links() -> list[str]:
    """The CNI bridge and every interface enslaved to it (the pods' veths)."""
    links = json.loads(run(["ip", "-j", "link", "show"]).stdout)
    return [
        link["ifname"] for link in links if link["ifname"] == CNI_BRIDGE or link.get("master") == CNI_BRIDGE
    ]


def node_veths() -> list[str]:
    """veths on our bridge or on no bridge at all (the Docker engine's sit on docker0 / br-*)."""
    links = json.loads(run(["ip", "-j", "link", "show", "type", "veth"]).stdout)
    return [link["ifname"] for link in links if link.get("master") in (None, CNI_BRIDGE)]


def node_netns() -> list[str]:
    """Network namespace mounts of the node's pods (under the containerd state) or in /run/netns."""
    ours = [m for m in node_mounts() if "/netns/" in m]
    run_netns = Path("/run/netns")
    if run_netns.is_dir():
        ours += [str(p) for p in run_netns.iterdir() if p.name.startswith("cni-")]
    return ours


def node_iptables() -> list[str]:
    """iptables/ip6tables lines of ours: KUBE-* and CNI-* chains, the bridge, the pod network."""
    lines = []
    for cmd in ("iptables-save", "ip6tables-save"):
        out = run([cmd], check=False).stdout
        lines += [
            f"{cmd}: {line}"
            for line in out.splitlines()
            if re.search(rf"KUBE-|CNI-|{CNI_BRIDGE}|{CNI_NETWORK}", line)
        ]
    return lines


def node_cgroups() -> list[str]:
    return [str(p) for p in Path("/sys/fs/cgroup").glob(f"*/{CGROUP_ROOT}")]


def leftovers() -> dict[str, list[str]]:
    """Everything of the node that is still on the host; empty lists after a clean down."""
    return {
        "processes": node_processes(),
        "mounts": node_mounts(),
        "netns": node_netns(),
        "links (bridge + its veths)": node_links(),
        "veths not on docker0": node_veths(),
        "iptables": node_iptables(),
        "cgroups": node_cgroups(),
    }
