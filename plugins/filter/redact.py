# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter redact; documentation in redact.yml.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError


def redact(value: Any, secrets: Any = None) -> Any:
    from ansible_collections.vextrus.deploy.plugins.module_utils.redact import redact_value

    if secrets is None:
        secrets = []
    if isinstance(secrets, (str, bytes, Mapping)) or not isinstance(secrets, (list, tuple)):
        raise AnsibleFilterError(f"redact expects a list of secret values, got {type(secrets).__name__}")
    return redact_value(value, secrets)


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"redact": redact}
