# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lookup vault_file: a vault-encrypted file on the controller, decrypted with a password given to it."""

from __future__ import annotations

DOCUMENTATION = r"""
name: vault_file
short_description: Read a vault-encrypted file on the controller with a password of its own
version_added: 0.2.0
author: Vextrus Platform Engineering (@vextrus)
description:
  - Returns the decrypted text of each file, read on the controller, where the play runs.
  - The password is given to the lookup, so the file may be encrypted with a password the run does not
    know as a vault secret (the built-in C(file) and C(unvault) lookups decrypt only with the run's own
    vault secrets). No module runs for it.
  - A file that is not vault-encrypted, or that the password does not open, is an error naming the file;
    the error never quotes the file's content.
options:
  _terms:
    description: Paths of the files on the controller.
    type: list
    elements: path
    required: true
  password:
    description: The vault password that encrypted the files.
    type: str
    required: true
notes:
  - Use C(no_log) on a task that keeps the result.
seealso:
  - plugin: ansible.builtin.unvault
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Read the local secrets
  ansible.builtin.set_fact:
    local_values: "{{ lookup('vextrus.deploy.vault_file', '/srv/vault/local.yml', password=vault_password) | from_yaml }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: The decrypted text of each file, in the order given.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.parsing.vault import AnsibleVaultError, VaultLib, VaultSecret, is_encrypted
from ansible.plugins.lookup import LookupBase


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        password = self.get_option("password")
        if not password:
            raise AnsibleLookupError("vault_file: password is empty; give the password the files were encrypted with")
        vault = VaultLib([("default", VaultSecret(str(password).encode("utf-8")))])
        return [_decrypted(str(path), vault) for path in terms]


def _decrypted(path: str, vault: VaultLib) -> str:
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise AnsibleLookupError(f"vault_file: cannot read {path}: {error.strerror}") from None
    if not is_encrypted(data):
        raise AnsibleLookupError(f"vault_file: {path} is not vault-encrypted; encrypt it with ansible-vault, or read it "
                                 f"with the file lookup")
    try:
        return vault.decrypt(data).decode("utf-8")
    except AnsibleVaultError:
        raise AnsibleLookupError(f"vault_file: the password does not decrypt {path}; give the password it was "
                                 f"encrypted with") from None
