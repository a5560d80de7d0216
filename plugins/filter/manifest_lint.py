# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter manifest_lint; documentation in manifest_lint.yml.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def manifest_lint(manifests: Any, require_digest: bool = False, selector_check: bool = True) -> list[dict[str, str]]:
    from ansible_collections.vextrus.deploy.plugins.module_utils.manifest_lint import ManifestLintError, lint_manifests

    if not isinstance(require_digest, bool) or not isinstance(selector_check, bool):
        raise AnsibleFilterError(
            "manifest_lint: require_digest and selector_check must be booleans, got "
            f"{require_digest!r} and {selector_check!r}"
        )
    try:
        return lint_manifests(manifests, require_digest=require_digest, selector_check=selector_check)
    except ManifestLintError as exc:
        raise AnsibleFilterError(str(exc)) from exc


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"manifest_lint": manifest_lint}
