# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The api_transient filter: a task failed on a transient Kubernetes API error; documentation in api_transient.yml."""

from collections.abc import Mapping
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.vextrus.deploy.plugins.module_utils.api_retry import transient_result


def api_transient(result: Mapping[str, Any]) -> bool:
    try:
        return transient_result(result)
    except TypeError as exc:
        raise AnsibleFilterError(f"api_transient: {exc}") from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"api_transient": api_transient}
