"""smoke_checks opens one port-forward for all its checks and closes it; without a pod to forward
to, the first check fails with the reason and the others are skipped."""

from __future__ import annotations

import contextlib
import functools
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vextrus.deploy.plugins.module_utils.health_probe import Response
from ansible_collections.vextrus.deploy.plugins.module_utils.port_forward import PortForwardError
from ansible_collections.vextrus.deploy.plugins.module_utils.smoke_checks import run_smoke_checks
from ansible_collections.vextrus.deploy.plugins.modules import smoke_checks

TOKEN = "eyJhbGciOiJIUzI1NiJ9.module-token.signature"
FORWARD = {"pod": "finance-service-stable-abc", "remote_port": 3000, "local_port": 41000}
CHECKS = [
    {"name": "health", "url": "http://finance-service/health"},
    {"name": "readiness", "url": "http://finance-service/health/ready"},
    {"name": "authenticated API call", "url": "http://finance-service/api", "authenticated": True},
    {"name": "API call without a token gets 401", "url": "http://finance-service/api", "expected_status": [401], "successes": 1},
]
ARGS = {
    "checks": CHECKS,
    "bearer_token": TOKEN,
    "successes": 2,
    "interval": 0.01,
    "timeout": 0.5,
    "port_forward": {"namespace": "ns", "service": "finance-service", "port": 80},
}


def run_main(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        smoke_checks.main()
    return json.loads(capsys.readouterr().out)


def service(url, timeout, headers, validate_certs):
    if url.endswith("/api"):
        return Response(200 if headers.get("Authorization") == f"Bearer {TOKEN}" else 401, "{}", 1.0)
    return Response(200, "{}", 1.0)


@pytest.fixture
def forwards(monkeypatch):
    opened: list[dict] = []

    @contextlib.contextmanager
    def fake_forward(forward, ready_within=0.0):
        opened.append({"forward": forward, "closed": False, "ready_within": ready_within})
        yield dict(FORWARD)
        opened[-1]["closed"] = True

    monkeypatch.setattr(smoke_checks, "open_forward", fake_forward)
    monkeypatch.setattr(smoke_checks, "run_smoke_checks", functools.partial(
        run_smoke_checks, fetcher=service))
    return opened


def test_every_check_goes_through_one_forward(forwards, capsys):
    result = run_main(ARGS, capsys)
    assert result["passed"] is True and not result.get("failed"), result
    assert len(forwards) == 1 and forwards[0]["closed"] is True
    # a moment without a Ready pod is waited out within the checks' budget
    assert forwards[0]["ready_within"] == ARGS["timeout"]
    assert forwards[0]["forward"]["service"] == "finance-service" and forwards[0]["forward"]["port"] == 80
    assert result["port_forward"] == FORWARD
    urls = [u["url"] for c in result["checks"] for u in c["result"]["urls"]]
    assert urls == ["http://127.0.0.1:41000/health", "http://127.0.0.1:41000/health/ready",
                    "http://127.0.0.1:41000/api", "http://127.0.0.1:41000/api"]
    statuses = [c["result"]["urls"][0]["last_status"] for c in result["checks"]]
    assert statuses == [200, 200, 200, 401]
    assert TOKEN not in json.dumps(result)


@pytest.mark.parametrize(
    "error",
    [PortForwardError("no Ready pod to forward to (found 2 pods, none Ready)"),
     smoke_checks.K8sConnectionError("cannot reach the Kubernetes API for the port-forward")],
    ids=["no-ready-pod", "no-api"],
)
def test_without_a_forward_the_first_check_fails_and_the_others_are_skipped(monkeypatch, capsys, error):
    @contextlib.contextmanager
    def failing_forward(forward, ready_within=0.0):
        if forward["namespace"] and ready_within:  # always: the forward cannot be opened
            raise error
        yield dict(FORWARD)

    monkeypatch.setattr(smoke_checks, "open_forward", failing_forward)
    result = run_main(ARGS, capsys)
    assert result["failed"] is True and result["passed"] is False
    first, *others = result["checks"]
    assert first["name"] == "health" and first["result"]["msg"] == str(error) and first["result"]["failed"] is True
    assert [o["result"]["skipped"] for o in others] == [True, True, True]


def test_duplicate_check_names_are_refused(capsys):
    result = run_main({**ARGS, "checks": [CHECKS[0], CHECKS[0]]}, capsys)
    assert result["failed"] is True and "must be unique" in result["msg"]


def test_a_token_minted_from_the_secret_goes_only_to_the_authenticated_check(forwards, monkeypatch, capsys):
    minted = []

    def secret_token(spec):
        minted.append(spec)
        return TOKEN, ["a-secret-value-of-the-service"]

    monkeypatch.setattr(smoke_checks, "secret_token", secret_token)
    args = {key: value for key, value in ARGS.items() if key != "bearer_token"}
    result = run_main({**args, "bearer_token_secret": {"namespace": "ns", "name": "finance-service-secrets",
                                                       "key": "JWT_SECRET", "claims": {"sub": "smoke"}}}, capsys)
    assert result["passed"] is True, result
    assert minted[0]["name"] == "finance-service-secrets" and minted[0]["ttl"] == 300
    assert [c["result"]["urls"][0]["last_status"] for c in result["checks"]] == [200, 200, 200, 401]
    assert TOKEN not in json.dumps(result)


def test_a_missing_signing_key_fails_every_check_as_not_run(forwards, monkeypatch, capsys):
    def secret_token(spec):
        raise smoke_checks.TokenError("expected Secret ns/finance-service-secrets with key JWT_SECRET; it is missing")

    monkeypatch.setattr(smoke_checks, "secret_token", secret_token)
    args = {key: value for key, value in ARGS.items() if key != "bearer_token"}
    result = run_main({**args, "bearer_token_secret": {"namespace": "ns", "name": "finance-service-secrets",
                                                       "key": "JWT_SECRET", "claims": {}}}, capsys)
    assert result["failed"] is True and result["passed"] is False
    first, *others = result["checks"]
    assert "with key JWT_SECRET; it is missing" in first["result"]["msg"] and "urls" not in first["result"]
    assert [o["result"]["skipped"] for o in others] == [True, True, True]
    assert forwards == []


def test_a_token_and_a_token_secret_are_refused_together(capsys):
    result = run_main({**ARGS, "bearer_token_secret": {"namespace": "ns", "name": "s", "key": "k", "claims": {}}}, capsys)
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
