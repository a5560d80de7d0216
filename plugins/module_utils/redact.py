# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scrub secret values from text a module, a filter or a report passes on (quoted logs, messages).

Each secret counts in several forms, every one replaced by ``MARKER``:

- the value itself;
- its standard and URL-safe base64 encodings, also of the value followed by a newline (what
  ``echo "$SECRET" | base64`` prints), with and without their ``=`` padding;
- when the value is a URL with a password (``postgres://user:PASS@host/db``), that password, as
  written and percent-decoded.

Besides, the password of any ``scheme://user:password@`` URL in the text is masked, whether or not
it is a known secret.

The rule for short values: a secret (or URL password) shorter than ``MIN_LENGTH`` characters is not
looked for, since masking it would blank ordinary text (a secret ``1`` would mask every digit); such
a value is not a usable secret anyway. Pure functions, no I/O.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote, urlsplit

MARKER = "********"
MIN_LENGTH = 6
# scheme://user:password@ - the password ends at the first '@' (an unencoded '@' in it is not valid)
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]*:)(?P<password>[^\s@/]+)(?=@)")


def _base64_forms(value: str) -> list[str]:
    forms = []
    for text in (value, value + "\n"):
        raw = text.encode("utf-8")
        for encoded in (base64.b64encode(raw).decode("ascii"), base64.urlsafe_b64encode(raw).decode("ascii")):
            forms.extend((encoded, encoded.rstrip("=")))
    return forms


def _url_password(value: str) -> list[str]:
    if "://" not in value:
        return []
    try:
        password = urlsplit(value.strip()).password
    except ValueError:
        return []
    return [password, unquote(password)] if password else []


def secret_forms(secrets: Iterable[Any]) -> list[str]:
    """Every form of every secret that ``redact`` replaces, longest first (so that a secret that
    contains another is masked whole). Values that are not strings or numbers are skipped."""
    forms: set[str] = set()
    for secret in secrets or ():
        if isinstance(secret, bool) or not isinstance(secret, (str, int, float)):
            continue
        value = str(secret)
        if len(value) < MIN_LENGTH:
            continue
        candidates = [value, value.strip(), *_base64_forms(value), *_url_password(value)]
        forms.update(form for form in candidates if len(form) >= MIN_LENGTH)
    return sorted(forms, key=lambda form: (-len(form), form))


def _redact(text: str, forms: list[str]) -> str:
    for form in forms:
        if form in text:
            text = text.replace(form, MARKER)
    return _URL_PASSWORD.sub(lambda match: match.group("head") + MARKER, text)


def redact(text: str, secrets: Iterable[Any]) -> str:
    """``text`` with every form of every secret (see the module's docstring) replaced by ``MARKER``."""
    return _redact(text, secret_forms(secrets))


def _walk(value: Any, forms: list[str]) -> Any:
    if isinstance(value, str):
        return _redact(value, forms)
    if isinstance(value, Mapping):
        return {(_redact(k, forms) if isinstance(k, str) else k): _walk(v, forms) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_walk(item, forms) for item in value]
    return value


def redact_value(value: Any, secrets: Iterable[Any]) -> Any:
    """A copy of ``value`` (dicts, lists, tuples as lists, strings; keys included) with ``redact``
    applied to every string; other values are returned as they are."""
    return _walk(value, secret_forms(secrets))
