"""The smoke checks run in order through one connection: results per check as the health gate gave
them, skipped after a failure, the token only where asked for and masked everywhere."""

from __future__ import annotations

import json

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.health_probe import Response
from ansible_collections.vextrus.deploy.plugins.module_utils.redact import MARKER
from ansible_collections.vextrus.deploy.plugins.module_utils.smoke_checks import (
    ProbeBudget,
    SmokeCheck,
    parse_checks,
    run_smoke_checks,
    unreached,
)

TOKEN = "eyJhbGciOiJIUzI1NiJ9.smoke-token.signature"
SECRET = "jwt-signing-key-0123456789abcdef"
HEALTH = SmokeCheck("health", "http://svc/health", json_match={"status": "ok"})
READY = SmokeCheck("readiness", "http://svc/health/ready")
AUTH = SmokeCheck("authenticated API call", "http://svc/api", authenticated=True)
ANON = SmokeCheck("API call without a token gets 401", "http://svc/api", expected_status=(401,), successes=1)
CHECKS = (HEALTH, READY, AUTH, ANON)
CHECKS_PATHS = [(check, "/" + check.url.split("/", 3)[3]) for check in CHECKS]
BUDGET = ProbeBudget(successes=2, interval=0.5, timeout=3, request_timeout=1, secrets=(SECRET,))


class FakeService:
    """Answers like the example service: /health, /health/ready, /api with and without a token;
    ``down`` lists the paths that answer 503. Records every request."""

    def __init__(self, down: tuple[str, ...] = (), leak: bool = False) -> None:
        self.down = down
        self.leak = leak
        self.requests: list[tuple[str, str | None]] = []

    def __call__(self, url: str, timeout: float, headers: dict, validate_certs: bool) -> Response:
        path = "/" + url.split("/", 3)[3]
        auth = headers.get("Authorization")
        self.requests.append((url, auth))
        if path in self.down:
            body = f"down; key {SECRET}, token {TOKEN}" if self.leak else "down"
            return Response(503, body, 1.0)
        if path == "/api":
            return Response(200, "[]", 2.0) if auth == f"Bearer {TOKEN}" else Response(401, "unauthorized", 1.0)
        return Response(200, json.dumps({"status": "ok"}), 1.0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def run(service: FakeService, checks=CHECKS, **kwargs) -> dict:
    clock = Clock()
    return run_smoke_checks(checks, BUDGET, bearer_token=TOKEN, fetcher=service, clock=clock, sleep=clock.sleep, **kwargs)


def outcome(result: dict) -> list[str]:
    return [
        "skipped" if c["result"].get("skipped") else ("pass" if c["result"].get("passed") else "FAIL") for c in result["checks"]
    ]


@pytest.mark.parametrize(
    ("down", "expected", "msg"),
    [
        ((), ["pass", "pass", "pass", "pass"], "all 4 smoke checks passed"),
        (("/health",), ["FAIL", "skipped", "skipped", "skipped"], "smoke check 'health' failed"),
        (("/health/ready",), ["pass", "FAIL", "skipped", "skipped"], "smoke check 'readiness' failed"),
        (("/api",), ["pass", "pass", "FAIL", "skipped"], "smoke check 'authenticated API call' failed"),
    ],
    ids=["all-pass", "health-down", "readiness-down", "api-down"],
)
def test_checks_run_in_order_and_stop_at_the_first_failure(down, expected, msg):
    result = run(FakeService(down))
    assert outcome(result) == expected
    assert result["passed"] is (expected == ["pass"] * 4)
    assert result["msg"].startswith(msg)
    for check, state in zip(result["checks"], expected):
        if state == "skipped":
            assert check["result"] == {"changed": False, "skipped": True, "skip_reason": "an earlier smoke check failed"}
        else:
            assert check["result"]["failed"] is (state == "FAIL") and check["result"]["changed"] is False
            assert check["result"]["msg"] and "message" not in check["result"]


class SlowService(FakeService):
    """FakeService whose paths answer 503 until the clock reaches ``up_at[path]``; records when each
    request was made."""

    def __init__(self, clock: Clock, up_at: dict[str, float]) -> None:
        super().__init__()
        self.clock = clock
        self.up_at = up_at
        self.times: list[tuple[float, str]] = []

    def __call__(self, url: str, timeout: float, headers: dict, validate_certs: bool) -> Response:
        path = "/" + url.split("/", 3)[3]
        self.times.append((self.clock.now, path))
        self.down = tuple(p for p, at in self.up_at.items() if self.clock.now < at)
        return super().__call__(url, timeout, headers, validate_certs)


def run_slow(up_at: dict[str, float]) -> tuple[dict, SlowService, Clock]:
    clock = Clock()
    service = SlowService(clock, up_at)
    result = run_smoke_checks(CHECKS, BUDGET, bearer_token=TOKEN, fetcher=service, clock=clock, sleep=clock.sleep)
    return result, service, clock


def test_the_checks_share_their_rounds():
    """Every check needs 2 answers in a row at 0.5 s: together they take one interval, not one per check."""
    result, service, clock = run_slow({})
    assert result["passed"] is True
    assert clock.now == pytest.approx(BUDGET.interval * (BUDGET.successes - 1))
    # each round asks the checks in order; the 401 check needs one answer
    assert [path for _at, path in service.times] == ["/health", "/health/ready", "/api", "/api", "/health", "/health/ready", "/api"]


@pytest.mark.parametrize("slow", ["/health", "/health/ready"])
def test_no_check_is_asked_while_one_before_it_fails(slow):
    result, service, _clock = run_slow({slow: 1.2})
    assert result["passed"] is True
    order = [path for _check, path in CHECKS_PATHS]
    for at, path in service.times:
        earlier = order[: order.index(path)]
        # every request to a later check comes after the slow check's first success
        if slow in earlier:
            assert at >= 1.2, (at, path)


def test_a_later_check_has_its_whole_budget_after_the_earlier_ones_passed():
    """Health comes up at 2 s and passes at 2.5 s of its 3 s budget; readiness comes up at 4.5 s, past
    any budget counted from the start, and passes, as it would after health one after the other (its
    3 s count from health's pass)."""
    result = run_slow({"/health": 2.0, "/health/ready": 4.5})[0]
    assert outcome(result) == ["pass", "pass", "pass", "pass"], result["msg"]


def test_a_check_failing_past_its_budget_fails_and_the_later_ones_are_skipped():
    result, service, clock = run_slow({"/health/ready": 60})
    assert outcome(result) == ["pass", "FAIL", "skipped", "skipped"]
    # readiness's budget counts from health's pass (0.5 s)
    assert clock.now == pytest.approx(BUDGET.interval + BUDGET.timeout)
    assert "/api" not in {path for _at, path in service.times}


def test_a_check_result_holds_what_the_report_reads():
    result = run(FakeService())
    health = result["checks"][0]["result"]
    assert health["passed"] is True and health["elapsed"] >= 0
    (url,) = health["urls"]
    assert (url["url"], url["attempts"], url["consecutive_successes"], url["last_status"]) == ("http://svc/health", 2, 2, 200)
    assert set(url["latency_ms"]) == {"p50", "p95", "max"}
    anonymous = result["checks"][3]["result"]
    assert anonymous["urls"][0]["attempts"] == 1 and anonymous["urls"][0]["last_status"] == 401


def test_a_failed_check_quotes_the_last_answer():
    health = run(FakeService(("/health",)))["checks"][0]["result"]
    assert health["failed_url"] == "http://svc/health" and health["last_status"] == 503
    assert health["body_excerpt"] == "down"
    assert "reached 0 of 2 consecutive successes within 3 s" in health["msg"]


def test_the_token_goes_only_to_the_authenticated_checks():
    service = FakeService()
    run(service)
    sent = {}
    for url, auth in service.requests:
        sent.setdefault(url, set()).add(auth)
    assert sent["http://svc/health"] == {None} and sent["http://svc/health/ready"] == {None}
    # the API path: with the token for the authenticated check, without for the 401 check
    assert sent["http://svc/api"] == {f"Bearer {TOKEN}", None}


@pytest.mark.parametrize("down", [("/health",), ("/api",)], ids=["unauthenticated-check", "authenticated-check"])
def test_the_token_and_the_secrets_are_masked_in_every_result(down):
    result = run(FakeService(down, leak=True))
    text = json.dumps(result)
    assert TOKEN not in text and SECRET not in text
    failed = next(c["result"] for c in result["checks"] if c["result"].get("failed"))
    assert MARKER in failed["body_excerpt"] and MARKER in failed["msg"] and MARKER in result["msg"]


def test_urls_are_rewritten_and_extra_added_to_the_checks_that_ran():
    forward = {"pod": "svc-abc", "remote_port": 3000, "local_port": 40000}
    service = FakeService(("/health/ready",))
    result = run(service, url_for=lambda url: url.replace("http://svc", "http://127.0.0.1:40000"), extra={"port_forward": forward})
    assert {request[0] for request in service.requests} == {"http://127.0.0.1:40000/health", "http://127.0.0.1:40000/health/ready"}
    assert [c["result"].get("port_forward") for c in result["checks"]] == [forward, forward, None, None]


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ([HEALTH], ["FAIL"]),
        ([HEALTH, READY, AUTH], ["FAIL", "skipped", "skipped"]),
    ],
)
def test_unreached_fails_the_first_check_and_skips_the_others(checks, expected):
    result = unreached(checks, f"no Ready pod to forward to; key {SECRET}", [SECRET])
    assert outcome(result) == expected and result["passed"] is False
    first = result["checks"][0]["result"]
    assert first["failed"] is True and first["msg"] == f"no Ready pod to forward to; key {MARKER}"
    assert result["msg"] == f"smoke check 'health' failed: no Ready pod to forward to; key {MARKER}"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ([{"name": "health", "url": "http://svc/health"}], [SmokeCheck("health", "http://svc/health")]),
        (
            [{"name": "a", "url": "http://svc/api", "expected_status": [401], "successes": 1, "authenticated": False,
              "json_match": None}],
            [SmokeCheck("a", "http://svc/api", expected_status=(401,), successes=1)],
        ),
        ([{"name": "h", "url": "http://svc/h", "json_match": {"status": "ok"}, "authenticated": True}],
         [SmokeCheck("h", "http://svc/h", json_match={"status": "ok"}, authenticated=True)]),
    ],
)
def test_parse_checks(raw, expected):
    assert parse_checks(raw) == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "no smoke check to run"),
        ([{"name": "health"}], "needs a name and a url"),
        ([{"url": "http://svc/health"}], "needs a name and a url"),
        ([{"name": "a", "url": "http://svc/a"}, {"name": "a", "url": "http://svc/b"}], "must be unique"),
    ],
)
def test_parse_checks_errors(raw, message):
    with pytest.raises(ValueError, match=message):
        parse_checks(raw)
