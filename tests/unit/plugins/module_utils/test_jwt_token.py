"""Tokens minted here must verify with an independent JWT implementation (PyJWT)."""

import jwt
import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.jwt_token import JwtError, mint_hs256

SECRET = "s3cret-value-with-enough-length"


@pytest.mark.parametrize("claims", [{"sub": "smoke"}, {"sub": "a", "roles": ["reader", "writer"], "n": 3}])
def test_token_verifies_with_pyjwt(claims):
    token = mint_hs256(claims, SECRET, ttl=60, now=1_700_000_000)
    decoded = jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    assert decoded == {"iat": 1_700_000_000, "exp": 1_700_000_060, **claims}


def test_wrong_secret_does_not_verify():
    token = mint_hs256({"sub": "smoke"}, SECRET)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, SECRET + "x", algorithms=["HS256"])


def test_fresh_token_is_not_expired():
    token = mint_hs256({"sub": "smoke"}, SECRET, ttl=120)
    assert jwt.decode(token, SECRET, algorithms=["HS256"])["sub"] == "smoke"


def test_claims_override_exp():
    token = mint_hs256({"exp": 5}, SECRET, now=1)
    assert jwt.decode(token, SECRET, algorithms=["HS256"], options={"verify_exp": False})["exp"] == 5


@pytest.mark.parametrize(
    "claims, secret, ttl, message",
    [
        (["sub"], SECRET, 60, "claims must be a mapping"),
        ({}, "short", 60, "at least 16 characters"),
        ({}, None, 60, "at least 16 characters"),
        ({}, SECRET, 0, "positive number"),
        ({}, SECRET, True, "positive number"),
    ],
)
def test_bad_input(claims, secret, ttl, message):
    with pytest.raises(JwtError, match=message):
        mint_hs256(claims, secret, ttl=ttl)
