"""Requests through a transition: constant load (vegeta, the collection's LoadRun) through the Service's
ClusterIP while one playbook of the chain runs, and what the load saw. Shared by bench/zero_downtime/zero.py
and the integration test that runs a shorter sequence (tests/integration/chain/test_zero_downtime.py).

The load reuses its connections (keep-alive), as the service's real clients do: a connection stays with
the pod it reached, so a pod that stops must close its connections cleanly for no request to be lost.
The requests are an authenticated API call and /health, the token signed with the service's Secret as the
smoke test's.
"""

from __future__ import annotations

import importlib
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client

ROOT = Path(__file__).resolve().parents[2]
# the collection as `make venv` links it (.local/collections/ansible_collections/vextrus/deploy)
if str(ROOT / ".local" / "collections") not in sys.path:
    sys.path.insert(0, str(ROOT / ".local" / "collections"))
_UTILS = "ansible_collections.vextrus.deploy.plugins.module_utils"
token_from_data = importlib.import_module(f"{_UTILS}.bearer_token").token_from_data
_load = importlib.import_module(f"{_UTILS}.load")
LoadRun, LoadSpec, Target = _load.LoadRun, _load.LoadSpec, _load.Target

SERVICE = "finance-service"
PATHS = ("/api/v1/accounts", "/health")
# a reader's claims, as the smoke test's (roles/smoke_test/defaults/main.yml)
CLAIMS = {"sub": "vextrus-zero-downtime", "roles": ["reader"]}


@dataclass
class Transition:
    """One playbook run under load: the verdict of its report and what the load saw meanwhile."""

    name: str
    verdict: str
    seconds: float
    requests: int
    non_2xx: int
    unanswered: int
    p50_ms: float
    p99_ms: float
    min_ready: int = -1
    status_codes: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def load_spec(api: client.ApiClient, namespace: str, rate: int, vegeta: str, service: str = SERVICE) -> Any:
    """The load through the Service's ClusterIP at its port, signed in with the service's Secret."""
    core = client.CoreV1Api(api)
    svc = core.read_namespaced_service(service, namespace)
    port = svc.spec.ports[0].port
    secret = core.read_namespaced_secret(f"{service}-secrets", namespace)
    token, _values = token_from_data(secret.data, "JWT_SECRET", CLAIMS, 3600, f"{namespace}/{service}-secrets")
    return LoadSpec(
        targets=[Target(f"http://{svc.spec.cluster_ip}:{port}{path}") for path in PATHS],
        rate=rate, headers={"Authorization": f"Bearer {token}"}, timeout=5.0, max_seconds=900, vegeta=vegeta,
        keepalive=True,
    )


class ReadyWatch:
    """``with ReadyWatch(api, namespace) as watch:`` counts the service's ready pods (both tracks; a pod being
    deleted no longer counts: it has left the Service's endpoints) every half second; ``watch.low`` is the
    fewest seen."""

    def __init__(self, api: client.ApiClient, namespace: str, service: str = SERVICE) -> None:
        self._core = client.CoreV1Api(api)
        self._namespace, self._selector = namespace, f"app.kubernetes.io/name={service}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self.low = -1

    def ready(self) -> int:
        pods = self._core.list_namespaced_pod(self._namespace, label_selector=self._selector).items
        return sum(1 for pod in pods if pod.metadata.deletion_timestamp is None
                   and any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or [])))

    def _watch(self) -> None:
        while not self._stop.is_set():
            count = self.ready()
            self.low = count if self.low < 0 else min(self.low, count)
            self._stop.wait(0.5)

    def __enter__(self) -> ReadyWatch:
        self.low = self.ready()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


def under_load(name: str, spec: LoadSpec, action: Callable[[], tuple[dict[str, Any] | None, float]],
               watch: ReadyWatch | None = None) -> Transition:
    """Runs action (a playbook: its report and wall seconds) while the load is sent; the figures, with the
    fewest ready pods watch saw meanwhile."""
    with LoadRun(spec) as load:
        if watch is None:
            report, seconds = action()
        else:
            with watch:
                report, seconds = action()
    figures = load.summary
    latency = figures.get("latency_ms") or {}
    return Transition(
        name=name, verdict=(report or {}).get("verdict") or "no report", seconds=round(seconds, 1),
        requests=int(figures.get("requests") or 0), non_2xx=int(figures.get("failed") or 0),
        unanswered=int(figures.get("unanswered") or 0), p50_ms=float(latency.get("p50") or 0),
        p99_ms=float(latency.get("p99") or 0), min_ready=watch.low if watch else -1, status_codes=dict(figures.get("status_codes") or {}),
        errors=list(figures.get("errors") or []),
    )


def table(rows: list[Transition]) -> str:
    """The rows as a Markdown table."""
    width = max(len(r.name) for r in rows)
    lines = [f"| {'transition'.ljust(width)} | verdict | seconds | requests | non-2xx | no answer | p50 ms | p99 ms "
             f"| fewest ready pods | errors",
             f"| {'-' * width} | ------- | ------- | -------- | ------- | --------- | ------ | ------ | ----------------- | ------"]
    for r in rows:
        lines.append(f"| {r.name.ljust(width)} | {r.verdict.ljust(7)} | {r.seconds:7.1f} | {r.requests:8d} | {r.non_2xx:7d} "
                     f"| {r.unanswered:9d} | {r.p50_ms:6.1f} | {r.p99_ms:6.1f} | {r.min_ready:17d} | {'; '.join(r.errors)[:120]}")
    return "\n".join(lines)

