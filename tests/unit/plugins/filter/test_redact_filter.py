"""The redact filter: the module_util's masking over any value, and a clear error for a wrong list."""

import base64

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vextrus.deploy.plugins.filter.redact import FilterModule, redact

SECRET = "report-secret-value-42"
DB_URL = "postgresql://finance:Pg5ecretPassw0rd@postgres:5432/finance"


def test_filter_is_registered():
    assert FilterModule().filters()["redact"] is redact


@pytest.mark.parametrize(
    ("value", "secrets", "expected"),
    [
        (f"log: {SECRET}", [SECRET], "log: ********"),
        ({"reason": f"crash: {base64.b64encode(SECRET.encode()).decode()}"}, [SECRET], {"reason": "crash: ********"}),
        (["a", "url postgres://u:Pg5ecretPassw0rd@h"], [DB_URL], ["a", "url postgres://u:********@h"]),
        ({"n": 1, "ok": True, "none": None}, [SECRET], {"n": 1, "ok": True, "none": None}),
        ("exit 1", ["1"], "exit 1"),
        ("no secrets", [], "no secrets"),
        ("no secrets", None, "no secrets"),
        (f"tuple {SECRET}", (SECRET,), "tuple ********"),
    ],
    ids=["string", "base64-in-dict", "url-password-in-list", "other-types", "short-ignored", "empty", "none", "tuple"],
)
def test_redact_filter(value, secrets, expected):
    assert redact(value, secrets) == expected


@pytest.mark.parametrize("secrets", [SECRET, {"JWT_SECRET": SECRET}, 42], ids=["string", "dict", "number"])
def test_redact_filter_refuses_what_is_not_a_list(secrets):
    with pytest.raises(AnsibleFilterError, match="redact expects a list of secret values"):
        redact("text", secrets)
