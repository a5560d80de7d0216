# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Mint HS256 JSON Web Tokens (RFC 7519) for smoke tests, with the standard library only."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

MIN_SECRET_LENGTH = 16


class JwtError(ValueError):
    """The claims or the secret cannot make a token."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def mint_hs256(claims: dict[str, Any], secret: str, ttl: int = 300, now: float | None = None) -> str:
    """Return a compact HS256 token for ``claims``, adding ``iat`` and ``exp`` (``ttl`` seconds)
    unless the claims set them."""
    if not isinstance(claims, dict):
        raise JwtError(f"JWT claims must be a mapping, got {type(claims).__name__}")
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        raise JwtError(
            f"JWT secret must be a string of at least {MIN_SECRET_LENGTH} characters; "
            "check that the service's Secret holds JWT_SECRET"
        )
    if isinstance(ttl, bool) or not isinstance(ttl, int) or ttl <= 0:
        raise JwtError(f"JWT ttl must be a positive number of seconds, got {ttl!r}")
    issued = int(time.time() if now is None else now)
    payload = {"iat": issued, "exp": issued + ttl, **claims}
    header = {"alg": "HS256", "typ": "JWT"}
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":"), sort_keys=True).encode("utf-8"))
        for part in (header, payload)
    )
    signature = hmac.new(secret.encode("utf-8"), signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64url(signature)}"
