"""Transient API errors: which they are, how long to wait, the retries inside a budget, the outages."""

from __future__ import annotations

import ssl

import pytest
from kubernetes.client.exceptions import ApiException
from kubernetes.dynamic.exceptions import api_exception
from urllib3.exceptions import (
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)

from ansible_collections.vextrus.deploy.plugins.module_utils.api_retry import (
    Outage,
    OutageLog,
    Retrier,
    RetriesExhausted,
    describe,
    detail,
    merge_outages,
    outage_warnings,
    retry_after,
    retry_delay,
    transient,
)


class _Response:
    """What ApiException reads from urllib3's response."""

    def __init__(self, status: int, reason: str, headers: dict[str, str] | None = None) -> None:
        self.status, self.reason, self.data, self.headers = status, reason, b"{}", headers or {}


def api_error(status: int, reason: str = "", headers: dict[str, str] | None = None) -> ApiException:
    return ApiException(http_resp=_Response(status, reason, headers))


def refused() -> MaxRetryError:
    return MaxRetryError(None, "/apis/apps/v1", NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused"))


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (api_error(500, "Internal Server Error"), True),
        (api_error(502, "Bad Gateway"), True),
        (api_error(503, "Service Unavailable"), True),
        (api_error(504, "Gateway Timeout"), True),
        (api_error(429, "Too Many Requests", {"Retry-After": "1"}), True),
        (api_error(501, "Not Implemented"), False),
        (api_error(400, "Bad Request"), False),
        (api_error(401, "Unauthorized"), False),
        (api_error(403, "Forbidden"), False),
        (api_error(404, "Not Found"), False),
        (api_error(409, "Conflict"), False),
        (api_error(410, "Gone"), False),  # not retried as is: the watch lists again
        (api_error(422, "Unprocessable Entity"), False),
        (refused(), True),
        (NewConnectionError(None, "refused"), True),
        (ProtocolError("Connection aborted.", ConnectionResetError(104, "Connection reset by peer")), True),
        (ProtocolError("Response ended prematurely"), True),
        (ReadTimeoutError(None, "/api", "Read timed out."), True),
        (MaxRetryError(None, "/api", ProtocolError("Connection aborted.")), True),
        (ConnectionRefusedError(111, "Connection refused"), True),
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (BrokenPipeError(32, "Broken pipe"), True),
        (TimeoutError("timed out"), True),
        (MaxRetryError(None, "/api", SSLError("certificate verify failed")), False),
        (ssl.SSLCertVerificationError("certificate verify failed"), False),
        (MaxRetryError(None, "/api", NameResolutionError("api.example", None, "no such host")), False),
        (FileNotFoundError(2, "No such file"), False),
        (ValueError("bad"), False),
        (KeyError("items"), False),
    ],
    ids=lambda value: value if isinstance(value, bool) else describe(value),
)
def test_which_errors_are_transient(error, expected):
    assert transient(error) is expected


@pytest.mark.parametrize(("status", "expected"), [(503, True), (429, True), (500, True), (403, False), (404, False), (422, False)])
def test_the_dynamic_clients_errors_classify_alike(status, expected):
    try:
        raise api_error(status, "x")
    except ApiException as raw:
        assert transient(api_exception(raw)) is expected


def test_an_error_wrapped_by_another_classifies_as_its_cause():
    outer = RuntimeError("cannot reach the Kubernetes API")
    outer.__cause__ = refused()
    assert transient(outer) is True
    final = RuntimeError("cannot read Deployment")
    final.__cause__ = api_error(403, "Forbidden")
    assert transient(final) is False


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "1"}, 1.0),
        ({"Retry-After": "0.5"}, 0.5),
        ({"Retry-After": "-2"}, 0.0),
        ({"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_from_the_response(headers, expected):
    assert retry_after(api_error(429, "Too Many Requests", headers)) == expected


def test_an_error_without_a_response_has_no_retry_after():
    assert retry_after(refused()) is None and retry_after(ApiException(status=503)) is None


@pytest.mark.parametrize(
    ("attempt", "remaining", "after", "expected"),
    [
        (1, 30.0, None, 0.5),
        (2, 30.0, None, 1.0),
        (3, 30.0, None, 2.0),
        (4, 30.0, None, 2.0),  # capped
        (12, 30.0, None, 2.0),
        (3, 1.5, None, 1.5),  # shortened to what the budget has left
        (1, 30.0, 3.0, 3.0),  # the server's Retry-After wins over the backoff
        (6, 30.0, 0.0, 0.0),
        (1, 2.0, 3.0, None),  # a Retry-After beyond the budget: no attempt fits
        (1, 0.0, None, None),
        (3, -1.0, None, None),
    ],
)
def test_the_delay_before_the_next_attempt(attempt, remaining, after, expected):
    assert retry_delay(attempt, remaining, after) == expected


def test_attempts_count_from_one():
    with pytest.raises(ValueError, match="attempt counts from 1, got 0"):
        retry_delay(0, 10.0)


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (api_error(503, "Service Unavailable"), "503 Service Unavailable"),
        (ApiException(status=500), "500"),
        (refused(), "MaxRetryError (NewConnectionError)"),
        (ConnectionResetError(104, "reset"), "ConnectionResetError"),
    ],
)
def test_describe(error, expected):
    assert describe(error) == expected


class FakeTime:
    """A monotonic clock and a wall clock that move only when the code sleeps or a call takes time."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_700_000_000.0 + self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class Script:
    """A call that raises the scripted errors in turn (each taking ``cost`` seconds), then returns."""

    def __init__(self, time: FakeTime, errors: list[BaseException], cost: float = 0.0) -> None:
        self.time, self.errors, self.cost, self.calls = time, list(errors), cost, 0

    def __call__(self) -> str:
        self.calls += 1
        self.time.now += self.cost
        if self.errors:
            raise self.errors.pop(0)
        return "listing"


def _retrier(time: FakeTime, budget: float = 30.0) -> Retrier:
    return Retrier(time.now + budget, OutageLog(time.clock), clock=time.clock, sleep=time.sleep, wall=time.wall)


def test_transient_errors_are_retried_with_backoff_and_the_outage_is_kept():
    time = FakeTime()
    retrier = _retrier(time)
    call = Script(time, [refused(), refused(), api_error(503, "Service Unavailable")])
    assert retrier.call(call) == "listing"
    assert call.calls == 4 and time.sleeps == [0.5, 1.0, 2.0]
    (outage,) = retrier.log.merged()
    assert outage == Outage(1_700_000_100.0, 3.5, "MaxRetryError (NewConnectionError)", True)
    assert outage.as_dict() == {"started": "2023-11-14T22:15:00Z", "seconds": 3.5,
                                "error": "MaxRetryError (NewConnectionError)", "ended": True}


def test_a_429_waits_as_long_as_the_server_asks():
    time = FakeTime()
    retrier = _retrier(time)
    assert retrier.call(Script(time, [api_error(429, "Too Many Requests", {"Retry-After": "3"})])) == "listing"
    assert time.sleeps == [3.0]


@pytest.mark.parametrize("status", [400, 403, 404, 409, 410, 422])
def test_a_refusal_is_raised_at_once(status):
    time = FakeTime()
    retrier = _retrier(time)
    call = Script(time, [api_error(status, "refused")])
    with pytest.raises(ApiException) as raised:
        retrier.call(call)
    assert raised.value.status == status
    assert call.calls == 1 and time.sleeps == [] and retrier.log.merged() == []


def test_an_outage_longer_than_the_budget_ends_the_retries_at_the_deadline():
    time = FakeTime()
    retrier = _retrier(time, budget=10.0)
    call = Script(time, [refused()] * 20)
    with pytest.raises(RetriesExhausted) as raised:
        retrier.call(call)
    assert time.now == 110.0  # the deadline, not later
    assert time.sleeps == [0.5, 1.0, 2.0, 2.0, 2.0, 2.0, 0.5]
    assert (raised.value.attempts, raised.value.seconds) == (8, 10.0)
    assert str(raised.value) == "MaxRetryError (NewConnectionError), still failing after 8 attempts in 10 s"
    assert isinstance(raised.value.error, MaxRetryError) and raised.value.__cause__ is raised.value.error
    assert retrier.log.merged() == [Outage(1_700_000_100.0, 10.0, "MaxRetryError (NewConnectionError)", False)]


def test_a_retry_after_beyond_the_budget_ends_the_retries_at_once():
    time = FakeTime()
    retrier = _retrier(time, budget=5.0)
    with pytest.raises(RetriesExhausted, match="429 Too Many Requests, still failing after 1 attempts in 0 s"):
        retrier.call(Script(time, [api_error(429, "Too Many Requests", {"Retry-After": "60"})]))
    assert time.sleeps == []


def test_each_outage_of_one_retrier_is_kept_apart():
    time = FakeTime()
    retrier = _retrier(time, budget=100.0)
    retrier.call(Script(time, [refused()]))
    time.now += 20.0
    retrier.call(Script(time, [api_error(503, "Service Unavailable")] * 2, cost=1.0))
    assert [(o.started - 1_700_000_000.0, o.seconds, o.error) for o in retrier.log.merged()] == [
        (100.0, 0.5, "MaxRetryError (NewConnectionError)"),
        (121.5, 3.5, "503 Service Unavailable"),
    ]


def test_an_outage_going_on_is_listed_until_now():
    time = FakeTime()
    log = OutageLog(time.clock)
    log.begin(1, 1_700_000_100.0, "503 Service Unavailable")
    time.now += 4.0
    assert log.merged() == [Outage(1_700_000_100.0, 4.0, "503 Service Unavailable", False)]
    assert log.end(1) == 4.0 and log.end(1) == 0.0
    assert log.as_result() == [{"started": "2023-11-14T22:15:00Z", "seconds": 4.0, "error": "503 Service Unavailable", "ended": True}]


@pytest.mark.parametrize(
    ("outages", "expected"),
    [
        ([], []),
        # six watches see one restart: one outage from the first error to the last recovery
        (
            [Outage(10.0, 5.0, "ProtocolError"), Outage(11.0, 6.0, "MaxRetryError"), Outage(10.5, 1.0, "ProtocolError")],
            [Outage(10.0, 7.0, "ProtocolError")],
        ),
        # two restarts apart
        ([Outage(50.0, 2.0, "b"), Outage(10.0, 2.0, "a")], [Outage(10.0, 2.0, "a"), Outage(50.0, 2.0, "b")]),
        # touching intervals are one; a part still going on keeps the whole open
        ([Outage(10.0, 2.0, "a"), Outage(12.0, 3.0, "b", False)], [Outage(10.0, 5.0, "a", False)]),
    ],
)
def test_overlapping_outages_are_merged(outages, expected):
    assert merge_outages(outages) == expected


def _over(error: BaseException, cause: BaseException) -> BaseException:
    error.__context__ = cause
    return error


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (MaxRetryError(None, "/version", _over(NewConnectionError(None, "Failed to establish a new connection"),
                                               ConnectionRefusedError(111, "Connection refused"))),
         "[Errno 111] Connection refused"),
        (MaxRetryError(None, "/version", _over(SSLError("certificate verify failed"),
                                               ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"))),
         "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
        (refused(), ""),
        (ApiException(status=503, reason="Service Unavailable"), ""),
    ],
)
def test_detail_is_what_the_system_said_innermost(error, said):
    assert detail(error) == said


def test_each_outage_ridden_out_is_one_warning():
    outages = [{"started": "2026-12-04T18:23:47Z", "seconds": 9.6, "error": "MaxRetryError (ConnectionRefusedError)", "ended": True}]
    assert outage_warnings(outages) == [
        "the Kubernetes API did not answer for 10 s from 2026-12-04T18:23:47Z (MaxRetryError (ConnectionRefusedError)); "
        "the requests were tried again"]
    assert outage_warnings([]) == []
