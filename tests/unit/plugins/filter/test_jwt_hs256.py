import jwt
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vextrus.deploy.plugins.filter.jwt_hs256 import FilterModule, jwt_hs256

SECRET = "another-secret-of-enough-length"


def test_filter_is_registered():
    assert FilterModule().filters()["jwt_hs256"] is jwt_hs256


@pytest.mark.parametrize("ttl", [30, "30"])
def test_filter_mints_verifiable_token(ttl):
    decoded = jwt.decode(jwt_hs256({"sub": "x"}, SECRET, ttl), SECRET, algorithms=["HS256"])
    assert decoded["exp"] - decoded["iat"] == 30


def test_filter_error_is_ansible_filter_error():
    with pytest.raises(AnsibleFilterError, match="at least 16"):
        jwt_hs256({"sub": "x"}, "short")
