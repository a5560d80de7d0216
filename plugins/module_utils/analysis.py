# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Canary analysis: checks as data, measured against Prometheus over a window, one verdict.

A :class:`Check` is a PromQL template, a comparison with a threshold and, optionally, a comparison
with the baseline track (the same query for the stable pods): how much worse the canary may be, as
a difference (``max_delta``) or a factor (``max_factor``). The direction of "worse" follows the
threshold's operator: for ``<=``/``<`` (latency, error rate) higher is worse, for ``>=``/``>``
(success rate) lower is.

The run measures every check ``count`` times, ``interval`` seconds apart, as an Argo Rollouts
AnalysisTemplate does. Each measurement is successful, failed, inconclusive (no data, an empty
vector, NaN: nothing to judge) or an error (Prometheus not answering, the query refused). A check
fails when its failed measurements pass its ``failure_limit``; it is inconclusive when its
inconclusive ones pass ``inconclusive_limit`` or none succeeded; it is an error when Prometheus
failed more than ``error_limit`` times in a row, or refused the query once. The run stops at the
first check that failed or errored. The verdict:

- FAIL when a check failed (the release is at fault), quoting the check, the measured value, the
  threshold or the baseline it missed, and the query;
- ERROR when a check errored (the environment or the check's definition is at fault);
- for an inconclusive check, what ``inconclusive_policy`` says: ``fail``, ``error`` or ``pass``;
- PASS otherwise.

Pure apart from the query function, the clock and the sleep it is given.
"""

from __future__ import annotations

import math
import operator
import string
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.prometheus import PrometheusUnavailable, QueryRefused, Sample

OPERATORS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
LOWER_IS_BETTER = frozenset({"<=", "<"})
REDUCTIONS = ("single", "sum", "max", "min", "count")
POLICIES = ("fail", "pass", "error")

SUCCESSFUL, FAILED, INCONCLUSIVE, ERROR = "successful", "failed", "inconclusive", "error"

# the built-in checks' PromQL; $selector picks the measured track's pods, $service_selector every pod
# of the service, $window is the rate window; the metric names come from service_metrics
SUCCESS_RATE_QUERY = (
    'sum(rate($requests{$selector,$status_label!~"5.."}[$window])) / sum(rate($requests{$selector}[$window]))'
)
LATENCY_P99_QUERY = "histogram_quantile(0.99, sum by (le) (rate(${latency}_bucket{$selector}[$window])))"
ALERTS_QUERY = 'ALERTS{alertstate="firing",$service_selector}'

DEFAULT_LABELS = {"namespace": "namespace", "service": "service", "track": "track"}
DEFAULT_SERVICE_METRICS = {"requests": "http_requests_total", "latency": "http_request_duration_seconds", "status_label": "status_code"}


class CheckError(ValueError):
    """A check's definition cannot be used; the message says which check and why."""


@dataclass(frozen=True)
class Check:
    """One check of the analysis (see the module documentation)."""

    name: str
    query: str
    op: str
    threshold: float
    baseline: bool = False
    max_delta: float | None = None
    max_factor: float | None = None
    # how much worse than the baseline a value may be before max_factor counts (noise: 8 ms against 5 ms)
    factor_min_delta: float = 0.0
    reduce: str = "single"
    failure_limit: int = 0
    inconclusive_limit: int = 2
    inconclusive: str | None = None  # None: the run's policy
    unit: str = ""

    def __post_init__(self) -> None:
        where = f"check {self.name!r}"
        if not self.name:
            raise CheckError("every check needs a name")
        if not self.query.strip():
            raise CheckError(f"{where} has no query")
        if self.op not in OPERATORS:
            raise CheckError(f"{where}: op must be one of {', '.join(OPERATORS)}, got {self.op!r}")
        if not math.isfinite(self.threshold):
            raise CheckError(f"{where}: threshold must be a finite number, got {self.threshold!r}")
        if self.reduce not in REDUCTIONS:
            raise CheckError(f"{where}: reduce must be one of {', '.join(REDUCTIONS)}, got {self.reduce!r}")
        if self.inconclusive is not None and self.inconclusive not in POLICIES:
            raise CheckError(f"{where}: inconclusive must be one of {', '.join(POLICIES)}, got {self.inconclusive!r}")
        if self.failure_limit < 0 or self.inconclusive_limit < 0:
            raise CheckError(f"{where}: failure_limit and inconclusive_limit must be 0 or more")
        if self.max_delta is not None and self.max_delta < 0:
            raise CheckError(f"{where}: max_delta must be 0 or more, got {self.max_delta}")
        if self.max_factor is not None and self.max_factor < 1:
            raise CheckError(f"{where}: max_factor must be 1 or more, got {self.max_factor}")
        if self.factor_min_delta < 0:
            raise CheckError(f"{where}: factor_min_delta must be 0 or more, got {self.factor_min_delta}")
        if (self.max_delta is not None or self.max_factor is not None) and not self.baseline:
            raise CheckError(f"{where}: max_delta and max_factor compare with the baseline; set baseline: true")

    @property
    def lower_is_better(self) -> bool:
        return self.op in LOWER_IS_BETTER


@dataclass
class Measurement:
    """One measurement of one check."""

    at: float
    phase: str
    value: float | None = None
    baseline: float | None = None
    detail: str = ""
    series: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": round(self.at, 1),
            "phase": self.phase,
            "value": _plain(self.value),
            "baseline": _plain(self.baseline),
            "detail": self.detail,
            "series": self.series,
        }


def _plain(value: float | None) -> float | str | None:
    """A value for JSON: NaN and infinities as Prometheus writes them."""
    if value is None:
        return None
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return round(value, 6)


def fmt(value: float | None, unit: str = "") -> str:
    """A measured value for a message: four significant digits and the check's unit."""
    if value is None:
        return "no data"
    plain = _plain(value)
    return f"{plain}{unit}" if isinstance(plain, str) else f"{value:.4g}{unit}"


def _label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def selectors(labels: Mapping[str, str], namespace: str, service: str, track: str) -> dict[str, str]:
    """$selector (the track's pods) and $service_selector (every pod of the service) as PromQL matchers."""
    service_selector = f'{labels["namespace"]}="{_label_value(namespace)}",{labels["service"]}="{_label_value(service)}"'
    return {"service_selector": service_selector, "selector": f'{service_selector},{labels["track"]}="{_label_value(track)}"'}


def render_query(check: Check, values: Mapping[str, str]) -> str:
    """The check's query with ``$name`` placeholders filled in; an unknown placeholder is the check's error."""
    try:
        return string.Template(check.query).substitute(values)
    except KeyError as exc:
        raise CheckError(
            f"check {check.name!r}: its query names ${exc.args[0]}, which is not one of ${', $'.join(sorted(values))}"
        ) from exc
    except ValueError as exc:
        raise CheckError(f"check {check.name!r}: its query has a stray $ ({exc}); write $$ for a literal $") from exc


def reduce_samples(check: Check, samples: Sequence[Sample]) -> float | None:
    """The check's value of an answer; None when there is no data."""
    if check.reduce == "count":
        return float(len(samples))
    if not samples:
        return None
    values = [sample.value for sample in samples]
    if check.reduce == "single":
        if len(samples) > 1:
            raise CheckError(
                f"check {check.name!r}: its query returned {len(samples)} series, not one; aggregate them "
                "(sum(...), max(...)) or set reduce"
            )
        return values[0]
    if any(math.isnan(value) for value in values):
        return math.nan
    return {"sum": sum, "max": max, "min": min}[check.reduce](values)


def judge(check: Check, value: float | None, baseline: float | None = None) -> tuple[str, str]:
    """The phase of one measurement, and why."""
    if value is None:
        return INCONCLUSIVE, "no data (an empty answer)"
    if math.isnan(value):
        return INCONCLUSIVE, "NaN (nothing to divide by: no requests in the window?)"
    shown = fmt(value, check.unit)
    if not OPERATORS[check.op](value, check.threshold):
        return FAILED, f"{shown} is not {check.op} {fmt(check.threshold, check.unit)}"
    if not check.baseline:
        return SUCCESSFUL, f"{shown} {check.op} {fmt(check.threshold, check.unit)}"
    if baseline is None or math.isnan(baseline):
        return SUCCESSFUL, f"{shown} {check.op} {fmt(check.threshold, check.unit)}; the baseline has no data, not compared"
    base = fmt(baseline, check.unit)
    worse_by = value - baseline if check.lower_is_better else baseline - value
    if check.max_delta is not None and worse_by > check.max_delta:
        return FAILED, (
            f"{shown} is worse than the baseline's {base} by {fmt(worse_by, check.unit)} "
            f"(at most {fmt(check.max_delta, check.unit)})"
        )
    if check.max_factor is not None and baseline > 0 and worse_by > check.factor_min_delta:
        limit = baseline * check.max_factor if check.lower_is_better else baseline / check.max_factor
        if (value > limit) if check.lower_is_better else (value < limit):
            floor = f", and by more than {fmt(check.factor_min_delta, check.unit)}" if check.factor_min_delta else ""
            return FAILED, f"{shown} is worse than {check.max_factor:g} x the baseline's {base} (limit {fmt(limit, check.unit)}{floor})"
    return SUCCESSFUL, f"{shown} {check.op} {fmt(check.threshold, check.unit)}, baseline {base}"


@dataclass
class CheckState:
    """What one check measured so far, and whether it is decided."""

    check: Check
    query: str
    baseline_query: str | None
    measurements: list[Measurement] = field(default_factory=list)
    errors_in_a_row: int = 0
    refused: bool = False

    def count(self, phase: str) -> int:
        return sum(1 for m in self.measurements if m.phase == phase)

    def phase(self, error_limit: int, finished: bool) -> str | None:
        """The check's outcome once decided, None while it may still go either way."""
        if self.count(FAILED) > self.check.failure_limit:
            return FAILED
        if self.refused or self.errors_in_a_row > error_limit:
            return ERROR
        if self.count(INCONCLUSIVE) > self.check.inconclusive_limit:
            return INCONCLUSIVE
        if not finished:
            return None
        if self.count(SUCCESSFUL):
            return SUCCESSFUL
        # nothing succeeded: failures within the limit still fail the check
        if self.count(FAILED):
            return FAILED
        return ERROR if self.count(ERROR) and not self.count(INCONCLUSIVE) else INCONCLUSIVE

    def as_dict(self, error_limit: int, finished: bool) -> dict[str, Any]:
        check = self.check
        return {
            "name": check.name,
            "query": self.query,
            "baseline_query": self.baseline_query,
            "condition": f"{check.op} {check.threshold:g}{check.unit}",
            "max_delta": check.max_delta,
            "max_factor": check.max_factor,
            "phase": self.phase(error_limit, finished) or "running",
            "measured": len(self.measurements),
            "successful": self.count(SUCCESSFUL),
            "failed": self.count(FAILED),
            "inconclusive": self.count(INCONCLUSIVE),
            "errors": self.count(ERROR),
            "failure_limit": check.failure_limit,
            "inconclusive_limit": check.inconclusive_limit,
            "measurements": [m.as_dict() for m in self.measurements],
        }


Query = Callable[[str], Sequence[Sample]]


def measure(state: CheckState, query: Query, at: float) -> Measurement:
    """One measurement of one check: its query, and the baseline's when the check compares."""
    check = state.check
    try:
        samples = query(state.query)
        value = reduce_samples(check, samples)
        baseline = reduce_samples(check, query(state.baseline_query)) if state.baseline_query else None
    except (QueryRefused, CheckError) as exc:  # the check's definition: asking again cannot help
        state.refused = True
        return Measurement(at, ERROR, detail=str(exc))
    except PrometheusUnavailable as exc:
        state.errors_in_a_row += 1
        return Measurement(at, ERROR, detail=str(exc))
    state.errors_in_a_row = 0
    phase, detail = judge(check, value, baseline)
    series = [dict(sample.labels) for sample in samples[:5]] if check.reduce != "single" else []
    if phase == FAILED and series:
        named = [s.get("alertname") or ",".join(f"{k}={v}" for k, v in sorted(s.items()) if k != "__name__") for s in series]
        detail += f" ({', '.join(named)}{', ...' if len(samples) > len(series) else ''})"
    return Measurement(at, phase, value, baseline, detail, series)


def _last(state: CheckState, phase: str) -> Measurement | None:
    return next((m for m in reversed(state.measurements) if m.phase == phase), None)


def _reason(state: CheckState, phase: str, policy: str) -> str:
    check, failing = state.check, _last(state, phase)
    detail = failing.detail if failing else "no measurement"
    if phase == FAILED:
        counted = f"in {state.count(FAILED)} of {len(state.measurements)} measurements (failure limit {check.failure_limit})"
        what = f"check {check.name} failed {counted}: {detail}"
    elif phase == ERROR:
        what = f"check {check.name} could not be measured: {detail}"
    else:
        what = (
            f"check {check.name} is inconclusive ({state.count(INCONCLUSIVE)} of {len(state.measurements)} "
            f"measurements, limit {check.inconclusive_limit}; inconclusive_policy {policy}): {detail}"
        )
    query = f"; query: {state.query}"
    if state.baseline_query and phase == FAILED:
        query += f"; baseline: {state.baseline_query}"
    return what + query


def run_analysis(
    checks: Sequence[Check],
    query: Query,
    *,
    values: Mapping[str, str],
    baseline_values: Mapping[str, str] | None,
    count: int,
    interval: float,
    initial_delay: float = 0.0,
    error_limit: int = 1,
    policy: str = "error",
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Measure ``checks`` and decide; ``values`` fill the queries' placeholders for the measured track,
    ``baseline_values`` for the baseline (None: no check compares)."""
    if count < 1:
        raise CheckError(f"count must be at least 1, got {count}")
    if interval < 0 or initial_delay < 0 or error_limit < 0:
        raise CheckError("interval, initial_delay and error_limit must be 0 or more")
    if policy not in POLICIES:
        raise CheckError(f"inconclusive_policy must be one of {', '.join(POLICIES)}, got {policy!r}")
    if not checks:
        raise CheckError("the analysis has no checks")
    names = [check.name for check in checks]
    if len(set(names)) != len(names):
        raise CheckError(f"check names must be unique, got {', '.join(names)}")
    states = [
        CheckState(
            check,
            render_query(check, values),
            render_query(check, baseline_values) if check.baseline and baseline_values is not None else None,
        )
        for check in checks
    ]
    start = clock()
    if initial_delay:
        sleep(initial_delay)
    stopped_early = False
    for round_no in range(count):
        if round_no:
            sleep(interval)
        for state in states:
            if state.phase(error_limit, finished=False) is None:
                state.measurements.append(measure(state, query, clock() - start))
        if any(state.phase(error_limit, finished=False) in (FAILED, ERROR) for state in states):
            stopped_early = round_no + 1 < count
            break
    return decide(states, error_limit=error_limit, policy=policy, elapsed=clock() - start, stopped_early=stopped_early)


def decide(states: Sequence[CheckState], *, error_limit: int, policy: str, elapsed: float, stopped_early: bool) -> dict[str, Any]:
    """The verdict of measured checks (see the module's documentation)."""
    phases = [(state, state.phase(error_limit, finished=True)) for state in states]
    passed_by_policy: list[str] = []
    verdict, reason = "PASS", ""
    for wanted in (FAILED, ERROR):
        found = next((state for state, phase in phases if phase == wanted), None)
        if found:
            verdict, reason = ("FAIL" if wanted == FAILED else "ERROR"), _reason(found, wanted, policy)
            break
    if verdict == "PASS":
        for state, phase in phases:
            if phase != INCONCLUSIVE:
                continue
            check_policy = state.check.inconclusive or policy
            message = _reason(state, INCONCLUSIVE, check_policy)
            if check_policy == "pass":
                passed_by_policy.append(message)
                continue
            verdict, reason = ("FAIL" if check_policy == "fail" else "ERROR"), message
            break
    if verdict == "PASS":
        measured = ", ".join(f"{s.check.name} {s.count(SUCCESSFUL)}/{len(s.measurements)}" for s in states)
        passed_anyway = [state.check.name for state, phase in phases if phase == INCONCLUSIVE]
        reason = (
            f"no check failed; inconclusive and passed by their policy: {', '.join(passed_anyway)} ({measured} measurements successful)"
            if passed_anyway
            else f"every check passed ({measured} measurements successful)"
        )
    return {
        "verdict": verdict,
        "passed": verdict == "PASS",
        "reason": reason,
        "elapsed": round(elapsed, 1),
        "stopped_early": stopped_early,
        "inconclusive_passed": passed_by_policy,
        "checks": [state.as_dict(error_limit, finished=True) for state in states],
    }


def _against_baseline(
    name: str, query: str, op: str, threshold: float, *, compare: bool,
    max_delta: float | None = None, max_factor: float | None = None, factor_min_delta: float = 0.0, unit: str = "",
) -> Check:
    """A check that also compares with the baseline when there is one and a limit is set."""
    compares = compare and (max_delta is not None or max_factor is not None)
    return Check(
        name, query, op, threshold, baseline=compares,
        max_delta=max_delta if compares else None, max_factor=max_factor if compares else None,
        factor_min_delta=factor_min_delta, unit=unit,
    )


def builtin_checks(names: Sequence[str], settings: Mapping[str, Any], *, compare: bool) -> list[Check]:
    """The built-in checks ``names`` picks (success_rate, latency_p99, alerts), with the thresholds of
    ``settings`` (the module's options of the same names); ``compare``: whether there is a baseline."""
    known = {
        "success_rate": lambda: _against_baseline(
            "success_rate", SUCCESS_RATE_QUERY, ">=", settings["success_rate_min"],
            compare=compare, max_delta=settings.get("success_rate_max_drop"),
        ),
        "latency_p99": lambda: _against_baseline(
            "latency_p99", LATENCY_P99_QUERY, "<=", settings["latency_p99_max"],
            compare=compare, max_factor=settings.get("latency_p99_max_factor"),
            factor_min_delta=settings.get("latency_p99_factor_min_delta") or 0.0, unit="s",
        ),
        # any firing alert of the service's pods; an empty answer is none firing
        "alerts": lambda: Check("alerts", ALERTS_QUERY, "<=", 0, reduce="count"),
    }
    unknown = [name for name in names if name not in known]
    if unknown:
        raise CheckError(f"unknown built-in checks {', '.join(unknown)}; known: {', '.join(known)}")
    return [known[name]() for name in names]


def check_from_dict(spec: Mapping[str, Any]) -> Check:
    """A custom check from the module's ``checks`` option."""
    fields = {key: value for key, value in spec.items() if value is not None}
    try:
        return Check(**fields)
    except TypeError as exc:
        raise CheckError(f"check {spec.get('name')!r}: {exc}") from exc


def query_values(
    *,
    namespace: str,
    service: str,
    track: str,
    window: str,
    labels: Mapping[str, str],
    service_metrics: Mapping[str, str],
) -> dict[str, str]:
    """The placeholders of the queries for one track."""
    return {
        "namespace": namespace,
        "service": service,
        "track": track,
        "window": window,
        **selectors(labels, namespace, service, track),
        **service_metrics,
    }
