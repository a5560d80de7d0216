# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A bearer token minted inside the module that uses it, from a key of a Kubernetes Secret.

``secret_token`` reads the Secret, signs the claims with the key (HS256, ``jwt_token.mint_hs256``)
and returns the token with every value of the Secret, which the caller masks in what it returns.
The signing key and the token never pass through a task's arguments or registered results, so no
task needs ``no_log`` for them (which would hide its error messages too), and a role saves the
module run that read the Secret. ``token_from_data`` is the pure part: the unit tests call it
directly.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.jwt_token import JwtError, mint_hs256
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import (
    K8sConnectionError,
    api_call,
    connect_dynamic,
    request_json,
)


class TokenError(ValueError):
    """The token cannot be minted: the Secret or its key is missing, or the key is not usable."""


def _decoded(value: Any) -> str:
    try:
        return base64.b64decode(str(value), validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return ""


def token_from_data(
    data: Mapping[str, Any] | None, key: str, claims: Mapping[str, Any], ttl: int, where: str
) -> tuple[str, list[str]]:
    """The token signed with ``data[key]`` (a Secret's base64 ``data``) and the Secret's decoded values;
    ``where`` names the Secret in the messages."""
    values = {name: _decoded(value) for name, value in (data or {}).items()}
    if key not in values:
        raise TokenError(
            f"expected Secret {where} with key {key} to sign the bearer token; it is missing. Apply the service's "
            "Secret (the namespace_secrets role) or name the Secret and the key that hold the signing key "
            "(bearer_token_secret; the smoke_test role's smoke_test_secret_name and smoke_test_jwt_secret_key)."
        )
    secrets = [value for value in values.values() if value]
    try:
        return mint_hs256(dict(claims), values[key], ttl=ttl), secrets
    except JwtError as exc:
        raise TokenError(f"cannot sign the bearer token with key {key} of Secret {where}: {exc}") from exc


def secret_token(spec: Mapping[str, Any]) -> tuple[str, list[str]]:
    """The token and the Secret's values for ``spec`` (the ``bearer_token_secret`` option: ``namespace``,
    ``name``, ``key``, ``claims``, ``ttl`` and the connection options). A Secret that is not there is
    a TokenError; an API that cannot be reached or refuses is a K8sConnectionError."""
    namespace, name = spec["namespace"], spec["name"]
    where = f"{namespace}/{name}"
    dynamic = connect_dynamic(spec, purpose=" to read the bearer token's signing key")
    try:
        secret = api_call(
            f"read Secret {where} for the bearer token",
            lambda: request_json(dynamic, "GET", f"/api/v1/namespaces/{namespace}/secrets/{name}"),
            dynamic.client,
        )
    except K8sConnectionError as exc:
        if getattr(exc.__cause__, "status", None) != 404:
            raise
        secret = {}
    return token_from_data(secret.get("data"), spec["key"], spec["claims"] or {}, spec["ttl"], where)
