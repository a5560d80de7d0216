"""Fixtures of the rollout gate's tests against the local cluster: a namespace of its own and a
runner for a one-task playbook calling vextrus.deploy.rollout_gate. Nothing is mocked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

ROOT = Path(__file__).resolve().parents[3]
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
# `make venv` links the checkout there as ansible_collections/vextrus/deploy (see ansible.cfg): the
# tests render the gate's result with the collection's own report code.
COLLECTIONS = ROOT / ".local" / "collections"
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


@pytest.fixture
def gate_namespace(k8s_client: client.ApiClient) -> Iterator[str]:
    """A fresh vx-gate-* namespace with its default ServiceAccount; deleted afterwards."""
    core = client.CoreV1Api(k8s_client)
    name = f"vx-gate-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name, "labels": {"vextrus.io/test": "gate"}}})
    deadline = time.monotonic() + 30
    while True:
        try:
            core.read_namespaced_service_account("default", name)
            break
        except ApiException as exc:
            if exc.status != 404 or time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    yield name
    try:
        core.delete_namespace(name, propagation_policy="Background")
    except ApiException as exc:
        if exc.status != 404:
            raise


@dataclass
class GateRun:
    returncode: int
    wall: float  # seconds ansible-playbook ran
    result: dict[str, Any]  # the rollout_gate task's result
    stdout: str
    stderr: str


GateRunner = Callable[..., GateRun]


@pytest.fixture
def run_gate(kubeconfig: Path, tmp_path: Path) -> GateRunner:
    """Runs `vextrus.deploy.rollout_gate` with the given options in a localhost playbook.

    The playbook fails like a real run when the gate fails; the task's result is read from the
    JSON stdout callback.
    """

    def run(namespace: str, deployments: list[str], **options: Any) -> GateRun:
        playbook = tmp_path / "gate.yml"
        gate = {"kubeconfig": str(kubeconfig), "namespace": namespace, "deployments": deployments, **options}
        playbook.write_text(
            yaml.safe_dump(
                [
                    {
                        "name": "Rollout gate",
                        "hosts": "localhost",
                        "connection": "local",
                        "gather_facts": False,
                        "tasks": [{"name": "Gate the rollout", "vextrus.deploy.rollout_gate": gate}],
                    }
                ],
                sort_keys=False,
            )
        )
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        }
        start = time.monotonic()
        proc = subprocess.run(
            [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-e", f"ansible_python_interpreter={sys.executable}", str(playbook)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=int(options.get("timeout", 300)) + 120,
            check=False,
        )
        wall = time.monotonic() - start
        try:
            output = json.loads(proc.stdout)
            result = output["plays"][0]["tasks"][0]["hosts"]["localhost"]
        except (ValueError, KeyError, IndexError) as exc:
            raise AssertionError(
                f"no gate result in the playbook's output ({exc}); rc {proc.returncode}\n"
                f"stdout: {proc.stdout[-3000:]}\nstderr: {proc.stderr[-3000:]}"
            ) from exc
        return GateRun(proc.returncode, wall, result, proc.stdout, proc.stderr)

    return run
