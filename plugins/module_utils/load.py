# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Load where there is no real traffic: vegeta sends a constant rate of requests while the analysis
measures, and its own figures (requests, status codes, latency) go into the result.

Request headers (an ``Authorization`` with the smoke test's token) are written to vegeta's targets file
only: owner-only, in a private temporary directory removed afterwards, never on a command line (which
every user of the machine can read) and never in the summary.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
# vegeta's report latencies are nanoseconds; the summary gives milliseconds
_NS_PER_MS = 1_000_000
# how long vegeta may take to flush its results after SIGINT, and to write its report
_STOP_SECONDS = 30


class LoadError(ValueError):
    """The load cannot be generated; the message says why and what to do."""


@dataclass(frozen=True)
class Target:
    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""


@dataclass(frozen=True)
class LoadSpec:
    """``rate`` requests a second spread over ``targets`` in turn; ``headers`` go with every request;
    ``max_seconds`` ends the attack even if nobody stops it (a worker killed mid-analysis).
    ``keepalive`` reuses connections as browsers and service clients do (each then sticks to the pod it
    reached); without it every request opens its own, so the Service spreads them over every ready pod."""

    targets: Sequence[Target]
    rate: int = 20
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 5.0
    max_seconds: float = 600.0
    vegeta: str = "vegeta"
    keepalive: bool = False
    warmup: float = 0.0


def load_spec(options: Mapping[str, Any], *, max_seconds: float) -> LoadSpec:
    """A checked ``LoadSpec`` from the module's ``load`` option."""
    targets = [
        Target(
            url=str(t.get("url") or ""),
            method=str(t.get("method") or "GET").upper(),
            headers={str(k): str(v) for k, v in (t.get("headers") or {}).items()},
            body=str(t.get("body") or ""),
        )
        for t in options.get("targets") or []
    ]
    if not targets:
        raise LoadError("load.targets is empty; give at least one URL to send requests to, e.g. http://<ClusterIP>:<port>/health")
    for target in targets:
        if not target.url.startswith(("http://", "https://")):
            raise LoadError(f"load target {target.url!r} is not an http:// or https:// URL")
        if target.method not in METHODS:
            raise LoadError(f"load target {target.url} has method {target.method!r}; expected one of {', '.join(METHODS)}")
        if any(ch in target.url for ch in " \n\r"):
            raise LoadError(f"load target {target.url!r} contains white space")
    headers = {str(k): str(v) for k, v in (options.get("headers") or {}).items()}
    for name, value in [*headers.items(), *(item for t in targets for item in t.headers.items())]:
        if not name or ":" in name or any(ch in name + value for ch in "\n\r"):
            raise LoadError(f"load header {name!r} is not a valid header (a name without ':' and values on one line)")
    rate = int(options.get("rate") or 0)
    if rate < 1:
        raise LoadError(f"load.rate must be at least 1 request a second, got {rate}")
    timeout = float(options.get("timeout") or 5.0)
    return LoadSpec(targets=targets, rate=rate, headers=headers, timeout=timeout, max_seconds=max_seconds,
                    vegeta=str(options.get("vegeta") or "vegeta"), warmup=float(options.get("warmup") or 0.0))


def _answers(target: Target, headers: Mapping[str, str], timeout: float) -> bool:
    """Whether one request to target is answered 2xx or 3xx (no proxy from the environment)."""
    request = urllib.request.Request(target.url, method=target.method, headers={**headers, **target.headers},
                                     data=target.body.encode() if target.body else None)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
    try:
        with opener.open(request, timeout=timeout) as answer:
            return 200 <= answer.status < 400
    except urllib.error.HTTPError as exc:
        return 300 <= exc.code < 400
    except (OSError, ValueError):
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def warm_up(spec: LoadSpec, *, in_a_row: int = 3, clock: Callable[[], float] = time.monotonic,
            sleep: Callable[[float], None] = time.sleep) -> bool:
    """Asks each target once a second until every one answered 2xx/3xx ``in_a_row`` times running, at most
    ``spec.warmup`` seconds; whether they did."""
    if spec.warmup <= 0:
        return True
    deadline = clock() + spec.warmup
    streak = {target.url: 0 for target in spec.targets}
    while True:
        for target in spec.targets:
            if streak[target.url] < in_a_row:
                streak[target.url] = streak[target.url] + 1 if _answers(target, spec.headers, min(spec.timeout, 2.0)) else 0
        if all(count >= in_a_row for count in streak.values()):
            return True
        if clock() >= deadline:
            return False
        sleep(1.0)


def targets_text(spec: LoadSpec) -> str:
    """vegeta's JSON targets format, one request per line: method, URL, headers (the common ones, then
    the target's own) and the body in base64."""
    lines = []
    for target in spec.targets:
        lines.append(json.dumps({
            "method": target.method,
            "url": target.url,
            "header": {name: [value] for name, value in {**spec.headers, **target.headers}.items()},
            **({"body": base64.b64encode(target.body.encode()).decode()} if target.body else {}),
        }, separators=(",", ":")))
    return "\n".join(lines) + "\n"


def attack_command(spec: LoadSpec, targets_file: str, results_file: str) -> list[str]:
    """The vegeta attack: JSON targets, a constant rate, at most ``max_seconds``; no secret in it."""
    return [
        spec.vegeta, "attack", "-format=json", f"-targets={targets_file}", f"-rate={spec.rate}/s",
        f"-duration={max(1, int(spec.max_seconds))}s", f"-timeout={spec.timeout:g}s", f"-keepalive={str(spec.keepalive).lower()}",
        f"-output={results_file}",
    ]


def summarise(report: Mapping[str, Any]) -> dict[str, Any]:
    """The figures of ``vegeta report -type=json``: requests, the rate sent, the share answered 2xx/3xx,
    status codes, the requests that got no answer at all (vegeta's code 0: refused, reset, timed out),
    latency percentiles in milliseconds and the distinct errors (at most five)."""
    latencies = report.get("latencies") or {}

    def ms(key: str) -> float:
        return round(float(latencies.get(key) or 0) / _NS_PER_MS, 1)

    codes = {str(code): int(count) for code, count in (report.get("status_codes") or {}).items()}
    return {
        "requests": int(report.get("requests") or 0),
        "rate": round(float(report.get("rate") or 0), 1),
        "success": round(float(report.get("success") or 0), 4),
        "status_codes": codes,
        "failed": sum(count for code, count in codes.items() if not code.startswith(("2", "3"))),
        "unanswered": codes.get("0", 0),
        "latency_ms": {"p50": ms("50th"), "p95": ms("95th"), "p99": ms("99th"), "max": ms("max")},
        "errors": list(report.get("errors") or [])[:5],
    }


class LoadRun:
    """``with LoadRun(spec) as load: ...`` sends the load while the block runs; ``load.summary`` holds
    vegeta's figures afterwards. The attack is stopped with SIGINT (vegeta then writes what it sent)."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.summary: dict[str, Any] = {}
        self.warmed_up = False
        self._dir = ""
        self._vegeta = ""  # the binary, as found on PATH when the load starts
        self._process: subprocess.Popen | None = None

    def __enter__(self) -> LoadRun:
        self._vegeta = shutil.which(self.spec.vegeta) or ""
        if not self._vegeta:
            raise LoadError(f"the load generator {self.spec.vegeta!r} was not found on PATH; install vegeta "
                            "(the local cluster builds it into .local/bin) or set load.vegeta to its path")
        self.warmed_up = warm_up(self.spec)
        self._dir = tempfile.mkdtemp(prefix="vextrus-load-")
        targets = os.path.join(self._dir, "targets.json")
        fd = os.open(targets, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(targets_text(self.spec))
        command = attack_command(replace(self.spec, vegeta=self._vegeta), targets, self._results)
        try:
            self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                             stderr=subprocess.PIPE)
        except OSError as exc:
            self._cleanup()
            raise LoadError(f"the load generator could not start: {exc}") from exc
        return self

    @property
    def _results(self) -> str:
        return os.path.join(self._dir, "results.bin")

    def __exit__(self, *exc: Any) -> None:
        try:
            self.summary = self._stop()
            if not self.warmed_up:
                self.summary["errors"] = [f"the targets did not answer 2xx/3xx three times running within {self.spec.warmup:g} s "
                                          "before the load; it started anyway", *self.summary.get("errors", [])]
        finally:
            self._cleanup()

    def _stop(self) -> dict[str, Any]:
        process = self._process
        if process is None:
            return {}
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        try:
            _out, err = process.communicate(timeout=_STOP_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            _out, err = process.communicate()
        if not os.path.exists(self._results) or not os.path.getsize(self._results):
            return {"requests": 0, "errors": [(err or b"").decode(errors="replace").strip()[-300:] or "vegeta wrote no results"]}
        report = subprocess.run([self._vegeta, "report", "-type=json", self._results], capture_output=True,
                                timeout=_STOP_SECONDS, check=False)
        if report.returncode != 0:
            return {"requests": 0, "errors": [report.stderr.decode(errors="replace").strip()[-300:]]}
        return summarise(json.loads(report.stdout))

    def _cleanup(self) -> None:
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = ""
