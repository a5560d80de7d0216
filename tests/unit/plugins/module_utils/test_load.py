"""The load generator's inputs, command, summary and process handling (vegeta is stood in for by a small
script here that behaves as vegeta does on SIGINT; the real binary runs in tests/integration/load)."""

from __future__ import annotations

import base64
import json
import stat
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.load import (
    LoadError,
    LoadRun,
    LoadSpec,
    Target,
    attack_command,
    load_spec,
    summarise,
    targets_text,
    warm_up,
)

TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret-token"


def _options(**extra: Any) -> dict[str, Any]:
    return {"rate": 10, "targets": [{"url": "http://10.96.0.20:3014/health"}], **extra}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rate": 10, "targets": []}, "load.targets is empty"),
        (_options(targets=[{"url": "10.96.0.20:3014/health"}]), "is not an http:// or https:// URL"),
        (_options(targets=[{"url": "http://x/health", "method": "FETCH"}]), "has method 'FETCH'"),
        (_options(targets=[{"url": "http://x/a b"}]), "contains white space"),
        (_options(rate=0), "load.rate must be at least 1"),
        (_options(headers={"Bad:Name": "v"}), "is not a valid header"),
        (_options(headers={"X-Ok": "two\nlines"}), "is not a valid header"),
        (_options(targets=[{"url": "http://x/", "headers": {"": "v"}}]), "is not a valid header"),
    ],
)
def test_load_spec_refuses_unusable_input(options: dict[str, Any], message: str) -> None:
    with pytest.raises(LoadError, match=message):
        load_spec(options, max_seconds=60)


def test_load_spec_normalises_methods_and_keeps_the_limit() -> None:
    spec = load_spec(_options(targets=[{"url": "http://x/api", "method": "post", "body": "{}"}], timeout=2), max_seconds=90)
    assert spec.targets == [Target(url="http://x/api", method="POST", headers={}, body="{}")]
    assert (spec.rate, spec.timeout, spec.max_seconds, spec.vegeta) == (10, 2.0, 90, "vegeta")


def test_targets_merge_the_common_headers_under_each_targets_own_and_encode_the_body() -> None:
    spec = LoadSpec(
        targets=[Target("http://x/api/v1/accounts", headers={"X-Trace": "own"}), Target("http://x/api", "POST", body='{"a":1}')],
        headers={"Authorization": f"Bearer {TOKEN}", "X-Trace": "common"},
    )
    lines = [json.loads(line) for line in targets_text(spec).splitlines()]
    assert lines[0] == {"method": "GET", "url": "http://x/api/v1/accounts",
                        "header": {"Authorization": [f"Bearer {TOKEN}"], "X-Trace": ["own"]}}
    assert lines[1]["method"] == "POST" and base64.b64decode(lines[1]["body"]) == b'{"a":1}'
    assert lines[1]["header"]["X-Trace"] == ["common"]


@pytest.mark.parametrize("keepalive", [False, True])
def test_the_attack_command_carries_no_header_value(keepalive: bool) -> None:
    spec = LoadSpec(targets=[Target("http://x/")], rate=25, headers={"Authorization": TOKEN}, timeout=1.5, max_seconds=75.4,
                    keepalive=keepalive)
    command = attack_command(spec, "/tmp/t.json", "/tmp/r.bin")
    assert command == ["vegeta", "attack", "-format=json", "-targets=/tmp/t.json", "-rate=25/s", "-duration=75s",
                       "-timeout=1.5s", f"-keepalive={'true' if keepalive else 'false'}", "-output=/tmp/r.bin"]
    assert not any(TOKEN in part for part in command)


def test_summarise_gives_milliseconds_and_counts_what_failed() -> None:
    report = {
        "latencies": {"50th": 3_100_000, "95th": 7_950_000, "99th": 12_400_000, "max": 30_200_000},
        "requests": 600, "rate": 20.0004, "success": 0.9, "status_codes": {"200": 540, "500": 58, "0": 2},
        "errors": ["500 Internal Server Error", "dial tcp: connection refused"] + ["x"] * 9,
    }
    summary = summarise(report)
    assert summary["latency_ms"] == {"p50": 3.1, "p95": 8.0, "p99": 12.4, "max": 30.2}
    assert (summary["requests"], summary["rate"], summary["success"], summary["failed"]) == (600, 20.0, 0.9, 60)
    assert summary["unanswered"] == 2 and summary["status_codes"] == {"200": 540, "500": 58, "0": 2}
    assert len(summary["errors"]) == 5


def _wait_for(path: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            return json.loads(path.read_text())
        time.sleep(0.02)
    raise AssertionError(f"{path} was not written")


def test_a_load_run_sends_while_the_block_runs_then_summarises_and_removes_its_files(fake_vegeta: Path) -> None:
    spec = LoadSpec(targets=[Target("http://x/health")], headers={"Authorization": TOKEN}, max_seconds=60)
    with LoadRun(spec) as load:
        seen = _wait_for(fake_vegeta)
        workdir = Path(seen["argv"][2].split("=", 1)[1]).parent
        assert workdir.is_dir() and stat.S_IMODE(workdir.stat().st_mode) == 0o700
    assert seen["mode"] == 0o600
    assert TOKEN in seen["targets"] and not any(TOKEN in arg for arg in seen["argv"])
    assert load.summary["requests"] == 40 and load.summary["latency_ms"]["p99"] == 5.0
    assert not workdir.exists()


def test_a_load_run_whose_attack_wrote_nothing_says_why(fake_vegeta: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_VEGETA_NO_RESULTS", "1")
    with LoadRun(LoadSpec(targets=[Target("http://x/")])) as load:
        _wait_for(fake_vegeta)
    assert load.summary == {"requests": 0, "errors": ["attack: connection refused"]}


def test_no_vegeta_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(LoadError, match="'vegeta' was not found on PATH; install vegeta"):
        with LoadRun(LoadSpec(targets=[Target("http://x/")])):
            pass


class _Flaky(BaseHTTPRequestHandler):
    """Answers 503 to the first ``failures`` requests, then 200; counts them and the Authorization it saw."""

    failures = 0
    seen: list[str] = []

    def do_GET(self) -> None:
        _Flaky.seen.append(self.headers.get("Authorization", ""))
        status = 503 if len(_Flaky.seen) <= _Flaky.failures else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def flaky_server() -> Iterator[str]:
    _Flaky.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health"
    server.shutdown()
    server.server_close()


def test_the_warm_up_waits_for_three_answers_in_a_row(flaky_server: str) -> None:
    _Flaky.failures = 2
    spec = LoadSpec(targets=[Target(flaky_server)], headers={"Authorization": TOKEN}, warmup=30)
    assert warm_up(spec, sleep=lambda _s: None) is True
    # two refused, then three answered; the common headers go with every request
    assert _Flaky.seen == [TOKEN] * 5


def test_the_warm_up_gives_up_after_its_time_and_says_so(flaky_server: str) -> None:
    _Flaky.failures = 1000
    now = [0.0]
    spec = LoadSpec(targets=[Target(flaky_server)], warmup=3)

    def sleep(seconds: float) -> None:
        now[0] += seconds

    assert warm_up(spec, clock=lambda: now[0], sleep=sleep) is False
    assert len(_Flaky.seen) == 4  # at 0, 1, 2 and 3 s


def test_no_warm_up_asks_nothing() -> None:
    assert warm_up(LoadSpec(targets=[Target("http://127.0.0.1:9/")], warmup=0)) is True
