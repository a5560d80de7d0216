"""vault_file: a vault-encrypted file on the controller, decrypted with the password given to the lookup
(not the run's vault secrets); a plain file, a wrong or empty password and a missing file are errors that
name the file and never quote its content. Through the lookup loader, as a template calls it, in a new
Python (the plugin loaders are global)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ansible.parsing.vault import VaultLib, VaultSecret

ROOT = Path(__file__).resolve().parents[4]
COLLECTIONS = ROOT / ".local" / "collections"
SECRET = "deploy_secret_jwt: s3cret-value-that-must-not-leak\n"

SCRIPT = """
import json, sys
sys.path.insert(0, {collections!r})
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import init_plugin_loader, lookup_loader
init_plugin_loader([{collections!r}])
lookup = lookup_loader.get("vextrus.deploy.vault_file")
results = []
for paths, password in {cases!r}:
    try:
        results.append({{"value": lookup.run(paths, variables={{}}, password=password)}})
    except AnsibleLookupError as error:
        results.append({{"error": str(error)}})
print(json.dumps(results))
"""


def _lookup(*cases: tuple[list[str], str]) -> list[dict]:
    code = SCRIPT.format(collections=str(COLLECTIONS), cases=[list(case) for case in cases])
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def _vault(path: Path, password: str, text: str = SECRET) -> Path:
    path.write_bytes(VaultLib([("default", VaultSecret(password.encode()))]).encrypt(text.encode()))
    return path


def test_each_file_is_decrypted_with_the_given_password(tmp_path: Path) -> None:
    first = _vault(tmp_path / "a.yml", "pw-one")
    second = _vault(tmp_path / "b.yml", "pw-one", "other: 1\n")
    assert _lookup(([str(first), str(second)], "pw-one")) == [{"value": [SECRET, "other: 1\n"]}]


@pytest.mark.parametrize(("case", "content", "password", "message"), [
    ("a wrong password", "vault", "pw-two", "the password does not decrypt {path}; give the password"),
    ("an empty password", "vault", "", "password is empty"),
    ("a plain file", "plain", "pw-one", "{path} is not vault-encrypted; encrypt it with ansible-vault"),
    ("a missing file", "none", "pw-one", "cannot read {path}: No such file or directory"),
])
def test_errors_name_the_file_and_never_quote_it(tmp_path: Path, case: str, content: str, password: str,
                                                 message: str) -> None:
    path = tmp_path / "local.yml"
    if content == "vault":
        _vault(path, "pw-one")
    elif content == "plain":
        path.write_text(SECRET)
    [result] = _lookup(([str(path)], password))
    assert "value" not in result, case
    assert message.format(path=path) in result["error"], case
    assert "s3cret" not in result["error"]
