"""What the cluster benchmarks share: the local cluster's kubeconfig and kubectl, and the check
that its real node is up. Imported by the scripts under bench/ (their folder's parent on sys.path).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KUBECONFIG = Path(os.environ.get("K8S_AUTH_KUBECONFIG") or ROOT / ".local" / "kubeconfig")
KUBECTL = ROOT / ".local" / "bin" / "kubectl"


def kubectl(who: str, *args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    """kubectl with the local cluster's kubeconfig; with check, a failure ends the benchmark `who`."""
    proc = subprocess.run(
        [str(KUBECTL), "--kubeconfig", str(KUBECONFIG), *args], input=input, capture_output=True, text=True, check=False
    )
    if check and proc.returncode != 0:
        raise SystemExit(f"{who}: kubectl {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc


def require_real_node(who: str) -> None:
    """Ends the benchmark `who` with what to do unless the cluster answers and its real node is Ready."""
    if not KUBECONFIG.exists() or not KUBECTL.exists():
        raise SystemExit(f"{who}: {KUBECONFIG} or {KUBECTL} is missing; run `make cluster-up` first")
    nodes = json.loads(kubectl(who, "get", "nodes", "-l", "vextrus.io/node=real", "-o", "json").stdout)["items"]
    if not any(c["type"] == "Ready" and c["status"] == "True" for n in nodes for c in n["status"]["conditions"]):
        raise SystemExit(f"{who}: no Ready node with label vextrus.io/node=real; run `make cluster-up`")


def ansible_env() -> dict[str, str]:
    """The environment of an ansible command: the checkout's ansible.cfg, no colours, the venv's bin and
    the local cluster's binaries (kubectl, vegeta) first on PATH."""
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=os.pathsep.join([str(Path(sys.executable).parent), str(KUBECTL.parent), env.get("PATH", "")]),
    )
    return env
