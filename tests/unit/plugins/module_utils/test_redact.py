"""Secrets, their base64 forms and URL passwords are masked; short values and ordinary text are not."""

import base64

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.redact import (
    MARKER,
    MIN_LENGTH,
    redact,
    redact_value,
    secret_forms,
)

JWT = "Zq8vN3kLm0pQr5sT7uVw9xYz1aBcDeFg"
DB_PASSWORD = "hunter2hunter2X"
DB_URL = f"postgresql://finance:{DB_PASSWORD}@postgres.ns.svc:5432/finance"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


SECRET_WITH_URLSAFE_DIFFERENCE = "??>>??>>??>>"  # standard base64 has '/' and '+', URL-safe '_' and '-'


@pytest.mark.parametrize(
    ("text", "secrets", "expected"),
    [
        ("JWT_SECRET=" + JWT, [JWT], "JWT_SECRET=" + MARKER),
        ("token " + b64(JWT) + " end", [JWT], "token " + MARKER + " end"),
        ("echo | base64: " + b64(JWT + "\n"), [JWT], "echo | base64: " + MARKER),
        ("std " + b64(SECRET_WITH_URLSAFE_DIFFERENCE), [SECRET_WITH_URLSAFE_DIFFERENCE], "std " + MARKER),
        ("url-safe " + b64url(SECRET_WITH_URLSAFE_DIFFERENCE), [SECRET_WITH_URLSAFE_DIFFERENCE], "url-safe " + MARKER),
        ("connecting to " + DB_URL, [DB_URL], "connecting to " + MARKER),
        (f"password {DB_PASSWORD} rejected", [DB_URL], f"password {MARKER} rejected"),
        (f"postgres://other:{DB_PASSWORD}@db:5432", [DB_URL], f"postgres://other:{MARKER}@db:5432"),
        ("pw p%40ss%21word1 or p@ss!word1", ["esdb://admin:p%40ss%21word1@es:2113"], f"pw {MARKER} or {MARKER}"),
        ("amqp://guest:notasecret99@rabbit:5672 up", [], f"amqp://guest:{MARKER}@rabbit:5672 up"),
        ("https://example.com/a:b@c and http://host:8080/path", [], "https://example.com/a:b@c and http://host:8080/path"),
        ("exit code 1 after 1 s", ["1"], "exit code 1 after 1 s"),
        ("abcde stays", ["abcde"], "abcde stays"),
        ("number 12345678 masked", [12345678], f"number {MARKER} masked"),
        ("nothing to hide", [None, True, {"a": 1}], "nothing to hide"),
        ("prefix " + JWT + "-suffix", [JWT, JWT[:10]], "prefix " + MARKER + "-suffix"),
        ("padded " + b64(JWT) + "==", [JWT], "padded " + MARKER + "=="),
        ("plain text, no secrets given", [], "plain text, no secrets given"),
    ],
    ids=[
        "value",
        "base64",
        "base64-with-newline",
        "base64-standard",
        "base64-url-safe",
        "whole-url",
        "url-password-alone",
        "url-password-in-another-url",
        "url-password-percent-encoded-and-decoded",
        "any-url-userinfo-password",
        "urls-without-userinfo-untouched",
        "short-secret-ignored",
        "below-minimum-ignored",
        "integer-secret",
        "non-strings-ignored",
        "longest-first",
        "padding-left",
        "no-secrets",
    ],
)
def test_redact(text, secrets, expected):
    assert redact(text, secrets) == expected


@pytest.mark.parametrize(
    ("secret", "forms"),
    [
        ("x" * (MIN_LENGTH - 1), []),
        ("y" * MIN_LENGTH, ["y" * MIN_LENGTH]),
        ("  padded-secret \n", ["padded-secret", "  padded-secret \n"]),
    ],
    ids=["below", "at-minimum", "stripped-and-as-given"],
)
def test_secret_forms_include(secret, forms):
    found = secret_forms([secret])
    for form in forms:
        assert form in found
    if not forms:
        assert found == []


def test_secret_forms_are_longest_first():
    forms = secret_forms([JWT, DB_URL])
    assert [len(f) for f in forms] == sorted((len(f) for f in forms), reverse=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"msg": f"log: {JWT}", "n": 3, "ok": True}, {"msg": f"log: {MARKER}", "n": 3, "ok": True}),
        ({"logs": ["a", DB_URL], "nested": {"x": [b64(JWT)]}}, {"logs": ["a", MARKER], "nested": {"x": [MARKER]}}),
        ((JWT, None, 1.5), [MARKER, None, 1.5]),
        ({JWT: "key"}, {MARKER: "key"}),
        ("text " + JWT, "text " + MARKER),
        (None, None),
    ],
    ids=["dict", "nested", "tuple", "keys", "string", "none"],
)
def test_redact_value(value, expected):
    assert redact_value(value, [JWT, DB_URL]) == expected


def test_redact_value_leaves_its_input_unchanged():
    value = {"logs": [JWT]}
    redact_value(value, [JWT])
    assert value == {"logs": [JWT]}
