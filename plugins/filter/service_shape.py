# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter service_shape: the service's shape with its defaults filled in and every field checked.

Documentation lives in the sidecar file service_shape.yml.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def service_shape(shape: Any) -> dict[str, Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils.service_shape import ShapeError, normalize_shape

    try:
        return normalize_shape(shape)
    except ShapeError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"service_shape": service_shape}
