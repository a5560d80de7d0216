# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transient Kubernetes API errors retried with backoff inside a time budget, and the outages seen.

- ``transient``: whether an error is worth another attempt: connection refused or reset, a broken
  stream, a timeout, HTTP 429 and 5xx (not 501). Refusals (400, 401, 403, 404, 409, 410, 422),
  TLS and name resolution errors are final;
- ``retry_after`` and ``retry_delay`` (pure): the server's Retry-After, and the wait before the next
  attempt (exponential backoff, or Retry-After) or None when the budget does not allow one;
- ``Retrier`` (I/O): calls with those waits until the deadline; an error that outlasts the budget
  ends in ``RetriesExhausted``; each outage that ended (or outlasted the budget) is kept in an
  ``OutageLog`` as when it started, how long it lasted and the first error;
- ``merge_outages`` (pure): the outages several threads saw, overlapping ones made one;
- ``transient_result`` (pure): the same question for a task's result (kubernetes.core's k8s and
  k8s_info report an error only as text and status), for Ansible's ``until`` (filter
  ``vextrus.deploy.api_transient``).
"""

from __future__ import annotations

import re
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

T = TypeVar("T")

# seconds a read retries when the caller has no deadline of its own (the gate has: its timeout)
DEFAULT_BUDGET = 30.0
BASE_DELAY = 0.5
# at most this long between attempts: an outage's end is seen within it
MAX_DELAY = 2.0

_FINAL_STATUSES = frozenset({501})
# urllib3's and the standard library's names for a connection that failed or broke (checked by
# class name, so that the stand-ins used without the kubernetes library classify the same way)
_TRANSIENT_NAMES = frozenset(
    {
        "NewConnectionError",
        "ConnectTimeoutError",
        "ReadTimeoutError",
        "ProtocolError",
        "IncompleteRead",
        "RemoteDisconnected",
        "ClosedPoolError",
        "EmptyPoolError",
    }
)
_FINAL_NAMES = frozenset({"NameResolutionError", "SSLError", "LocationParseError", "LocationValueError"})


def status_of(error: BaseException) -> int | None:
    """The HTTP status of an API error (kubernetes' ApiException and its dynamic client's), else None."""
    status = getattr(error, "status", None)
    return status if isinstance(status, int) else None


def _causes(error: BaseException, context: bool = False) -> Iterable[BaseException]:
    """The error, what it wraps (urllib3's MaxRetryError.reason) and its causes, outermost first; with
    ``context`` also the error each was raised while handling (urllib3 raises its SSLError so)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        current = reason if isinstance(reason, BaseException) else (
            current.__cause__ or (current.__context__ if context else None))


def transient(error: BaseException) -> bool:
    """Whether another attempt may succeed: the API server was unreachable, dropped the connection,
    timed out, was overloaded (429) or failed (5xx other than 501)."""
    for cause in _causes(error):
        status = status_of(cause)
        if status is not None:
            return status == 429 or (500 <= status <= 599 and status not in _FINAL_STATUSES)
        name = type(cause).__name__
        if name in _FINAL_NAMES or isinstance(cause, ssl.SSLError):
            return False
        if name in _TRANSIENT_NAMES or isinstance(cause, (ConnectionError, TimeoutError)):
            return True
    return False


def retry_after(error: BaseException) -> float | None:
    """The seconds a 429 or 503 response asked to wait (its Retry-After header), else None."""
    headers = getattr(error, "headers", None)
    if not isinstance(headers, Mapping):
        return None
    value = next((v for k, v in headers.items() if str(k).lower() == "retry-after"), None)
    try:
        seconds = float(value) if value is not None else None
    except (TypeError, ValueError):  # an HTTP date: Kubernetes sends seconds, fall back to the backoff
        return None
    return max(0.0, seconds) if seconds is not None else None


def retry_delay(
    attempt: int,
    remaining: float,
    after: float | None = None,
    base: float = BASE_DELAY,
    cap: float = MAX_DELAY,
) -> float | None:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` failed, counted from 1), or None
    when no attempt fits in the ``remaining`` seconds of the budget. The server's Retry-After
    (``after``) wins over the backoff ``base * 2**(attempt - 1)`` (at most ``cap``); a Retry-After
    beyond the budget ends the retries at once, a backoff is shortened to what is left."""
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, got {attempt}")
    if remaining <= 0:
        return None
    if after is not None:
        return after if after < remaining else None
    return min(cap, base * 2 ** (attempt - 1), remaining)


def describe(error: BaseException) -> str:
    """A short name for the error: ``503 Service Unavailable`` or ``MaxRetryError (NewConnectionError)``."""
    status = status_of(error)
    if status is not None:
        return f"{status} {getattr(error, 'reason', '') or ''}".rstrip()
    names = [type(cause).__name__ for cause in _causes(error)]
    return names[0] + (f" ({names[-1]})" if len(names) > 1 else "")


def detail(error: BaseException) -> str:
    """What the innermost operating-system or TLS error under a transport error says, for a message:
    ``[Errno 111] Connection refused``, ``[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed:
    ...``; empty when there is none (an HTTP error, a bare urllib3 error)."""
    said = [str(cause) for cause in _causes(error, context=True) if isinstance(cause, OSError) and str(cause)]
    return said[-1] if said else ""


@dataclass(frozen=True)
class Outage:
    """A time the API could not be used: ``started`` (epoch seconds), ``seconds`` until an attempt
    succeeded (or the budget ran out: ``ended`` False), and the first error."""

    started: float
    seconds: float
    error: str
    ended: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "started": datetime.fromtimestamp(self.started, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seconds": round(self.seconds, 1),
            "error": self.error,
            "ended": self.ended,
        }


def merge_outages(outages: Iterable[Outage]) -> list[Outage]:
    """The outages in time order, those that overlap (several watches saw one restart) made one;
    the merged outage keeps the first error and has ended only when every part has."""
    merged: list[Outage] = []
    for outage in sorted(outages, key=lambda o: o.started):
        last = merged[-1] if merged else None
        if last is not None and outage.started <= last.started + last.seconds:
            end = max(last.started + last.seconds, outage.started + outage.seconds)
            merged[-1] = Outage(last.started, end - last.started, last.error, last.ended and outage.ended)
        else:
            merged.append(outage)
    return merged


class OutageLog:
    """The outages of one module run, from any thread: those that ended, and those still going on
    (an attempt failed, none has succeeded yet), keyed by the Retrier that sees them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._clock = clock
        self._outages: list[Outage] = []
        self._open: dict[int, tuple[float, float, str]] = {}  # wall and clock time of the first error, the error

    def begin(self, key: int, started: float, error: str) -> None:
        """An outage seen by ``key`` starts (``started`` on the wall clock), unless one is going on."""
        with self._lock:
            self._open.setdefault(key, (started, self._clock(), error))

    def end(self, key: int, ended: bool = True) -> float:
        """The outage ``key`` sees is over (``ended`` False: given up on); its seconds, 0 if none."""
        with self._lock:
            opened = self._open.pop(key, None)
            if opened is None:
                return 0.0
            started, since, error = opened
            seconds = self._clock() - since
            self._outages.append(Outage(started, seconds, error, ended))
            return seconds

    def merged(self) -> list[Outage]:
        """Every outage so far, those going on counted until now (``ended`` False), overlaps merged."""
        with self._lock:
            now = self._clock()
            current = [Outage(started, now - since, error, False) for started, since, error in self._open.values()]
            return merge_outages([*self._outages, *current])

    def as_result(self) -> list[dict[str, Any]]:
        return [outage.as_dict() for outage in self.merged()]


class RetriesExhausted(Exception):
    """A transient error lasted beyond the budget; ``error`` is the last one."""

    def __init__(self, error: BaseException, attempts: int, seconds: float) -> None:
        super().__init__(f"{describe(error)}, still failing after {attempts} attempts in {seconds:.0f} s")
        self.error = error
        self.attempts = attempts
        self.seconds = seconds


def outage_warnings(outages: list[dict[str, Any]]) -> list[str]:
    """One warning per outage of ``OutageLog.as_result()``: the reads and writes that rode one out say so."""
    return [f"the Kubernetes API did not answer for {outage['seconds']:.0f} s from {outage['started']} ({outage['error']}); "
            "the requests were tried again" for outage in outages]


class Retrier:
    """Attempts against one ``deadline`` (on ``clock``), their outages kept in ``log``; one per
    thread (it counts the attempts of the outage in progress)."""

    def __init__(
        self,
        deadline: float,
        log: OutageLog | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = time.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.deadline = deadline
        self.log = log if log is not None else OutageLog(clock)
        self._clock, self._sleep, self._wall = clock, sleep, wall
        self._attempts = 0

    @classmethod
    def for_budget(cls, seconds: float = DEFAULT_BUDGET, log: OutageLog | None = None) -> Retrier:
        return cls(time.monotonic() + seconds, log)

    def failed(self, error: BaseException) -> None:
        """Count a transient failure and wait before the next attempt; RetriesExhausted when none fits."""
        self._attempts += 1
        self.log.begin(id(self), self._wall(), describe(error))
        delay = retry_delay(self._attempts, self.deadline - self._clock(), retry_after(error))
        if delay is None:
            attempts, self._attempts = self._attempts, 0
            raise RetriesExhausted(error, attempts, self.log.end(id(self), ended=False)) from error
        self._sleep(delay)

    def succeeded(self) -> None:
        """An attempt succeeded: the outage in progress, if any, ends now."""
        self._attempts = 0
        self.log.end(id(self))

    def call(self, function: Callable[[], T]) -> T:
        """``function()``, again after each transient error while the budget lasts; other errors pass."""
        while True:
            try:
                result = function()
            except Exception as error:
                if not transient(error):
                    raise
                self.failed(error)
                continue
            self.succeeded()
            return result


# kubernetes.core words a failed request as "Failed to <verb> object: <body or urllib3 error>"; the
# body of an API error is a Status object with its code
_RESULT_FINAL = re.compile(r"SSLError|CERTIFICATE_VERIFY_FAILED|NameResolutionError|Name or service not known", re.IGNORECASE)
_RESULT_TRANSIENT = re.compile(
    r"Connection refused|Connection reset|Connection aborted|RemoteDisconnected|Max retries exceeded|"
    r"timed out|ProtocolError|IncompleteRead|Response ended prematurely|"
    r"\"code\":\s*(429|50[02-9]|5[1-9]\d)\b|"
    r"\"reason\":\s*\"(ServiceUnavailable|TooManyRequests|InternalError|Timeout|ServerTimeout)\"|"
    r"^\((429|50[02-9])\)$",
    re.IGNORECASE | re.MULTILINE,
)
_TRACEBACK_UNAVAILABLE = "(traceback unavailable)"
_TRANSIENT_REASONS = frozenset({"Service Unavailable", "Too Many Requests", "Internal Server Error", "Bad Gateway", "Gateway Timeout"})


def transient_result(result: Mapping[str, Any]) -> bool:
    """Whether a task's result (kubernetes.core.k8s, k8s_info, or any module's) shows a transient API
    error: HTTP 429 or 5xx (not 501) in its ``status``, ``reason`` or message, or a connection that
    was refused, reset or timed out, or a module that crashed without a visible message (see below).
    A result without an error, a refusal (4xx), a TLS or name resolution error is not: another
    attempt would end the same."""
    if not isinstance(result, Mapping):
        raise TypeError(f"expected a task's result (a mapping), got {type(result).__name__}")
    status = result.get("status")
    if isinstance(status, int) and not isinstance(status, bool):
        if status == 429 or (500 <= status <= 599 and status not in _FINAL_STATUSES):
            return True
    if isinstance(result.get("reason"), str) and result["reason"] in _TRANSIENT_REASONS:
        return True
    message = " ".join(str(result.get(key) or "") for key in ("msg", "error")).strip()
    if not message and result.get("failed") and result.get("exception"):
        # A module that crashed: ansible-core 2.19 moves its message into the error summary, which
        # ``until`` sees only as the traceback, or as a placeholder unless tracebacks are shown.
        # kubernetes.core's modules crash this way when their client cannot reach the API server
        # (discovery's error escapes them): without a traceback that counts as transient (the
        # retries are bounded); with one, its unindented lines (the errors, not urllib3's source
        # lines, which name SSLError whatever happened) are read like a message.
        lines = [line for line in str(result["exception"]).splitlines() if line.strip() and not line[0].isspace()]
        if lines == [_TRACEBACK_UNAVAILABLE]:
            return True
        message = "\n".join(lines)
    return not _RESULT_FINAL.search(message) and bool(_RESULT_TRANSIENT.search(message))
