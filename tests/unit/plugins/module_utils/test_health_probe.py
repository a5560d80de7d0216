import json
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.health_probe import (
    UrlProbe,
    check_response,
    fetch,
    json_mismatches,
    percentile,
    rewrite_url,
    run_probes,
)

TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret-token.sig"


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([], 50, None),
        ([7.0], 50, 7.0),
        ([7.0], 95, 7.0),
        ([1, 2, 3, 4], 50, 2),
        ([4, 3, 2, 1], 50, 2),
        ([1, 2, 3, 4, 5], 50, 3),
        (list(range(1, 101)), 95, 95),
        (list(range(1, 21)), 95, 19),
        ([1, 2, 3], 100, 3),
        ([10, 1000], 95, 1000),
    ],
)
def test_percentile(values, pct, expected):
    assert percentile(values, pct) == expected


@pytest.mark.parametrize("pct", [0, -1, 101])
def test_percentile_range(pct):
    with pytest.raises(ValueError):
        percentile([1.0], pct)


DOC = {"status": "ok", "info": {"database": {"status": "up"}}, "checks": [{"status": "pass"}], "uptime": 12, "ready": True}


@pytest.mark.parametrize(
    ("expected", "problems"),
    [
        ({"status": "ok"}, []),
        ({"info.database.status": "up", "checks.0.status": "pass"}, []),
        ({"checks.-1.status": "pass"}, []),
        ({"uptime": "12"}, []),  # extra-vars give strings
        ({"ready": "true"}, []),
        ({"ready": True}, []),
        ({"status": "error"}, ["status is 'ok' (expected 'error')"]),
        ({"info.cache.status": "up"}, ["info.cache.status is missing (expected 'up')"]),
        ({"checks.3.status": "pass"}, ["checks.3.status is missing (expected 'pass')"]),
        ({"status.deeper": "x"}, ["status.deeper is missing (expected 'x')"]),
        ({"ready": False}, ["ready is True (expected False)"]),
        ({}, []),
        (None, []),
    ],
)
def test_json_mismatches(expected, problems):
    assert json_mismatches(DOC, expected) == problems


@pytest.mark.parametrize(
    ("status", "body", "expected_status", "match", "ok", "detail"),
    [
        (200, "", [200], None, True, "status 200"),
        (204, "", [200, 204], None, True, "status 204"),
        (503, "", [200], None, False, "status 503, expected 200"),
        (None, "", [200], None, False, "no response"),
        (200, '{"status": "ok"}', [200], {"status": "ok"}, True, "status 200"),
        (200, '{"status": "down"}', [200], {"status": "ok"}, False, "status is 'down' (expected 'ok')"),
        (200, "<html>", [200], {"status": "ok"}, False, "body is not JSON, but json_match needs it"),
    ],
)
def test_check_response(status, body, expected_status, match, ok, detail):
    assert check_response(status, body, expected_status, match) == (ok, detail)


def test_consecutive_success_tracking():
    probe = UrlProbe("http://x/health")
    for ok in (True, True, False, True, True):
        probe.record(ok, 200 if ok else 503, 5.0, "")
    assert (probe.attempts, probe.successes, probe.streak) == (5, 4, 2)
    assert not probe.passed(3)
    probe.record(True, 200, 9.0, "")
    assert probe.passed(3)
    summary = probe.summary(3)
    assert summary["latency_ms"] == {"p50": 5.0, "p95": 9.0, "max": 9.0}
    assert summary["passed"] is True


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://finance-service/health", "http://127.0.0.1:4711/health"),
        ("http://finance-service:80/api/v1/x?y=1", "http://127.0.0.1:4711/api/v1/x?y=1"),
        ("https://finance.example/health", "https://127.0.0.1:4711/health"),
    ],
)
def test_rewrite_url(url, expected):
    assert rewrite_url(url, "127.0.0.1", 4711) == expected


class _Handler(BaseHTTPRequestHandler):
    script: dict[str, list[tuple[int, str]]] = {}
    seen_auth: list[str | None] = []

    def do_GET(self):
        self.seen_auth.append(self.headers.get("Authorization"))
        steps = self.script.setdefault(self.path, [(200, '{"status": "ok"}')])
        status, body = steps.pop(0) if len(steps) > 1 else steps[0]
        payload = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def _serve(scheme, context=None):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    if context is not None:
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"{scheme}://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def server():
    _Handler.script = {}
    _Handler.seen_auth = []
    yield from _serve("http")


def test_fetch_real_server(server):
    _Handler.script["/health"] = [(200, '{"status": "ok"}')]
    reply = fetch(server + "/health", 2.0)
    assert reply.status == 200 and json.loads(reply.body) == {"status": "ok"} and reply.latency_ms > 0
    _Handler.script["/down"] = [(503, '{"status": "error"}')]
    assert fetch(server + "/down", 2.0).status == 503


@pytest.fixture
def tls_server(server, tmp_path):
    """A server with the same script behind TLS, with a self-signed certificate no CA store trusts."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    yield from _serve("https", context)


def test_fetch_https_verifies_unless_told_not_to(tls_server):
    _Handler.script["/health"] = [(200, '{"status": "ok"}')] * 3
    # in either order: the process keeps one TLS context per setting, never one for both
    assert "CERTIFICATE_VERIFY_FAILED" in fetch(tls_server + "/health", 2.0).error
    assert fetch(tls_server + "/health", 2.0, validate_certs=False).status == 200
    assert "CERTIFICATE_VERIFY_FAILED" in fetch(tls_server + "/health", 2.0, validate_certs=True).error
    assert fetch(tls_server + "/health", 2.0, validate_certs=False).status == 200


def test_fetch_connection_refused():
    reply = fetch("http://127.0.0.1:9/health", 1.0)
    assert reply.status is None and "refused" in reply.error.lower()


def test_run_probes_needs_consecutive_successes(server):
    _Handler.script["/health"] = [(200, '{"status":"ok"}'), (503, '{"status":"error"}'), (200, '{"status":"ok"}')]
    result = run_probes([server + "/health"], successes=3, interval=0.01, timeout=5, bearer_token=TOKEN)
    assert result["passed"] is True
    entry = result["urls"][0]
    assert (entry["attempts"], entry["successes"], entry["consecutive_successes"]) == (5, 4, 3)
    assert entry["latency_ms"]["p50"] > 0 and entry["latency_ms"]["max"] >= entry["latency_ms"]["p95"]
    assert set(_Handler.seen_auth) == {f"Bearer {TOKEN}"}
    assert TOKEN not in json.dumps(result)


def stepping_clock(step: float):
    """A clock that advances ``step`` seconds per reading: the budget is counted in probe rounds, not in the
    wall time a loaded machine takes to answer (the requests still go to the real server)."""
    now = [0.0]

    def clock() -> float:
        now[0] += step
        return now[0]

    return clock


def no_sleep(seconds: float) -> None:
    assert seconds > 0


def test_run_probes_json_match(server):
    _Handler.script["/health"] = [(200, '{"status":"ok","info":{"db":{"status":"down"}}}')]
    result = run_probes(
        [server + "/health"], json_match={"info.db.status": "up"}, successes=2, interval=1, timeout=100, clock=stepping_clock(10), sleep=no_sleep
    )
    assert result["passed"] is False
    assert "info.db.status is 'down' (expected 'up')" in result["message"]
    assert result["last_status"] == 200


def test_run_probes_failure_masks_the_token(server):
    _Handler.script["/health"] = [(500, f'{{"error": "bad token {TOKEN}"}}')]
    result = run_probes(
        [server + "/health"], successes=1, interval=1, timeout=100, bearer_token=TOKEN, clock=stepping_clock(10), sleep=no_sleep
    )
    assert result["passed"] is False
    assert result["failed_url"] == server + "/health"
    assert result["last_status"] == 500
    assert "status 500, expected 200" in result["message"]
    assert "bad token ********" in result["body_excerpt"]
    assert TOKEN not in json.dumps(result)
    assert result["urls"][0]["attempts"] >= 2


def test_run_probes_multiple_urls_and_budget(server):
    result = run_probes([server + "/a", server + "/b"], successes=2, interval=0.01, timeout=5)
    assert result["passed"] is True and [u["attempts"] for u in result["urls"]] == [2, 2]
    result = run_probes(["http://127.0.0.1:9/health"], successes=1, interval=0.1, timeout=0.35)
    assert result["passed"] is False and result["last_status"] is None
    assert 0.3 <= result["elapsed"] < 2


def test_run_probes_with_fake_clock():
    now = [0.0]
    replies = iter([503, 200, 200, 503, 200, 200, 200])

    def fetcher(url, timeout, headers, validate):
        from ansible_collections.vextrus.deploy.plugins.module_utils.health_probe import Response

        return Response(next(replies), "", 10.0)

    def sleep(seconds):
        now[0] += seconds

    result = run_probes(["http://x/h"], successes=3, interval=1, timeout=100, fetcher=fetcher, clock=lambda: now[0], sleep=sleep)
    assert result["passed"] and result["urls"][0]["attempts"] == 7 and result["elapsed"] == 6.0


def test_run_probes_rejects_zero_successes():
    with pytest.raises(ValueError, match="successes must be at least 1"):
        run_probes(["http://x"], successes=0)


def test_run_probes_masks_the_given_secrets(server):
    secret_url = "postgresql://finance:Pg5ecretPassw0rd@postgres:5432/finance"
    _Handler.script["/health"] = [(503, '{"error": "postgres://finance:Pg5ecretPassw0rd@10.0.0.5 refused"}')]
    result = run_probes(
        [server + "/health"], successes=1, interval=1, timeout=100, secrets=[secret_url], clock=stepping_clock(10), sleep=no_sleep
    )
    assert result["passed"] is False
    assert "postgres://finance:********@10.0.0.5 refused" in result["body_excerpt"]
    assert "Pg5ecretPassw0rd" not in json.dumps(result)
