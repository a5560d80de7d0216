# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small client of Prometheus' HTTP API: instant queries, their samples, and what went wrong.

Only ``/api/v1/query`` is used (POST, form-encoded, as Grafana and promtool send long queries).
A query's answer is a list of :class:`Sample` (an instant vector's series, a scalar as one sample
without labels). What cannot be asked (no connection, TLS refused, HTTP 5xx, an answer that is
not Prometheus') raises :class:`PrometheusUnavailable`; what Prometheus refuses (bad PromQL,
HTTP 400/422) raises :class:`QueryRefused`. Header values (an ``Authorization`` header) never
appear in an error message.
"""

from __future__ import annotations

import json
import math
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


class PrometheusError(Exception):
    """A query got no usable answer."""


class PrometheusUnavailable(PrometheusError):
    """Prometheus could not be asked, or did not answer as Prometheus does: the environment's fault."""


class QueryRefused(PrometheusError):
    """Prometheus answered that the query is wrong (bad_data, 400/422): the check's definition is at fault."""


@dataclass(frozen=True)
class Sample:
    """One series' value at the query's time; NaN and infinities are kept as floats."""

    labels: Mapping[str, str] = field(default_factory=dict)
    value: float = math.nan


def parse_value(raw: Any) -> float:
    """A sample value as Prometheus writes it ("0.5", "NaN", "+Inf") to a float."""
    try:
        return float(raw)
    except (TypeError, ValueError) as exc:
        raise PrometheusUnavailable(f"a sample value is not a number: {raw!r}") from exc


def parse_answer(body: Mapping[str, Any]) -> list[Sample]:
    """The samples of a successful ``/api/v1/query`` answer (vector or scalar)."""
    if body.get("status") != "success":
        raise PrometheusUnavailable(f"the answer's status is {body.get('status')!r}, not 'success'")
    data = body.get("data")
    if not isinstance(data, Mapping):
        raise PrometheusUnavailable("the answer has no data")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "vector" and isinstance(result, list):
        samples = []
        for series in result:
            if not isinstance(series, Mapping) or not isinstance(series.get("value"), list) or len(series["value"]) != 2:
                raise PrometheusUnavailable(f"a series of the answer has no [time, value] pair: {series!r}"[:300])
            samples.append(Sample(dict(series.get("metric") or {}), parse_value(series["value"][1])))
        return samples
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return [Sample({}, parse_value(result[1]))]
    raise PrometheusUnavailable(f"expected an instant vector or a scalar, got resultType {kind!r}")


def _error_of(body: bytes) -> tuple[str, str]:
    """errorType and error of an error answer, or empty strings when the body is not one."""
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        return "", ""
    if not isinstance(data, Mapping):
        return "", ""
    return str(data.get("errorType") or ""), str(data.get("error") or "")


def _tls_context(validate_certs: bool, ca_path: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_path) if ca_path else ssl.create_default_context()
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


Transport = Callable[[urllib.request.Request, float], tuple[int, bytes]]


class PrometheusClient:
    """Instant queries against one Prometheus (``url`` is its base, e.g. ``http://127.0.0.1:9090``
    or ``https://prometheus.example/prometheus``)."""

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10.0,
        validate_certs: bool = True,
        ca_path: str | None = None,
        transport: Transport | None = None,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"prometheus_url must be an http:// or https:// URL, got {url!r}")
        if parts.username or parts.password:
            raise ValueError("prometheus_url must not carry credentials; send them as a header (prometheus_headers)")
        self.url = url.rstrip("/")
        self.headers = dict(headers or {})
        self.timeout = timeout
        if transport is None:
            handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
            if parts.scheme == "https":
                handlers.append(urllib.request.HTTPSHandler(context=_tls_context(validate_certs, ca_path)))
            opener = urllib.request.build_opener(*handlers)
            transport = self._opener_transport(opener)
        self._transport = transport

    @staticmethod
    def _opener_transport(opener: urllib.request.OpenerDirector) -> Transport:
        def send(request: urllib.request.Request, timeout: float) -> tuple[int, bytes]:
            try:
                with opener.open(request, timeout=timeout) as reply:
                    return reply.status, reply.read()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read() if exc.fp else b""

        return send

    def query(self, promql: str) -> list[Sample]:
        """The samples of ``promql`` now."""
        request = urllib.request.Request(
            f"{self.url}/api/v1/query",
            data=urllib.parse.urlencode({"query": promql}).encode(),
            headers={**self.headers, "Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
            method="POST",
        )
        try:
            status, body = self._transport(request, self.timeout)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PrometheusUnavailable(f"{self.url} did not answer: {type(exc).__name__}: {reason}") from exc
        if status in (400, 422):
            kind, error = _error_of(body)
            raise QueryRefused(f"Prometheus refused the query ({status} {kind}): {error or body[:200]!r}")
        if status != 200:
            kind, error = _error_of(body)
            detail = f": {kind} {error}" if error else ""
            raise PrometheusUnavailable(f"{self.url} answered HTTP {status}{detail}")
        try:
            answer = json.loads(body.decode("utf-8", "replace"))
        except ValueError as exc:
            raise PrometheusUnavailable(f"{self.url} answered something that is not JSON: {body[:120]!r}") from exc
        if not isinstance(answer, Mapping):
            raise PrometheusUnavailable(f"{self.url} answered JSON that is not an object")
        return parse_answer(answer)
