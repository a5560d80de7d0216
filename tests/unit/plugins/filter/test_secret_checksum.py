"""The keyed checksum: stable for the same data and key, different when either changes, equal to an
independent HMAC-SHA256, and refused with a clear message for unusable inputs."""

import hashlib
import hmac

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vextrus.deploy.plugins.filter.secret_checksum import FilterModule, secret_checksum

KEY = "k" * 32
DATA = {"JWT_SECRET": "jwt-value-0123456789abcdef0123456789", "DATABASE_URL": "postgresql://u:p@db/x"}


def test_filter_is_registered():
    assert FilterModule().filters()["secret_checksum"] is secret_checksum


def test_it_is_the_hmac_of_the_sorted_json():
    message = '{"DATABASE_URL":"postgresql://u:p@db/x","JWT_SECRET":"jwt-value-0123456789abcdef0123456789"}'
    assert secret_checksum(DATA, KEY) == hmac.new(KEY.encode(), message.encode(), hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("data", "key", "same"),
    [
        (dict(reversed(list(DATA.items()))), KEY, True),
        ({**DATA, "JWT_SECRET": DATA["JWT_SECRET"] + "x"}, KEY, False),
        (DATA, "j" * 32, False),
        ({**DATA, "EXTRA": "v"}, KEY, False),
    ],
    ids=["key-order-irrelevant", "changed-value", "other-namespace-key", "added-key"],
)
def test_stable_and_sensitive(data, key, same):
    assert (secret_checksum(data, key) == secret_checksum(DATA, KEY)) is same


def test_it_is_not_the_bare_sha256():
    bare = hashlib.sha256(b'{"DATABASE_URL":"postgresql://u:p@db/x","JWT_SECRET":"jwt-value-0123456789abcdef0123456789"}').hexdigest()
    assert secret_checksum(DATA, KEY) != bare and len(secret_checksum(DATA, KEY)) == 64


@pytest.mark.parametrize(
    ("data", "key", "message"),
    [
        (["a"], KEY, "must be a dict"),
        (DATA, "short", "at least 32 characters"),
        (DATA, None, "at least 32 characters"),
    ],
    ids=["list-data", "short-key", "no-key"],
)
def test_unusable_inputs(data, key, message):
    with pytest.raises(AnsibleFilterError, match=message):
        secret_checksum(data, key)
