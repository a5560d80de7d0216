# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter restorable_definition; documentation in restorable_definition.yml."""

from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.vextrus.deploy.plugins.module_utils.restorable import RestorableError
from ansible_collections.vextrus.deploy.plugins.module_utils.restorable import restorable_definition as _restorable


def restorable_definition(obj: Any) -> dict[str, Any]:
    try:
        return _restorable(obj)
    except RestorableError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"restorable_definition": restorable_definition}
