"""A service that prints its secrets and crashes: the gate quotes its log, and no secret value - nor
its base64 form, nor the database URL's password - appears anywhere: not in the playbook's output at
-vvv, not in the report files (which only their owner may read), not in the release record. The
marker does appear where the log is quoted, so the test fails if nothing were quoted at all."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from kubernetes import client

from chainkit import REAL_NODE, ROOT, SERVICE, build_and_push, run_week
from clusterkit import REGISTRY, RUNTIME_IMAGE, SESSION_REPOSITORY

MARKER = "********"
CRASH_REASONS = {"CrashLoopBackOff", "RestartLimitExceeded"}
# Prints the secrets the Deployment maps in, as a careless service does on a failed start, then exits 1.
LEAKY_SERVICE = r"""
const jwt = process.env.JWT_SECRET || "";
const db = new URL(process.env.DATABASE_URL || "postgres://nobody@nowhere/none");
console.log("starting with JWT_SECRET=" + jwt);
console.log("JWT_SECRET as base64: " + Buffer.from(jwt).toString("base64"));
console.log("JWT_SECRET as echo | base64: " + Buffer.from(jwt + "\n").toString("base64"));
console.error("connecting to postgres://" + db.username + ":" + db.password + "@10.0.0.9:5432/finance");
console.error("Error: cannot start: database " + process.env.DATABASE_URL + " refused the login, jwt " + jwt);
process.exit(1);
"""


@pytest.fixture(scope="module")
def leaky_image() -> str:
    """The leaky service on the local Node 20 runtime base, pushed to the session's repository; by digest."""
    repository = f"{REGISTRY}/{SESSION_REPOSITORY.rsplit('/', 1)[0]}/leaky"
    dockerfile = f"FROM {RUNTIME_IMAGE}\nCMD [\"node\", \"-e\", {json.dumps(LEAKY_SERVICE)}]\n"
    return build_and_push(repository, "leaky", fileobj=io.BytesIO(dockerfile.encode()))


def vault_values(vault_dir: Path) -> dict[str, str]:
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-vault"), "view", "--vault-password-file", str(vault_dir / "password"),
         str(vault_dir / "local.yml")],
        capture_output=True, text=True, check=True, cwd=ROOT, env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
    )
    return yaml.safe_load(proc.stdout)


def leaks_of(values: dict[str, str]) -> dict[str, str]:
    """What must appear nowhere: each value, its base64 forms, the database URL's password."""
    jwt, database_url = values["deploy_secret_jwt"], values["deploy_secret_database_url"]
    password = urlsplit(database_url).password
    assert password and len(password) >= 16, database_url.replace(password or "", "<password>")
    leaks = {"the database URL's password": password}
    for name, value in values.items():
        leaks[name] = value
        leaks[f"{name} as base64"] = base64.b64encode(value.encode()).decode()
    leaks["the JWT secret as echo | base64"] = base64.b64encode((jwt + "\n").encode()).decode()
    return leaks


def assert_clean(where: str, text: str, leaks: dict[str, str]) -> None:
    found = [name for name, leak in leaks.items() if leak in text]
    assert not found, f"{where} carries {', '.join(found)}"


def test_a_service_printing_its_secrets_leaks_none_of_them(
    leaky_image: str,
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    ns = new_namespace("redact")
    reports = tmp_path / "report"
    run = run_week(1, ns, reports, chain_vault, {**REAL_NODE, "rollout_image": leaky_image}, options=("-vvv",))
    assert run.rc != 0, run.tail()
    leaks = leaks_of(vault_values(chain_vault))

    # nowhere in the output at -vvv
    assert_clean("the playbook output at -vvv", run.output, leaks)

    # the gate failed on the crash and quoted the log, masked
    report = run.report
    assert report is not None and report["verdict"] == "FAIL", run.tail()
    gate = report["gate"]
    assert gate["reason"] in CRASH_REASONS, gate
    assert f'; log: "Error: cannot start: database {MARKER} refused the login, jwt {MARKER}"' in gate["msg"], gate["msg"]
    assert f"starting with JWT_SECRET={MARKER}" in gate["logs"], gate["logs"]
    assert f"connecting to postgres://finance:{MARKER}@10.0.0.9:5432/finance" in gate["logs"], gate["logs"]
    assert f"JWT_SECRET as base64: {MARKER}" in gate["logs"], gate["logs"]
    assert f"log: \"Error: cannot start: database {MARKER}" in run.flat, run.tail()

    # nor in the reports (owner only) or the record
    assert run.report_path is not None
    for path in (run.report_path, run.report_path.with_suffix(".md")):
        assert_clean(path.name, path.read_text(encoding="utf-8"), leaks)
        assert oct(path.stat().st_mode & 0o777) == "0o600", path
    assert MARKER in run.report_path.with_suffix(".md").read_text(encoding="utf-8")
    record = client.CoreV1Api(k8s_client).read_namespaced_config_map(f"{SERVICE}-release", ns)
    assert json.loads(record.data["release.json"])["runs"][-1]["verdict"] == "FAIL", record.data
    assert_clean("the release record", json.dumps(record.data), leaks)
    assert MARKER in json.loads(record.data["release.json"])["runs"][-1]["reason"], record.data
