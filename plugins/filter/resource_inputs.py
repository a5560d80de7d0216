# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter resource_inputs: the resource_apply role's inputs checked and normalised in one call.

Documentation lives in the sidecar file resource_inputs.yml.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def resource_inputs(inputs: Any) -> dict[str, Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils.resource_inputs import InputError, check_inputs

    try:
        return check_inputs(inputs)
    except InputError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"resource_inputs": resource_inputs}
