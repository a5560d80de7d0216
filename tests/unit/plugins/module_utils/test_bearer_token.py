"""module_utils.bearer_token: the token is signed with the Secret's key (it verifies with PyJWT), the
Secret's values come back to be masked, a missing Secret or key says what to do, and the API's other
refusals are left to the caller."""

import base64

import jwt
import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils import bearer_token
from ansible_collections.vextrus.deploy.plugins.module_utils.bearer_token import TokenError, secret_token, token_from_data
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import K8sConnectionError

KEY = "j" * 48
DATA = {"JWT_SECRET": base64.b64encode(KEY.encode()).decode(),
        "DATABASE_URL": base64.b64encode(b"postgresql://finance:pw@postgres/finance").decode()}
SPEC = {"namespace": "ns", "name": "finance-secrets", "key": "JWT_SECRET", "claims": {"sub": "smoke"}, "ttl": 60,
        "kubeconfig": "/k", "context": None}


def test_the_token_is_signed_with_the_key_and_every_value_is_returned():
    token, values = token_from_data(DATA, "JWT_SECRET", {"sub": "smoke", "roles": ["reader"]}, 60, "ns/finance-secrets")
    claims = jwt.decode(token, KEY, algorithms=["HS256"])
    assert claims["sub"] == "smoke" and claims["roles"] == ["reader"] and claims["exp"] - claims["iat"] == 60
    assert sorted(values) == sorted([KEY, "postgresql://finance:pw@postgres/finance"])


@pytest.mark.parametrize(
    ("data", "key", "says"),
    [
        (None, "JWT_SECRET", "expected Secret ns/s with key JWT_SECRET to sign the bearer token; it is missing"),
        ({"OTHER": DATA["DATABASE_URL"]}, "JWT_SECRET", "the smoke_test role's smoke_test_secret_name"),
        ({"JWT_SECRET": base64.b64encode(b"short").decode()}, "JWT_SECRET", "cannot sign the bearer token with key JWT_SECRET of Secret ns/s"),
    ],
    ids=["no-secret", "no-key", "key-too-short"],
)
def test_a_missing_or_unusable_key_says_what_to_do(data, key, says):
    with pytest.raises(TokenError, match=says.replace("(", r"\(")):
        token_from_data(data, key, {}, 60, "ns/s")


class _Refusal(Exception):
    def __init__(self, status):
        super().__init__(f"{status}")
        self.status = status


class _Client:
    client = object()


def _answering(monkeypatch, answer):
    """secret_token with the API faked: ``answer`` is the Secret, or the status the API refuses with."""
    asked = []

    def request(dynamic, method, path):
        asked.append((method, path))
        return answer

    def call(action, request_once, api_client=None):
        if isinstance(answer, int):
            raise K8sConnectionError(f"cannot {action}: {answer}") from _Refusal(answer)
        return request_once()

    monkeypatch.setattr(bearer_token, "connect_dynamic", lambda spec, purpose="": _Client())
    monkeypatch.setattr(bearer_token, "request_json", request)
    monkeypatch.setattr(bearer_token, "api_call", call)
    return asked


def test_the_secret_is_read_by_path(monkeypatch):
    asked = _answering(monkeypatch, {"data": DATA})
    token, values = secret_token(SPEC)
    assert jwt.decode(token, KEY, algorithms=["HS256"])["sub"] == "smoke" and KEY in values
    assert asked == [("GET", "/api/v1/namespaces/ns/secrets/finance-secrets")]


def test_a_secret_not_found_is_a_missing_key(monkeypatch):
    _answering(monkeypatch, 404)
    with pytest.raises(TokenError, match="expected Secret ns/finance-secrets with key JWT_SECRET"):
        secret_token(SPEC)


def test_a_refusal_is_left_to_the_caller(monkeypatch):
    _answering(monkeypatch, 403)
    with pytest.raises(K8sConnectionError, match="403"):
        secret_token(SPEC)
