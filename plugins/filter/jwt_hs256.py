# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter jwt_hs256; documentation in jwt_hs256.yml.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def jwt_hs256(claims: Any, secret: Any, ttl: Any = 300) -> str:
    from ansible_collections.vextrus.deploy.plugins.module_utils.jwt_token import JwtError, mint_hs256

    try:
        return mint_hs256(claims, secret, ttl=int(ttl) if isinstance(ttl, str) and ttl.isdigit() else ttl)
    except JwtError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"jwt_hs256": jwt_hs256}
