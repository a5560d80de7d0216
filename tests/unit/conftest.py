"""Make the checkout importable as ansible_collections.vextrus.deploy for the unit tests; and a
Prometheus HTTP API stand-in for the analysis' tests (fixture fake_prometheus): a real HTTP server on
127.0.0.1 that answers /api/v1/query from a script (query -> answer) and records what it was sent; and a
vegeta stand-in for the load's tests (fixture fake_vegeta)."""

import json
import os
import stat
import sys
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".local" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "vextrus" / "deploy"

if not LINK.exists():
    LINK.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.relpath(ROOT, LINK.parent), LINK)

if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))


def vector(*values: float | str, **labels: str) -> dict[str, Any]:
    """A successful instant-vector answer with one series per value."""
    return {"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": dict(labels), "value": [1765000000.0, str(value)]} for value in values]}}


class FakePrometheus:
    vector = staticmethod(vector)

    def __init__(self) -> None:
        self.answer: Callable[[str], tuple[int, Any]] = lambda query: (200, vector())
        self.seen: list[dict[str, Any]] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = urllib.parse.parse_qs(self.rfile.read(length).decode())
                query = form.get("query", [""])[0]
                fake.seen.append({"path": self.path, "query": query, "headers": dict(self.headers)})
                status, body = fake.answer(query) if self.path == "/api/v1/query" else (404, "not found")
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def start(self) -> None:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def fake_prometheus():
    fake = FakePrometheus()
    fake.start()
    yield fake
    fake.stop()


# A stand-in with vegeta's interface: `attack` writes its argv and the targets it read, waits for SIGINT,
# then writes its results; `report` prints a report of the results file.
FAKE_VEGETA = r"""#!{python}
import json, os, signal, sys, time
log = os.environ["FAKE_VEGETA_LOG"]
args = sys.argv[1:]
if args[0] == "attack":
    opts = dict(a.lstrip("-").split("=", 1) for a in args[1:])
    stopped = []
    signal.signal(signal.SIGINT, lambda *a: stopped.append(1))  # before the log: a test waits for the log
    mode = os.stat(opts["targets"]).st_mode & 0o777
    with open(log + ".tmp", "w") as out:
        json.dump({{"argv": args, "targets": open(opts["targets"]).read(), "mode": mode}}, out)
    os.rename(log + ".tmp", log)
    deadline = time.time() + 30
    while not stopped and time.time() < deadline:
        time.sleep(0.02)
    if os.environ.get("FAKE_VEGETA_NO_RESULTS"):
        sys.stderr.write("attack: connection refused\n")
        sys.exit(1)
    open(opts["output"], "w").write("results")
elif args[0] == "report":
    assert open(args[-1]).read() == "results"
    print(json.dumps({{"requests": 40, "rate": 20, "success": 1, "status_codes": {{"200": 40}},
                      "latencies": {{"50th": 2000000, "95th": 4000000, "99th": 5000000, "max": 6000000}}}}))
"""


@pytest.fixture
def fake_vegeta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A vegeta stand-in first on PATH; returns the file where its attack writes its arguments, the targets
    it read and their file mode, once it is ready for SIGINT."""
    path = tmp_path / "bin" / "vegeta"
    path.parent.mkdir()
    path.write_text(FAKE_VEGETA.format(python=sys.executable))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{path.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_VEGETA_LOG", str(tmp_path / "vegeta.json"))
    return tmp_path / "vegeta.json"
