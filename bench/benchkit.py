"""What the cluster benchmarks share: the local cluster's kubeconfig and kubectl, and the check
that its real node is up. Imported by the scripts under bench/ (their folder's parent on sys.path).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import docker

ROOT = Path(__file__).resolve().parents[1]
KUBECONFIG = Path(os.environ.get("K8S_AUTH_KUBECONFIG") or ROOT / ".local" / "kubeconfig")
KUBECTL = ROOT / ".local" / "bin" / "kubectl"
FAULTS = ROOT / "tests" / "fixtures" / "faults"


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


def run_week(number: int, namespace: str, work: Path, extra: dict[str, Any], repository: str,
             playbook: str = "") -> tuple[dict[str, Any] | None, float, str]:
    """ansible-playbook -i inventories/local playbooks/week<N>.yml (or `playbook`) with the report in a
    directory of its own under work and the local vault in work/vault; the report, the wall seconds and
    the output's last lines."""
    reports = work / f"{namespace}-{Path(playbook).stem if playbook else f'week{number}'}-{time.monotonic_ns()}"
    reports.mkdir(parents=True)
    variables = {"deploy_namespace": namespace, "deploy_repository": repository, "rollout_report_dir": str(reports),
                 "deploy_local_vault_file": str(work / "vault" / "local.yml"),
                 "deploy_local_vault_password_file": str(work / "vault" / "password"), **extra}
    started = time.monotonic()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(ROOT / "inventories" / "local"),
         str(ROOT / "playbooks" / (playbook or f"week{number}.yml")), "-e", json.dumps(variables)],
        cwd=ROOT, capture_output=True, text=True, check=False, env=ansible_env(),
    )
    seconds = time.monotonic() - started
    found = sorted(reports.glob("*.json"))
    last = proc.stdout.strip().splitlines()[-3:] if proc.stdout.strip() else [proc.stderr.strip()[-300:]]
    return (json.loads(found[-1].read_text()) if found else None), seconds, " ".join(last)


def _build_and_push(who: str, repository: str, tag: str, **build: Any) -> str:
    engine = docker.from_env(timeout=300)
    try:
        image, _ = engine.images.build(tag=f"{repository}:{tag}", rm=True, forcerm=True, **build)
        for line in engine.images.push(repository, tag=tag, stream=True, decode=True):
            if "error" in line:
                raise SystemExit(f"{who}: push of {repository}:{tag} failed: {line['error']}")
        image.reload()
        return next(d for d in image.attrs["RepoDigests"] if d.startswith(f"{repository}@"))
    finally:
        engine.close()


def fault_image(who: str, good: str, fault: str) -> str:
    """The fault fixture tests/fixtures/faults/<fault>.js on top of the good image, pushed; by digest."""
    engine = docker.from_env(timeout=300)
    try:
        user = engine.images.pull(good).attrs["Config"].get("User") or "0"
    finally:
        engine.close()
    return _build_and_push(who, good.split("@", 1)[0], f"fault-{fault}", path=str(FAULTS),
                           buildargs={"BASE": good, "FAULT": fault, "RUN_AS": user})


def another_release(who: str, good: str, label: str) -> str:
    """An image that runs exactly like good but is another release (one LABEL more), pushed; by digest."""
    dockerfile = f"FROM {good}\nLABEL io.vextrus.bench.release={json.dumps(label)}\n"
    return _build_and_push(who, good.split("@", 1)[0], f"bench-{label}", fileobj=io.BytesIO(dockerfile.encode()))
