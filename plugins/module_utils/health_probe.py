# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTP health probing: consecutive-success tracking, latency percentiles, JSON path matching.

Only the standard library is used, so this runs wherever the module runs. Proxy environment
variables are not used: a health check talks to the service (or a local port-forward) directly.
"""

from __future__ import annotations

import functools
import json
import math
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ansible_collections.vextrus.deploy.plugins.module_utils.redact import redact, redact_value

BODY_EXCERPT = 300
_MISSING = object()


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile (p50 of [1, 2, 3, 4] is 2); None for no values."""
    if not values:
        return None
    if not 0 < pct <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {pct}")
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def json_path_get(document: Any, path: str) -> Any:
    """Return the value at a dotted path (list indices as numbers), or the module's _MISSING marker."""
    current = document
    for part in path.split("."):
        if isinstance(current, Mapping) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            return _MISSING
    return current


def _same(actual: Any, expected: Any) -> bool:
    if type(actual) is type(expected):
        return actual == expected
    if isinstance(actual, bool) or isinstance(expected, bool):
        return str(actual).lower() == str(expected).lower()
    return str(actual) == str(expected)


def json_mismatches(document: Any, expected: Mapping[str, Any] | None) -> list[str]:
    """Describe every dotted path whose value differs from the expected one (empty list: all match)."""
    problems = []
    for path, want in (expected or {}).items():
        got = json_path_get(document, path)
        if got is _MISSING:
            problems.append(f"{path} is missing (expected {want!r})")
        elif not _same(got, want):
            problems.append(f"{path} is {got!r} (expected {want!r})")
    return problems


def check_response(
    status: int | None, body: str, expected_status: Sequence[int], json_match: Mapping[str, Any] | None
) -> tuple[bool, str]:
    """Return (ok, detail) for one response."""
    if status is None:
        return False, "no response"
    if status not in expected_status:
        return False, f"status {status}, expected {', '.join(str(s) for s in expected_status)}"
    if json_match:
        try:
            document = json.loads(body)
        except ValueError:
            return False, "body is not JSON, but json_match needs it"
        problems = json_mismatches(document, json_match)
        if problems:
            return False, "; ".join(problems)
    return True, f"status {status}"


@dataclass
class UrlProbe:
    """Results for one URL; ``streak`` counts consecutive successes and resets on any failure."""

    url: str
    attempts: int = 0
    successes: int = 0
    streak: int = 0
    last_status: int | None = None
    last_detail: str = ""
    last_body: str = ""
    latencies_ms: list[float] = field(default_factory=list)

    def record(self, ok: bool, status: int | None, latency_ms: float | None, detail: str, body: str = "") -> None:
        self.attempts += 1
        self.last_status = status
        self.last_detail = detail
        self.last_body = body[:BODY_EXCERPT]
        if latency_ms is not None:
            self.latencies_ms.append(latency_ms)
        if ok:
            self.successes += 1
            self.streak += 1
        else:
            self.streak = 0

    def passed(self, needed: int) -> bool:
        return self.streak >= needed

    def summary(self, needed: int) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 2)

        return {
            "url": self.url,
            "attempts": self.attempts,
            "successes": self.successes,
            "consecutive_successes": self.streak,
            "passed": self.passed(needed),
            "last_status": self.last_status,
            "last_detail": self.last_detail,
            "latency_ms": {
                "p50": rounded(percentile(self.latencies_ms, 50)),
                "p95": rounded(percentile(self.latencies_ms, 95)),
                "max": rounded(max(self.latencies_ms) if self.latencies_ms else None),
            },
        }


@dataclass
class Response:
    status: int | None
    body: str
    latency_ms: float | None
    error: str = ""


@functools.lru_cache(maxsize=None)
def _opener(https: bool, validate_certs: bool) -> urllib.request.OpenerDirector:
    """A URL opener without proxies; for https one TLS context (loading the CA store takes tens of
    milliseconds), made once per process and setting."""
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if https:
        context = ssl.create_default_context()
        if not validate_certs:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        handlers.append(urllib.request.HTTPSHandler(context=context))
    return urllib.request.build_opener(*handlers)


def fetch(url: str, timeout: float, headers: Mapping[str, str] | None = None, validate_certs: bool = True) -> Response:
    """GET ``url``; HTTP error statuses are responses, connection problems set ``error``."""
    https = urlsplit(url).scheme.lower() == "https"
    opener = _opener(https, validate_certs if https else True)
    request = urllib.request.Request(url, headers=dict(headers or {}), method="GET")
    start = time.monotonic()
    try:
        with opener.open(request, timeout=timeout) as reply:
            body = reply.read(64 * 1024).decode("utf-8", "replace")
            return Response(reply.status, body, (time.monotonic() - start) * 1000)
    except urllib.error.HTTPError as exc:
        body = exc.read(64 * 1024).decode("utf-8", "replace") if exc.fp else ""
        return Response(exc.code, body, (time.monotonic() - start) * 1000)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Response(None, "", None, f"{type(exc).__name__}: {reason}")


def rewrite_url(url: str, host: str, port: int) -> str:
    """Point ``url`` at host:port, keeping scheme, path and query."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme or "http", f"{host}:{port}", parts.path, parts.query, parts.fragment))


class ProbeRun:
    """Probes of a set of URLs with the same expectations, one round at a time: a round asks every
    URL that has not yet answered ``successes`` times in a row once. The time budget counts from
    ``start_budget()``; until then a round's requests get the full ``request_timeout``. The bearer
    token and ``secrets`` are masked in every body, detail and message kept."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        expected_status: Sequence[int] = (200,),
        json_match: Mapping[str, Any] | None = None,
        successes: int = 3,
        timeout: float = 60.0,
        request_timeout: float = 5.0,
        bearer_token: str | None = None,
        validate_certs: bool = True,
        secrets: Sequence[str] = (),
        fetcher: Callable[..., Response] = fetch,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if successes < 1:
            raise ValueError(f"successes must be at least 1, got {successes}")
        self.expected_status = list(expected_status)
        self.json_match = json_match
        self.successes = successes
        self.timeout = timeout
        self.request_timeout = request_timeout
        self.validate_certs = validate_certs
        self.fetcher = fetcher
        self.clock = clock
        self.headers = {"Accept": "application/json, */*", "User-Agent": "vextrus.deploy.health_gate"}
        if bearer_token:
            self.headers["Authorization"] = f"Bearer {bearer_token}"
        self.hidden = [bearer_token, *secrets]
        self.probes = [UrlProbe(url) for url in urls]
        self.first_probe: float | None = None
        self.passed_at: float | None = None
        self.deadline: float | None = None

    def start_budget(self) -> None:
        """Start the time budget now (once)."""
        if self.deadline is None:
            self.deadline = self.clock() + self.timeout

    def remaining(self) -> float:
        """Seconds left of the budget (the whole budget while it has not started)."""
        return self.timeout if self.deadline is None else self.deadline - self.clock()

    def passed(self) -> bool:
        return all(p.passed(self.successes) for p in self.probes)

    def answering(self) -> bool:
        """Whether every URL's latest answer was a success."""
        return all(p.streak > 0 for p in self.probes)

    def probe_round(self) -> None:
        """Ask every URL that has not passed yet once, within what is left of the budget."""
        if self.first_probe is None:
            self.first_probe = self.clock()
        for probe in self.probes:
            if probe.passed(self.successes):
                continue
            remaining = self.remaining()
            if remaining <= 0:
                break
            allowed = min(self.request_timeout, remaining)
            reply = self.fetcher(probe.url, allowed, self.headers, self.validate_certs)
            body = redact(reply.body, self.hidden)
            if reply.error and allowed < self.request_timeout and self.remaining() <= 0:
                break  # cut short by the budget, not an answer of the service: keep the last real result
            if reply.error:
                probe.record(False, None, reply.latency_ms, redact(reply.error, self.hidden), body)
            else:
                ok, detail = check_response(reply.status, reply.body, self.expected_status, self.json_match)
                probe.record(ok, reply.status, reply.latency_ms, redact(detail, self.hidden), body)
        if self.passed_at is None and self.passed():
            self.passed_at = self.clock()

    def result(self) -> dict[str, Any]:
        """``passed``, ``elapsed`` (from the first round to passing, or to now), ``urls`` and ``message``; ``failed_url``,
        ``last_status`` and ``body_excerpt`` of the first URL that did not pass."""
        successes = self.successes
        failing = [p for p in self.probes if not p.passed(successes)]
        end = self.clock() if self.passed_at is None else self.passed_at
        first = end if self.first_probe is None else self.first_probe
        result: dict[str, Any] = {
            "passed": not failing,
            "elapsed": round(end - first, 3),
            "urls": [p.summary(successes) for p in self.probes],
        }
        if failing:
            worst = failing[0]
            result["failed_url"] = worst.url
            result["last_status"] = worst.last_status
            result["body_excerpt"] = worst.last_body
            result["message"] = (
                f"health gate failed: {worst.url} reached {worst.streak} of {successes} consecutive successes "
                f"within {self.timeout:g} s ({worst.attempts} attempts); last result: {worst.last_detail or 'none'}"
                + (f"; body: {worst.last_body[:200]!r}" if worst.last_body else "")
            )
        else:
            result["message"] = f"all {len(self.probes)} URLs answered {successes} times in a row"
        return redact_value(result, self.hidden)


def run_probes(
    urls: Sequence[str],
    *,
    interval: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    **options: Any,
) -> dict[str, Any]:
    """Probe every URL until each has ``successes`` consecutive successes or the budget runs out,
    ``interval`` seconds between rounds; ``options`` are ``ProbeRun``'s. The bearer token and
    ``secrets`` are masked in every body, detail and message returned."""
    run = ProbeRun(urls, **options)
    run.start_budget()
    while True:
        run.probe_round()
        if run.passed():
            break
        remaining = run.remaining()
        if remaining <= 0:
            break
        sleep(min(interval, remaining))
    return run.result()
