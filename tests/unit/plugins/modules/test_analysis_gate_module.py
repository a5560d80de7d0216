"""analysis_gate against a Prometheus stand-in on 127.0.0.1: the verdicts, the failure message, check
mode, and the header that never shows."""

from __future__ import annotations

import json
import re
import time

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vextrus.deploy.plugins.modules import analysis_gate

TOKEN = "Bearer analysis-s3cr3t-token"


def run_main(args: dict, capsys, check_mode: bool = False) -> dict:
    with patch_module_args({**args, "_ansible_check_mode": check_mode}), pytest.raises(SystemExit):
        analysis_gate.main()
    return json.loads(capsys.readouterr().out)


def args(prometheus, **more) -> dict:
    return {"prometheus_url": prometheus.url, "prometheus_headers": {"Authorization": TOKEN},
            "namespace": "vx", "service": "finance-service", "count": 2, "interval": 0.01, **more}


def healthy_service(prometheus, canary_success=0.999, canary_p99=0.12):
    def answer(query):
        track = "canary" if 'track="canary"' in query else "stable"
        if query.startswith("ALERTS"):
            return 200, prometheus.vector()
        if query.startswith("histogram_quantile"):
            return 200, prometheus.vector(canary_p99 if track == "canary" else 0.1)
        return 200, prometheus.vector(canary_success if track == "canary" else 1.0)
    return answer


def test_a_healthy_canary_passes(fake_prometheus, capsys):
    fake_prometheus.answer = healthy_service(fake_prometheus)
    result = run_main(args(fake_prometheus), capsys)
    assert result.get("failed") is not True and (result["verdict"], result["changed"]) == ("PASS", False)
    assert [(c["name"], c["phase"], c["measured"]) for c in result["checks"]] == [
        ("success_rate", "successful", 2), ("latency_p99", "successful", 2), ("alerts", "successful", 2)]
    # two rounds of: success rate canary + stable, p99 canary + stable, alerts
    assert len(fake_prometheus.seen) == 10
    assert {seen["headers"]["Authorization"] for seen in fake_prometheus.seen} == {TOKEN}
    assert TOKEN not in json.dumps(result)


def test_a_canary_that_fails_one_request_in_ten_fails(fake_prometheus, capsys):
    fake_prometheus.answer = healthy_service(fake_prometheus, canary_success=0.9)
    result = run_main(args(fake_prometheus, count=6), capsys)
    assert (result["failed"], result["verdict"], result["stopped_early"]) == (True, "FAIL", True)
    assert result["msg"].startswith(
        "Analysis FAIL: check success_rate failed in 1 of 1 measurements (failure limit 0): 0.9 is not >= 0.99; "
        'query: sum(rate(http_requests_total{namespace="vx",service="finance-service",track="canary",status_code!~"5.."}[1m]))'
    )
    assert TOKEN not in json.dumps(result)


def test_a_slow_canary_fails_on_latency(fake_prometheus, capsys):
    fake_prometheus.answer = healthy_service(fake_prometheus, canary_p99=0.9)
    result = run_main(args(fake_prometheus), capsys)
    assert result["verdict"] == "FAIL"
    assert "check latency_p99 failed in 1 of 1 measurements (failure limit 0): 0.9s is not <= 0.5s" in result["msg"]


def test_no_traffic_is_an_error_by_default_and_can_pass(fake_prometheus, capsys):
    fake_prometheus.answer = lambda query: (200, fake_prometheus.vector() if query.startswith("ALERTS") else fake_prometheus.vector("NaN"))
    result = run_main(args(fake_prometheus, count=3), capsys)
    assert (result["failed"], result["verdict"]) == (True, "ERROR")
    assert "check success_rate is inconclusive (3 of 3 measurements, limit 2; inconclusive_policy error)" in result["msg"]
    passed = run_main(args(fake_prometheus, count=3, inconclusive_policy="pass"), capsys)
    assert passed["verdict"] == "PASS"
    assert passed["reason"].startswith("no check failed; inconclusive and passed by their policy: success_rate, latency_p99 (")
    assert [message.split(" (")[0] for message in passed["inconclusive_passed"]] == ["check success_rate is inconclusive", "check latency_p99 is inconclusive"]


def test_prometheus_down_is_an_error(capsys):
    result = run_main({"prometheus_url": "http://127.0.0.1:9", "namespace": "vx", "service": "finance-service",
                       "count": 5, "interval": 0.01, "request_timeout": 1}, capsys)
    assert (result["failed"], result["verdict"]) == (True, "ERROR")
    assert "could not be measured: http://127.0.0.1:9 did not answer" in result["msg"]


def test_check_mode_measures_once_without_waiting(fake_prometheus, capsys):
    fake_prometheus.answer = healthy_service(fake_prometheus)
    result = run_main(args(fake_prometheus, count=6, interval=30, initial_delay=60), capsys, check_mode=True)
    assert result["verdict"] == "PASS"
    assert {c["measured"] for c in result["checks"]} == {1}


def test_a_custom_check_and_no_baseline_at_100_percent(fake_prometheus, capsys):
    fake_prometheus.answer = lambda query: (200, fake_prometheus.vector(0.002))
    result = run_main(args(fake_prometheus, builtin_checks=[], baseline_track="", track="stable", labels={"track": "vextrus_io_track"},
                           checks=[{"name": "ledger_errors", "query": "sum(rate(ledger_errors_total{$selector}[$window]))",
                                    "op": "<=", "threshold": 0.01}]), capsys)
    assert result["verdict"] == "PASS"
    assert [seen["query"] for seen in fake_prometheus.seen] == [
        'sum(rate(ledger_errors_total{namespace="vx",service="finance-service",vextrus_io_track="stable"}[1m]))'] * 2


@pytest.mark.parametrize(
    ("more", "message"),
    [
        ({"checks": [{"name": "c", "query": "up{$nope}", "op": ">=", "threshold": 1}]}, r"The analysis cannot run: check 'c': its query names \$nope"),
        ({"prometheus_url": "prometheus:9090"}, "The analysis cannot run: prometheus_url must be an http:// or https:// URL"),
        ({"checks": [{"name": "c", "query": "up", "op": ">=", "threshold": 1, "max_factor": 2.0}]}, "set baseline: true"),
    ],
)
def test_settings_that_cannot_be_used_fail_before_any_query(fake_prometheus, capsys, more, message):
    result = run_main({**args(fake_prometheus), **more}, capsys)
    assert (result["failed"], result["verdict"]) == (True, "ERROR")
    assert re.search(message, result["msg"])
    assert fake_prometheus.seen == []


def _written(path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def test_the_load_runs_while_measuring_with_a_token_minted_from_the_secret(fake_prometheus, fake_vegeta, capsys, monkeypatch):
    minted = []

    def secret_token(spec):
        minted.append(spec)
        return "minted-jwt-0123456789", ["the-signing-key-of-the-secret"]

    monkeypatch.setattr(analysis_gate, "secret_token", secret_token)
    healthy = healthy_service(fake_prometheus)

    def answer(query):
        # the first query waits until the stand-in attack is ready for the SIGINT that ends it
        deadline = time.monotonic() + 10
        while not fake_vegeta.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return healthy(query)

    fake_prometheus.answer = answer
    # the stand-in waits for SIGINT, so the analysis (2 rounds) ends the attack
    result = run_main(args(fake_prometheus, load={"rate": 30, "warmup": 0, "targets": [{"url": "http://10.96.0.9:80/api/v1/accounts"}]},
                           bearer_token_secret={"namespace": "vx", "name": "finance-service-secrets", "key": "JWT_SECRET",
                                                "claims": {"sub": "load"}}), capsys)
    assert result["verdict"] == "PASS"
    assert result["load"]["requests"] == 40 and result["load"]["latency_ms"]["p99"] == 5.0
    attack = _written(fake_vegeta)
    assert '"Authorization":["Bearer minted-jwt-0123456789"]' in attack["targets"]
    assert "-rate=30/s" in attack["argv"]
    # valid for the whole analysis and a minute more, at least the 300 s default
    assert minted[0]["ttl"] >= 300
    assert "minted-jwt" not in json.dumps(result) and "the-signing-key" not in json.dumps(result)


def test_check_mode_sends_no_load(fake_prometheus, fake_vegeta, capsys):
    fake_prometheus.answer = healthy_service(fake_prometheus)
    result = run_main(args(fake_prometheus, load={"targets": [{"url": "http://10.96.0.9:80/health"}]}), capsys, check_mode=True)
    assert result["verdict"] == "PASS" and result["load"] == {}
    assert not fake_vegeta.exists()


def test_a_token_without_load_is_refused(fake_prometheus, capsys):
    result = run_main(args(fake_prometheus, bearer_token_secret={"namespace": "vx", "name": "s", "key": "K", "claims": {}}), capsys)
    assert result["failed"] and "bearer_token_secret" in result["msg"] and "load" in result["msg"]
    assert fake_prometheus.seen == []


def test_no_load_generator_is_an_error_before_any_query(fake_prometheus, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = run_main(args(fake_prometheus, load={"targets": [{"url": "http://10.96.0.9:80/health"}]}), capsys)
    assert (result["failed"], result["verdict"]) == (True, "ERROR")
    assert "The analysis cannot run: the load generator 'vegeta' was not found on PATH" in result["msg"]
    assert fake_prometheus.seen == []
