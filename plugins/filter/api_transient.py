# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The api_transient filter: a task failed on a transient Kubernetes API error; documentation in api_transient.yml.

Its module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError


def api_transient(result: Mapping[str, Any]) -> bool:
    from ansible_collections.vextrus.deploy.plugins.module_utils.api_retry import transient_result

    try:
        return transient_result(result)
    except TypeError as exc:
        raise AnsibleFilterError(f"api_transient: {exc}") from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"api_transient": api_transient}
