# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The checksum of a Secret's data that the pod template carries, so that a changed secret rolls the pods.

HMAC-SHA256 with a key of the namespace's own (``namespace_secrets`` keeps it in a Secret beside the
service's): the same data with the same key always gives the same checksum, changed data another one,
and without the key the checksum cannot confirm a guessed secret value, as a bare sha256 would.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

MIN_KEY_LENGTH = 32


class ChecksumError(ValueError):
    """The data or the key cannot be used."""


def keyed_checksum(data: Mapping[str, Any], key: str) -> str:
    """The hex HMAC-SHA256 of ``data`` (as JSON with sorted keys, no spaces) under ``key``."""
    if not isinstance(data, Mapping):
        raise ChecksumError(f"the secret data must be a dict of key: value, got {type(data).__name__}")
    if not isinstance(key, str) or len(key) < MIN_KEY_LENGTH:
        raise ChecksumError(f"the checksum key must be a string of at least {MIN_KEY_LENGTH} characters")
    message = json.dumps(dict(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hmac.new(key.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()
