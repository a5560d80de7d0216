"""Helpers of the tests that run jobs the way AWX does: the execution environment built here, the
job's secrets, the inventory with its secrets vault-encrypted as in staging and production, the
private data directory AWX lays out for a job and `ansible-runner run` with process isolation in
the execution environment. Nothing is mocked: the jobs talk to the local cluster and its registry."""

from __future__ import annotations

import base64
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from ansible.parsing.vault import VaultLib, VaultSecret

from clusterkit import REGISTRY, RUN_ID
from packkit import ROOT, RunnerJob, awx_private_data_dir, source_files
from playbookrun import BIN, ansible_env, run

LOCAL_BUILD = ROOT / "awx" / "ee" / "local.py"
KUBECONFIG = ROOT / ".local" / "kubeconfig"
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
VERSION = str(GALAXY["version"])
EE_IMAGE = f"{REGISTRY}/vextrus-test/{RUN_ID}/deploy-ee:{VERSION}"
# Where AWX mounts the private data directory in the job's container.
RUNNER = Path("/runner")
# AWX's collection path of a job (the project's requirements, the user's, the image's).
AWX_COLLECTIONS_PATH = "/runner/requirements_collections:~/.ansible/collections:/usr/share/ansible/collections"
SECRET_KEYS = ("JWT_SECRET", "DATABASE_URL", "EVENTSTORE_CONNECTION_STRING")
# inventory variable (vault_deploy_secret_<name>, deploy_secret_<name>) of each secret key
SECRET_NAMES = {"JWT_SECRET": "jwt", "DATABASE_URL": "database_url", "EVENTSTORE_CONNECTION_STRING": "eventstore_url"}


def docker(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`docker <args>`, its output captured, never raising on a non-zero exit."""
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=False)


@dataclass(frozen=True)
class Secrets:
    """The job's secret values: the inventory's (vault-encrypted), the vault password, the
    kubeconfig's credentials."""

    values: dict[str, str]
    vault_password: str
    kubeconfig: list[str]

    def all(self) -> list[str]:
        return [*self.values.values(), self.vault_password, *self.kubeconfig]


def kubeconfig_secrets(path: Path) -> list[str]:
    """The client keys and tokens of a kubeconfig: as written there (base64 data, a token) and, for
    a key, the first line of its PEM body."""
    found: list[str] = []
    for user in yaml.safe_load(path.read_text(encoding="utf-8")).get("users") or []:
        for key in ("client-key-data", "token", "password"):
            value = (user.get("user") or {}).get(key)
            if value:
                found.append(str(value))
            if value and key == "client-key-data":
                found.append(base64.b64decode(value).decode().splitlines()[1])
    return found


def new_secrets() -> Secrets:
    """Random secret values of the service, a random vault password and the kubeconfig's credentials."""

    def token(length: int) -> str:
        return "".join(secrets.choice("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(length))

    values = {
        "JWT_SECRET": token(64),
        "DATABASE_URL": f"postgresql://finance:{token(32)}@postgres.finance.svc.cluster.local:5432/finance",
        "EVENTSTORE_CONNECTION_STRING": f"esdb://admin:{token(32)}@eventstore.finance.svc.cluster.local:2113?tls=false",
    }
    kubeconfig = kubeconfig_secrets(KUBECONFIG)
    assert kubeconfig, f"no client key or token in {KUBECONFIG}: nothing to look for in the job events"
    return Secrets(values, token(40), kubeconfig)


def vault_inventory(dest: Path, secrets_: Secrets) -> Path:
    """inventories/local with its secrets as staging and production have them: vault-encrypted
    inventory values (group_vars/all/vault.yml), no generated local vault."""
    inventory = dest / "inventory-src"
    subprocess.run(["cp", "-r", str(ROOT / "inventories" / "local"), str(inventory)], check=True)
    vault = VaultLib([("default", VaultSecret(secrets_.vault_password.encode()))])
    lines = ["---"]
    for key, name in SECRET_NAMES.items():
        encrypted = vault.encrypt(secrets_.values[key]).decode()
        lines.append(f"vault_deploy_secret_{name}: !vault |")
        lines.extend(f"  {line}" for line in encrypted.splitlines())
    group_vars = inventory / "group_vars" / "all"
    (group_vars / "vault.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (group_vars / "secrets.yml").write_text(
        "---\n"
        + "".join(f'deploy_secret_{name}: "{{{{ vault_deploy_secret_{name} }}}}"\n' for name in SECRET_NAMES.values())
        + 'deploy_local_vault_file: ""\ndeploy_local_vault_password_file: ""\n',
        encoding="utf-8",
    )
    return inventory


def job_envvars() -> dict[str, str]:
    """env/envvars of a job: the kubeconfig credential's injector ({{ tower.filename.kubeconfig }}),
    the vault password file and AWX's collections path."""
    return {
        "K8S_AUTH_KUBECONFIG": str(RUNNER / "env" / "kubeconfig"),
        "ANSIBLE_VAULT_PASSWORD_FILE": str(RUNNER / "env" / "vault_password"),
        "ANSIBLE_COLLECTIONS_PATH": AWX_COLLECTIONS_PATH,
        "ANSIBLE_NOCOLOR": "1",
    }


def write_credential_files(pdd: Path, secrets_: Secrets) -> None:
    """The files the job's credentials inject into env/ (mode 0600): the kubeconfig, the vault password."""
    for name, content in (("kubeconfig", KUBECONFIG.read_text(encoding="utf-8")),
                          ("vault_password", secrets_.vault_password + "\n")):
        path = pdd / "env" / name
        path.write_text(content, encoding="utf-8")
        path.chmod(0o600)


def job_private_data_dir(base: Path, inventory: Path, extravars: dict[str, Any], secrets_: Secrets) -> Path:
    """A private data directory as AWX lays it out for one job (packkit.awx_private_data_dir) with
    the credentials' files in env/."""
    pdd = awx_private_data_dir(base, source_files(), inventory, extravars, job_envvars(),
                               {"job_timeout": 900, "suppress_ansible_output": True})
    write_credential_files(pdd, secrets_)
    return pdd


def runner_env() -> dict[str, str]:
    """ansible-runner's own environment: nothing of the calling shell's ANSIBLE_* / K8S_AUTH_* and
    no ANSIBLE_CONFIG (the job reads project/ansible.cfg, as under AWX)."""
    env = ansible_env(clean=True)
    del env["ANSIBLE_CONFIG"]
    return env


def runner_job(pdd: Path, image: str, playbook: str, ident: str) -> RunnerJob:
    """`ansible-runner run` of the private data directory in a container of image, as AWX runs a
    job: process isolation with the Docker engine; host networking, since the local API server and
    registry listen on 127.0.0.1."""
    command = run(
        [str(BIN / "ansible-runner"), "run", str(pdd), "-p", playbook, "--ident", ident,
         "--process-isolation", "--process-isolation-executable", "docker",
         "--container-image", image, "--container-option=--network=host"],
        cwd=pdd, env=runner_env(), timeout=1200,
    )
    return RunnerJob(command, pdd / "artifacts" / ident)


def job_tail(job: RunnerJob, chars: int = 5000) -> str:
    """The command and the end of the job's output (artifacts/<ident>/stdout), for failure messages."""
    stdout = job.artifacts / "stdout"
    output = stdout.read_text(encoding="utf-8", errors="replace") if stdout.is_file() else "(no stdout artifact)"
    return f"{job.command.tail(2000)}\n{output[-chars:]}"
