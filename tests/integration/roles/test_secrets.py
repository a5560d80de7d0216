"""Secrets: generated once into an encrypted local vault file, never printed (not even at -vvv or
with --diff), and a changed secret changes the pod template's checksum, which rolls the pods."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import yaml
from kubernetes import client

from rolekit import ROOT, PlaybookRunner, profile


def _vault_values(tmp_path: Path) -> dict[str, str]:
    proc = subprocess.run(
        [
            str(Path(sys.executable).parent / "ansible-vault"),
            "view",
            "--vault-password-file",
            str(tmp_path / "vault" / "password"),
            str(tmp_path / "vault" / "local.yml"),
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env={**os.environ, "ANSIBLE_CONFIG": str(ROOT / "ansible.cfg")},
    )
    return yaml.safe_load(proc.stdout)


def _forms(value: str) -> list[str]:
    """The value and its base64 encoding, as a leak could show either."""
    return [value, base64.b64encode(value.encode()).decode()]


def _assert_no_leak(output: str, values: list[str]) -> None:
    for value in values:
        for form in _forms(value):
            assert form not in output, "a secret value appeared in the output"


def test_secrets_generated_once_never_printed_and_rotation_rolls_pods(
    run_playbook: PlaybookRunner, role_namespace: str, k8s_client: client.ApiClient, tmp_path: Path
) -> None:
    extra = profile(role_namespace, tmp_path)
    first = run_playbook(extra, "-vvv", "--diff")
    assert first.rc == 0, first.output[-4000:]

    vault_file, password_file = tmp_path / "vault" / "local.yml", tmp_path / "vault" / "password"
    assert vault_file.read_text().startswith("$ANSIBLE_VAULT;")
    assert oct(vault_file.stat().st_mode & 0o777) == "0o600"
    assert oct(password_file.stat().st_mode & 0o777) == "0o600"
    values = _vault_values(tmp_path)
    assert set(values) == {"deploy_secret_jwt", "deploy_secret_database_url", "deploy_secret_eventstore_url"}
    assert len(values["deploy_secret_jwt"]) == 64
    _assert_no_leak(first.output, list(values.values()))

    core, apps = client.CoreV1Api(k8s_client), client.AppsV1Api(k8s_client)
    secret = core.read_namespaced_secret("finance-service-secrets", role_namespace)
    assert base64.b64decode(secret.data["JWT_SECRET"]).decode() == values["deploy_secret_jwt"]
    stable = apps.read_namespaced_deployment("finance-service-stable", role_namespace)
    checksum = stable.spec.template.metadata.annotations["checksum/secrets"]
    assert secret.metadata.annotations["vextrus.io/checksum"] == f"sha256:{checksum}"
    # keyed: the HMAC-SHA256 under the namespace's own key, not a bare sha256 that confirms a guess
    key = base64.b64decode(core.read_namespaced_secret("finance-service-secrets-checksum-key", role_namespace).data["key"])
    data = {name: base64.b64decode(value).decode() for name, value in secret.data.items()}
    message = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    assert checksum == hmac.new(key, message, hashlib.sha256).hexdigest()
    assert checksum != hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()

    # generated once: a second run reads the same values back and changes nothing
    second = run_playbook(extra, "-vvv")
    assert second.rc == 0, second.output[-4000:]
    assert second.recap()["changed"] == 0, second.output[-4000:]
    assert _vault_values(tmp_path) == values
    _assert_no_leak(second.output, list(values.values()))

    # rotation: an explicit value overrides the generated one; check mode and the real run stay silent
    rotated = secrets.token_urlsafe(48)
    check = run_playbook({**extra, "deploy_secret_jwt": rotated}, "-vvv", "--check", "--diff")
    assert check.rc == 0, check.output[-4000:]
    _assert_no_leak(check.output, [rotated, *values.values()])
    rotate = run_playbook({**extra, "deploy_secret_jwt": rotated}, "-vvv", "--diff")
    assert rotate.rc == 0, rotate.output[-4000:]
    _assert_no_leak(rotate.output, [rotated, *values.values()])

    secret = core.read_namespaced_secret("finance-service-secrets", role_namespace)
    assert base64.b64decode(secret.data["JWT_SECRET"]).decode() == rotated
    rolled = apps.read_namespaced_deployment("finance-service-stable", role_namespace)
    new_checksum = rolled.spec.template.metadata.annotations["checksum/secrets"]
    assert new_checksum != checksum, "a changed secret must change the pod template"
    assert rolled.metadata.generation > stable.metadata.generation, "the pods were not rolled"
    assert secret.metadata.annotations["vextrus.io/checksum"] == f"sha256:{new_checksum}"
