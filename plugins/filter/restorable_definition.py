# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter restorable_definition; documentation in restorable_definition.yml.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def restorable_definition(obj: Any) -> dict[str, Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils import restorable

    try:
        return restorable.restorable_definition(obj)
    except restorable.RestorableError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"restorable_definition": restorable_definition}
