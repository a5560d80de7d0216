"""Every molecule scenario of the collection, run as molecule runs it (syntax, converge,
idempotence, verify) against the real local cluster, Docker engine and registry.

The scenarios use fixed names (namespaces such as vextrus-molecule-apply, vault files under
.local/molecule/<scenario>): in a parallel session they run one after the other on one worker,
as the tests of one file do."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from clusterkit import SESSION_REPOSITORY, building_the_example

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(p.parent.name for p in (ROOT / "molecule").glob("*/molecule.yml"))


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario: str) -> None:
    venv_bin = Path(sys.executable).parent
    env = {
        **os.environ,
        "PATH": f"{venv_bin}:{ROOT / '.local' / 'bin'}:{os.environ.get('PATH', '')}",
        "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg"),
        "K8S_AUTH_KUBECONFIG": os.environ.get("K8S_AUTH_KUBECONFIG", str(ROOT / ".local" / "kubeconfig")),
        "ANSIBLE_FORCE_COLOR": "0",
        "PY_COLORS": "0",
    }
    # chain and image_build build the example service into the session's repository
    with building_the_example(SESSION_REPOSITORY):
        proc = subprocess.run(
            [str(venv_bin / "molecule"), "test", "--scenario-name", scenario],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"molecule test -s {scenario} failed (rc {proc.returncode}):\n{output[-6000:]}"
    assert "idempotence" in output.lower(), f"molecule test -s {scenario} did not run the idempotence step"
