"""Helpers of the week-chain tests: run playbooks/weekN.yml with the local inventory as a user does,
read the report it wrote, and read what it left on the local cluster. Nothing is mocked."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
INVENTORY = ROOT / "inventories" / "local"
REGISTRY = "127.0.0.1:5000"
SERVICE = "finance-service"
STABLE = f"{SERVICE}-stable"
CANARY = f"{SERVICE}-canary"
SECRET = f"{SERVICE}-secrets"
WORKSPACE = ROOT / "examples" / "finance-service"
SEED_DOCKERFILE = ROOT / "tests" / "fixtures" / "seed-broken" / "Dockerfile"
SEED_ERROR = "Cannot find module '@nestjs/core'"

BASE_IMAGES = {
    "deploy_base_image": f"{REGISTRY}/vextrus/node-runtime:20",
    "deploy_builder_image": f"{REGISTRY}/vextrus/node-build:20",
}
# Pods on the one real node (label and taint set by localcluster/node): they really run the image.
# The node has 2 CPUs that other namespaces share; at the role's default request (250m) eight pods
# fill it and a surge pod stays Pending (Insufficient cpu). The tests ask for less.
REAL_NODE = {
    "deploy_node_selector": {"vextrus.io/node": "real"},
    "deploy_tolerations": [{"key": "vextrus.io/real-node", "operator": "Exists", "effect": "NoSchedule"}],
    "resource_apply_resources": {
        "requests": {"cpu": "25m", "memory": "96Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    },
}
# Pods on the simulated nodes: kwok plays the pod lifecycle, the annotation picks a failure.
KWOK_NODES: dict[str, Any] = {"deploy_node_selector": {"type": "kwok"}, "deploy_tolerations": []}

# Gate reasons the chain may name for each simulated failure.
SIMULATED_REASONS = {
    "crashloop": {"CrashLoopBackOff"},
    "imagepull": {"ImagePullBackOff", "ErrImagePull"},
    "oom": {"OOMKilled"},
    "not-ready": {"Timeout"},
}


def _load_rollout_plan() -> Any:
    """The collection's replica split rules (plugins/module_utils/rollout_plan.py, no Ansible imports)."""
    path = ROOT / "plugins" / "module_utils" / "rollout_plan.py"
    spec = importlib.util.spec_from_file_location("vextrus_rollout_plan", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def local_profile() -> dict[str, Any]:
    """The local inventory's deployment profile (replicas and week table)."""
    return yaml.safe_load((INVENTORY / "group_vars" / "all" / "deploy.yml").read_text())


def expected_split(week: int) -> tuple[int, dict[str, int]]:
    """(weight, {"stable": n, "canary": m}) of a week for the local inventory's replica count."""
    plan = _load_rollout_plan()
    prof = local_profile()
    weights = plan.normalize_weights(prof["rollout_weights"])
    return weights[week], plan.split_replicas(prof["deploy_replicas"], weights[week])


def unique_namespace(label: str) -> str:
    return f"vx-chain-{label}-{uuid.uuid4().hex[:6]}"[:63].rstrip("-")


@dataclass
class WeekRun:
    """One ansible-playbook run of a week: exit code, output, wall time and the report it wrote."""

    week: int
    rc: int
    output: str
    seconds: float
    report: dict[str, Any] | None
    report_path: Path | None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def flat(self) -> str:
        """The output on one line, YAML quoting undone, for message assertions."""
        return " ".join(self.output.replace("''", "'").split())

    def last_lines(self, count: int = 25) -> str:
        """The last lines of the output, on one line, YAML quoting undone."""
        return " ".join("\n".join(self.output.splitlines()[-count:]).replace("''", "'").split())

    def recap(self) -> dict[str, int]:
        match = re.search(r"localhost\s+:\s+(.*)", self.output.split("PLAY RECAP")[-1])
        assert match, f"no play recap in output:\n{self.tail()}"
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}

    def tail(self, chars: int = 5000) -> str:
        return f"week {self.week} rc={self.rc} after {self.seconds:.0f} s, extra vars {self.extra}\n{self.output[-chars:]}"


def run_week(
    week: int,
    namespace: str,
    report_dir: Path,
    vault_dir: Path,
    extra: dict[str, Any] | None = None,
    timeout: float = 900,
    playbook: str = "",
) -> WeekRun:
    """ansible-playbook -i inventories/local playbooks/week<N>.yml -e <extra>, as a user runs it
    (or another playbook of the chain: abort.yml, rollback.yml, status.yml).

    The report goes to its own directory (report_dir must be new or empty) so the run's report is
    the only one there; the local vault lives in vault_dir so the tests never touch .local/vault.
    """
    report_dir.mkdir(parents=True, exist_ok=True)
    assert not list(report_dir.glob("*.json")), f"report directory {report_dir} is not empty"
    values: dict[str, Any] = {
        **BASE_IMAGES,
        "deploy_namespace": namespace,
        "rollout_report_dir": str(report_dir),
        "deploy_local_vault_file": str(vault_dir / "local.yml"),
        "deploy_local_vault_password_file": str(vault_dir / "password"),
        **(extra or {}),
    }
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=os.pathsep.join([str(BIN), str(ROOT / ".local" / "bin"), env.get("PATH", "")]),
    )
    cmd = [
        str(BIN / "ansible-playbook"),
        "-i",
        str(INVENTORY),
        str(ROOT / "playbooks" / (playbook or f"week{week}.yml")),
        "-e",
        json.dumps(values),
    ]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    seconds = time.monotonic() - started
    reports = sorted(report_dir.glob("*.json"))
    assert len(reports) <= 1, f"more than one report in {report_dir}: {reports}"
    report = json.loads(reports[0].read_text()) if reports else None
    return WeekRun(
        week=week,
        rc=proc.returncode,
        output=proc.stdout + proc.stderr,
        seconds=seconds,
        report=report,
        report_path=reports[0] if reports else None,
        extra=extra or {},
    )


def read_deployment(api: client.ApiClient, namespace: str, name: str) -> client.V1Deployment | None:
    try:
        return client.AppsV1Api(api).read_namespaced_deployment(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def container_image(deployment: client.V1Deployment) -> str:
    containers = {c.name: c.image for c in deployment.spec.template.spec.containers}
    return containers[SERVICE]


def live_pods(api: client.ApiClient, namespace: str, track: str) -> list[client.V1Pod]:
    """Pods of one track (stable/canary) that are not being deleted."""
    pods = client.CoreV1Api(api).list_namespaced_pod(
        namespace, label_selector=f"app.kubernetes.io/name={SERVICE},vextrus.io/track={track}"
    ).items
    return [p for p in pods if p.metadata.deletion_timestamp is None]


def pod_ready(pod: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def track_state(api: client.ApiClient, namespace: str) -> dict[str, Any]:
    """What each Deployment of the service declares and what its pods really run, for comparisons."""
    state: dict[str, Any] = {}
    for track, name in (("stable", STABLE), ("canary", CANARY)):
        dep = read_deployment(api, namespace, name)
        if dep is None:
            state[track] = None
            continue
        pods = live_pods(api, namespace, track)
        state[track] = {
            "replicas": dep.spec.replicas,
            "image": container_image(dep),
            "template": api.sanitize_for_serialization(dep.spec.template),
            "pods": sorted(
                (
                    {c.name: c.image for c in p.spec.containers}[SERVICE],
                    pod_ready(p),
                    (p.spec.node_name or ""),
                )
                for p in pods
            ),
        }
    return state


def deployments_in(api: client.ApiClient, namespace: str) -> list[str]:
    return sorted(d.metadata.name for d in client.AppsV1Api(api).list_namespaced_deployment(namespace).items)


def delete_namespace(api: client.ApiClient, name: str) -> None:
    try:
        client.CoreV1Api(api).delete_namespace(name, propagation_policy="Background")
    except ApiException as exc:
        if exc.status != 404:
            raise
