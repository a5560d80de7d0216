"""The modules that quote container output or API messages mask the values of their redact option
(each value, its base64 forms, a URL's password) in everything they return."""

from __future__ import annotations

import base64
import functools
import json

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vextrus.deploy.plugins.module_utils.health_probe import Response, run_probes
from ansible_collections.vextrus.deploy.plugins.module_utils.redact import MARKER
from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_watch import RolloutGateError
from ansible_collections.vextrus.deploy.plugins.module_utils.smoke_checks import run_smoke_checks
from ansible_collections.vextrus.deploy.plugins.modules import health_gate, image_verify, rollout_gate, smoke_checks

JWT = "jwt-secret-0123456789abcdefghijklmnopqrstuv"
PASSWORD = "Pg5ecretPassw0rd"
DB_URL = f"postgresql://finance:{PASSWORD}@postgres.ns.svc:5432/finance"
B64_JWT = base64.b64encode(JWT.encode()).decode()
LEAKS = [JWT, B64_JWT.rstrip("="), PASSWORD]


def run_main(main, args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        main()
    return json.loads(capsys.readouterr().out)


def assert_clean(result: dict) -> None:
    text = json.dumps(result)
    for leak in LEAKS:
        assert leak not in text


# -- rollout_gate ------------------------------------------------------------------------------------

GATE_ARGS = {"namespace": "ns", "deployments": ["finance-service"], "redact": [JWT, DB_URL]}


def test_rollout_gate_passes_the_values_to_the_gate(monkeypatch, capsys):
    seen = {}

    def fake_gate(api_client, **kwargs):
        seen.update(kwargs)
        return {"changed": False, "msg": "rollouts complete", "elapsed": 0.1, "ready": {}, "deployments": {}}

    monkeypatch.setattr(rollout_gate, "connect", lambda params: object())
    monkeypatch.setattr(rollout_gate, "run_rollout_gate", fake_gate)
    result = run_main(rollout_gate.main, GATE_ARGS, capsys)
    assert seen["secrets"] == [JWT, DB_URL]
    assert result["msg"] == "rollouts complete"


@pytest.mark.parametrize(
    "message",
    [f"API said: {JWT}", f"API said: {B64_JWT}", f"cannot reach postgres://finance:{PASSWORD}@db"],
    ids=["value", "base64", "url-password"],
)
def test_rollout_gate_masks_its_error_messages(monkeypatch, capsys, message):
    def failing_gate(api_client, **kwargs):
        raise RolloutGateError(message)

    monkeypatch.setattr(rollout_gate, "connect", lambda params: object())
    monkeypatch.setattr(rollout_gate, "run_rollout_gate", failing_gate)
    result = run_main(rollout_gate.main, GATE_ARGS, capsys)
    assert result["failed"] is True
    assert MARKER in result["msg"]
    assert_clean(result)


# -- health_gate -------------------------------------------------------------------------------------


def leaky_fetcher(url, timeout, headers, validate_certs):
    return Response(503, json.dumps({"error": f"db {DB_URL} refused, JWT {B64_JWT}"}), 1.0)


def test_health_gate_masks_the_bodies_it_quotes(monkeypatch, capsys):
    monkeypatch.setattr(health_gate, "run_probes", functools.partial(run_probes, fetcher=leaky_fetcher))
    args = {"urls": ["http://finance-service/health"], "successes": 1, "interval": 0.05, "timeout": 0.3, "redact": [JWT, DB_URL]}
    result = run_main(health_gate.main, args, capsys)
    assert result["failed"] is True
    assert MARKER in result["body_excerpt"] and MARKER in result["msg"]
    assert_clean(result)


# -- image_verify ------------------------------------------------------------------------------------


class _FakeDockerClient:
    """What image_verify uses of community.docker's client: the module, the container, its logs."""

    logs = (f"JWT_SECRET={JWT}\nconnecting to {DB_URL}\nError: cannot start: {B64_JWT}\n").encode()

    def __init__(self, argument_spec, supports_check_mode):
        self.module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=supports_check_mode)

    def get_container(self, name):
        return {"Id": "c0ffee", "State": {"Running": False, "ExitCode": 1}, "Config": {"Tty": True}}

    def get_binary(self, pathfmt, *args, **kwargs):
        return self.logs


@pytest.mark.parametrize("given", [[JWT, DB_URL], [DB_URL, JWT, "short"]], ids=["values", "with-a-short-value"])
def test_image_verify_masks_the_container_output(monkeypatch, capsys, given):
    monkeypatch.setattr(image_verify, "AnsibleDockerClient", _FakeDockerClient)
    monkeypatch.setattr(image_verify, "IMPORT_ERROR", None)
    args = {"image": "img:1", "container": "verify", "dependencies": [], "redact": given}
    result = run_main(image_verify.main, args, capsys)
    assert result["failed"] is True and result["reason"] == "dependency_check"
    assert any(MARKER in line for line in result["log_tail"])
    assert MARKER in result["msg"]
    assert_clean(result)


def test_image_verify_without_values_quotes_the_output(monkeypatch, capsys):
    """The control: without the option the quoted output carries the value (what the option removes)."""
    monkeypatch.setattr(image_verify, "AnsibleDockerClient", _FakeDockerClient)
    monkeypatch.setattr(image_verify, "IMPORT_ERROR", None)
    result = run_main(image_verify.main, {"image": "img:1", "container": "verify", "dependencies": []}, capsys)
    assert f"JWT_SECRET={JWT}" in result["log_tail"]


# -- smoke_checks ------------------------------------------------------------------------------------


def test_smoke_checks_masks_the_bodies_it_quotes(monkeypatch, capsys):
    monkeypatch.setattr(smoke_checks, "run_smoke_checks", functools.partial(run_smoke_checks, fetcher=leaky_fetcher))
    args = {
        "checks": [{"name": "health", "url": "http://finance-service/health"}, {"name": "api", "url": "http://finance-service/api"}],
        "successes": 1, "interval": 0.05, "timeout": 0.3, "redact": [JWT, DB_URL],
    }
    result = run_main(smoke_checks.main, args, capsys)
    assert result["failed"] is True and result["passed"] is False
    health = result["checks"][0]["result"]
    assert MARKER in health["body_excerpt"] and MARKER in health["msg"]
    assert result["checks"][1]["result"]["skipped"] is True
    assert_clean(result)
