"""Make the checkout importable as ansible_collections.vextrus.deploy for the unit tests; and a
Prometheus HTTP API stand-in for the analysis' tests (fixture fake_prometheus): a real HTTP server on
127.0.0.1 that answers /api/v1/query from a script (query -> answer) and records what it was sent."""

import json
import os
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
