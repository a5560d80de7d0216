# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter secret_checksum; documentation in secret_checksum.yml.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def secret_checksum(data: Any, key: Any) -> str:
    from ansible_collections.vextrus.deploy.plugins.module_utils.secret_checksum import ChecksumError, keyed_checksum

    try:
        return keyed_checksum(data, key)
    except ChecksumError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"secret_checksum": secret_checksum}
