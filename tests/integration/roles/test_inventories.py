"""The deployment profiles of the three inventories, and what the production profile refuses."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from rolekit import ROOT, PlaybookRunner

EXPECTED = {
    "local": {"deploy_namespace": "vextrus-local", "deploy_replicas": 2, "deploy_hpa_min": 2, "deploy_hpa_max": 6,
              "deploy_pdb_min_available": "50%", "deploy_require_digest": False},
    "staging": {"deploy_namespace": "vextrus-staging", "deploy_replicas": 4, "deploy_hpa_min": 4, "deploy_hpa_max": 10,
                "deploy_pdb_min_available": "70%", "deploy_require_digest": True},
    "production": {"deploy_namespace": "vextrus-production", "deploy_replicas": 10, "deploy_hpa_min": 10,
                   "deploy_hpa_max": 25, "deploy_pdb_min_available": "70%", "deploy_require_digest": True},
}


def _host_vars(inventory: str) -> dict[str, Any]:
    proc = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "ansible-inventory"), "-i", str(ROOT / "inventories" / inventory), "--host", "localhost"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"), "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"},
    )
    return json.loads(proc.stdout)


@pytest.mark.parametrize("inventory", sorted(EXPECTED))
def test_profile(inventory: str) -> None:
    host = _host_vars(inventory)
    for key, value in EXPECTED[inventory].items():
        assert host[key] == value, f"{inventory}: {key}"
    assert host["deploy_service_name"] == "finance-service"
    assert host["rollout_weights"] in ({1: 10, 2: 30, 3: 60, 4: 100}, {"1": 10, "2": 30, "3": 60, "4": 100})
    assert host["ansible_connection"] == "local"
    assert host["ansible_python_interpreter"] == "{{ ansible_playbook_python }}"


@pytest.mark.parametrize("inventory", ["staging", "production"])
def test_secrets_are_vault_encrypted(inventory: str) -> None:
    host = _host_vars(inventory)
    for name in ("jwt", "database_url", "eventstore_url"):
        assert host[f"deploy_secret_{name}"] == f"{{{{ vault_deploy_secret_{name} }}}}"
        encrypted = host[f"vault_deploy_secret_{name}"]["__ansible_vault"]
        assert encrypted.startswith(f"$ANSIBLE_VAULT;1.2;AES256;{inventory}\n")


def test_production_refuses_a_tag_before_touching_anything(run_playbook: PlaybookRunner) -> None:
    run = run_playbook({"rollout_image": "registry.vextrus.example/vextrus/finance:week4-prod-final"}, inventory="production")
    assert run.rc != 0
    assert "which is not pinned by digest" in run.flat, run.output[-3000:]
    assert run.recap()["failed"] == 1


def test_production_refuses_an_empty_image(run_playbook: PlaybookRunner) -> None:
    run = run_playbook({}, inventory="production")
    assert run.rc != 0
    assert "resource_apply_image must be set" in run.flat, run.output[-3000:]
