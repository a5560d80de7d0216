"""analysis: how one measurement is judged, how a check's measurements become its phase, and how the
checks become the verdict, with a scripted Prometheus (a function from query to samples)."""

from __future__ import annotations

import math

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.analysis import (
    DEFAULT_LABELS,
    DEFAULT_SERVICE_METRICS,
    Check,
    CheckError,
    builtin_checks,
    check_from_dict,
    judge,
    query_values,
    reduce_samples,
    render_query,
    run_analysis,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.prometheus import PrometheusUnavailable, QueryRefused, Sample

RATE = Check("success_rate", "rate{$selector}", ">=", 0.99)
RATE_VS_STABLE = Check("success_rate", "rate{$selector}", ">=", 0.99, baseline=True, max_delta=0.005)
P99_VS_STABLE = Check("latency_p99", "p99{$selector}", "<=", 0.5, baseline=True, max_factor=1.5, unit="s")
RATE_HALF = Check("rate_half", "rate{$selector}", ">=", 0.1, baseline=True, max_factor=1.5)
# the factor counts only beyond 50 ms worse: fast answers' noise fails nothing
P99_FLOOR = Check("latency_p99", "p99{$selector}", "<=", 0.5, baseline=True, max_factor=1.5, factor_min_delta=0.05, unit="s")


@pytest.mark.parametrize(
    ("check", "value", "baseline", "phase", "says"),
    [
        (RATE, 0.995, None, "successful", "0.995 >= 0.99"),
        (RATE, 0.99, None, "successful", ">= 0.99"),
        (RATE, 0.9012, None, "failed", "0.9012 is not >= 0.99"),
        (RATE, None, None, "inconclusive", "no data"),
        (RATE, math.nan, None, "inconclusive", "NaN"),
        (RATE_VS_STABLE, 0.996, 0.999, "successful", "baseline 0.999"),
        (RATE_VS_STABLE, 0.992, 0.999, "failed", "worse than the baseline's 0.999 by 0.007 (at most 0.005)"),
        (RATE_VS_STABLE, 0.992, math.nan, "successful", "the baseline has no data, not compared"),
        (RATE_VS_STABLE, 0.992, None, "successful", "not compared"),
        (P99_VS_STABLE, 0.3, 0.1, "failed", "worse than 1.5 x the baseline's 0.1s (limit 0.15s)"),
        (P99_VS_STABLE, 0.14, 0.1, "successful", "baseline 0.1s"),
        (P99_VS_STABLE, math.inf, 0.1, "failed", "+Infs is not <= 0.5s"),
        (P99_VS_STABLE, 0.9, 0.1, "failed", "0.9s is not <= 0.5s"),
        # higher is better: the factor divides the baseline
        (RATE_HALF, 0.5, 1.0, "failed", "limit 0.6667"),
        (RATE_HALF, 0.7, 1.0, "successful", "baseline 1"),
        (P99_FLOOR, 0.0082, 0.0049, "successful", "baseline 0.0049s"),
        (P99_FLOOR, 0.054, 0.0049, "successful", "baseline 0.0049s"),
        (P99_FLOOR, 0.056, 0.0049, "failed", "worse than 1.5 x the baseline's 0.0049s (limit 0.00735s, and by more than 0.05s)"),
        (P99_FLOOR, 0.4, 0.3, "successful", "baseline 0.3s"),
        (P99_FLOOR, 0.46, 0.3, "failed", "limit 0.45s"),
    ],
)
def test_one_measurement_is_judged(check, value, baseline, phase, says):
    got_phase, detail = judge(check, value, baseline)
    assert (got_phase, says in detail) == (phase, True), detail


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"name": "", "query": "up", "op": ">=", "threshold": 1}, "needs a name"),
        ({"name": "c", "query": " ", "op": ">=", "threshold": 1}, "has no query"),
        ({"name": "c", "query": "up", "op": "==", "threshold": 1}, "op must be one of"),
        ({"name": "c", "query": "up", "op": ">=", "threshold": math.nan}, "finite number"),
        ({"name": "c", "query": "up", "op": ">=", "threshold": 1, "reduce": "avg"}, "reduce must be one of"),
        ({"name": "c", "query": "up", "op": ">=", "threshold": 1, "inconclusive": "ignore"}, "inconclusive must be one of"),
        ({"name": "c", "query": "up", "op": ">=", "threshold": 1, "failure_limit": -1}, "0 or more"),
        ({"name": "c", "query": "up", "op": ">=", "threshold": 1, "max_delta": 0.1}, "set baseline: true"),
        ({"name": "c", "query": "up", "op": ">=", "threshold": 1, "baseline": True, "max_factor": 0.5}, "1 or more"),
        ({"name": "c", "query": "up", "op": ">=", "threshold": 1, "baseline": True, "max_delta": -1}, "0 or more"),
        ({"name": "c", "query": "up", "op": ">=", "threshold": 1, "factor_min_delta": -0.1}, "factor_min_delta must be 0 or more"),
        ({"name": "c", "query": "up", "op": ">=", "threshold": 1, "colour": "red"}, "unexpected keyword"),
    ],
)
def test_checks_that_cannot_be_used(spec, message):
    with pytest.raises(CheckError, match=message):
        check_from_dict(spec)


def test_unset_options_of_a_custom_check_take_the_defaults():
    check = check_from_dict({"name": "c", "query": "up", "op": ">=", "threshold": 1, "max_delta": None, "inconclusive": None})
    assert (check.baseline, check.reduce, check.failure_limit, check.inconclusive_limit, check.inconclusive) == (False, "single", 0, 2, None)


VALUES = query_values(
    namespace="vx", service="finance-service", track="canary", window="1m", labels=DEFAULT_LABELS, service_metrics=DEFAULT_SERVICE_METRICS
)


def test_placeholders_are_filled_in():
    check = Check("c", 'sum(rate($requests{$selector}[$window])) + count(up{$service_selector}) + $$x', ">=", 0)
    assert render_query(check, VALUES) == (
        'sum(rate(http_requests_total{namespace="vx",service="finance-service",track="canary"}[1m]))'
        ' + count(up{namespace="vx",service="finance-service"}) + $x'
    )


@pytest.mark.parametrize(("query", "message"), [("up{$pod}", r"names \$pod, which is not one of"), ("up $", "stray")])
def test_a_placeholder_that_is_not_known(query, message):
    with pytest.raises(CheckError, match=message):
        render_query(Check("c", query, ">=", 0), VALUES)


def test_label_names_and_values_in_the_selector():
    values = query_values(
        namespace='we"ird', service="svc", track="stable", window="5m",
        labels={"namespace": "kubernetes_namespace", "service": "app", "track": "vextrus_io_track"},
        service_metrics=DEFAULT_SERVICE_METRICS,
    )
    assert values["selector"] == 'kubernetes_namespace="we\\"ird",app="svc",vextrus_io_track="stable"'
    assert values["window"] == "5m"


@pytest.mark.parametrize(
    ("reduce", "values", "expected"),
    [
        ("single", [], None),
        ("single", [0.5], 0.5),
        ("count", [], 0.0),
        ("count", [1, 1, 1], 3.0),
        ("sum", [], None),
        ("sum", [1, 2], 3.0),
        ("max", [1, 2], 2.0),
        ("min", [1, 2], 1.0),
        ("sum", [1, math.nan], math.nan),
    ],
)
def test_several_series_become_one_value(reduce, values, expected):
    got = reduce_samples(Check("c", "q", ">=", 0, reduce=reduce), [Sample({}, float(v)) for v in values])
    assert got == expected or (math.isnan(expected) and math.isnan(got))


def test_several_series_where_one_was_expected():
    with pytest.raises(CheckError, match="returned 2 series, not one"):
        reduce_samples(Check("c", "q", ">=", 0), [Sample({}, 1.0), Sample({}, 2.0)])


class Script:
    """A Prometheus that answers each query from a list of values, one per call, and a clock that
    sleeping moves."""

    def __init__(self, **answers):
        self.answers = {key: list(values) for key, values in answers.items()}
        self.asked: list[str] = []
        self.now = 100.0
        self.slept: list[float] = []

    def query(self, promql: str):
        self.asked.append(promql)
        key = next(key for key in self.answers if key in promql)
        answer = self.answers[key].pop(0) if len(self.answers[key]) > 1 else self.answers[key][0]
        if isinstance(answer, Exception):
            raise answer
        if isinstance(answer, list):
            return answer
        return [] if answer is None else [Sample({}, float(answer))]

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def run(self, checks, **options):
        settings = {"values": VALUES, "baseline_values": {**VALUES, "selector": "STABLE"}, "count": 3, "interval": 10.0,
                    "clock": lambda: self.now, "sleep": self.sleep, **options}
        return run_analysis(checks, self.query, **settings)


CANARY_RATE = Check("success_rate", 'rate{$selector}', ">=", 0.99, baseline=True, max_delta=0.01)


def test_every_measurement_succeeds():
    script = Script(canary=[0.999], STABLE=[1.0])
    result = script.run([CANARY_RATE])
    assert (result["verdict"], result["passed"], result["stopped_early"]) == ("PASS", True, False)
    (check,) = result["checks"]
    assert (check["phase"], check["measured"], check["successful"]) == ("successful", 3, 3)
    assert check["query"] == 'rate{namespace="vx",service="finance-service",track="canary"}'
    assert check["baseline_query"] == "rate{STABLE}"
    assert [m["at"] for m in check["measurements"]] == [0.0, 10.0, 20.0]
    assert script.slept == [10.0, 10.0]
    assert result["reason"] == "every check passed (success_rate 3/3 measurements successful)"


def test_the_first_failure_past_the_limit_ends_the_run_fail():
    script = Script(canary=[0.999, 0.9012], STABLE=[1.0])
    result = script.run([CANARY_RATE], count=6)
    assert (result["verdict"], result["stopped_early"]) == ("FAIL", True)
    assert result["reason"] == (
        "check success_rate failed in 1 of 2 measurements (failure limit 0): 0.9012 is not >= 0.99; "
        'query: rate{namespace="vx",service="finance-service",track="canary"}; baseline: rate{STABLE}'
    )
    assert len(script.slept) == 1


def test_a_failure_within_the_limit_passes():
    script = Script(canary=[0.5, 0.999], STABLE=[1.0])
    result = script.run([Check("success_rate", "rate{$selector}", ">=", 0.99, failure_limit=1)])
    assert result["verdict"] == "PASS"
    assert result["checks"][0]["failed"] == 1


def test_failures_within_the_limit_and_no_success_fail():
    script = Script(canary=[0.5])
    result = script.run([Check("success_rate", "rate{$selector}", ">=", 0.99, failure_limit=5)], count=2)
    assert result["verdict"] == "FAIL"


def test_worse_than_stable_fails_though_above_the_threshold():
    script = Script(canary=[0.991], STABLE=[1.0])
    result = script.run([Check("success_rate", "rate{$selector}", ">=", 0.99, baseline=True, max_delta=0.005)])
    assert result["verdict"] == "FAIL"
    assert "worse than the baseline's 1 by 0.009 (at most 0.005)" in result["reason"]


@pytest.mark.parametrize(
    ("policy", "check_policy", "verdict"),
    [("error", None, "ERROR"), ("fail", None, "FAIL"), ("pass", None, "PASS"), ("error", "pass", "PASS"), ("pass", "fail", "FAIL")],
)
def test_no_data_is_inconclusive_and_the_policy_decides(policy, check_policy, verdict):
    script = Script(canary=[math.nan])
    check = Check("success_rate", "rate{$selector}", ">=", 0.99, inconclusive=check_policy)
    result = script.run([check], policy=policy)
    assert result["verdict"] == verdict
    message = "check success_rate is inconclusive (3 of 3 measurements, limit 2; inconclusive_policy "
    if verdict == "PASS":
        assert result["inconclusive_passed"] == [
            f"{message}{check_policy or policy}): NaN (nothing to divide by: no requests in the window?); query: "
            'rate{namespace="vx",service="finance-service",track="canary"}'
        ]
    else:
        assert result["reason"].startswith(message) and not result["inconclusive_passed"]
    assert result["checks"][0]["phase"] == "inconclusive"


def test_inconclusive_within_the_limit_then_data_passes():
    # the first rate windows of a new canary hold no requests yet
    script = Script(canary=[None, math.nan, 0.999])
    result = script.run([Check("success_rate", "rate{$selector}", ">=", 0.99)])
    assert result["verdict"] == "PASS"
    assert [m["phase"] for m in result["checks"][0]["measurements"]] == ["inconclusive", "inconclusive", "successful"]
    assert [m["value"] for m in result["checks"][0]["measurements"]] == [None, "NaN", 0.999]


def test_prometheus_down_twice_in_a_row_is_an_error():
    down = PrometheusUnavailable("http://127.0.0.1:9090 did not answer: URLError: [Errno 111] Connection refused")
    script = Script(canary=[down])
    result = script.run([CANARY_RATE], count=6)
    assert (result["verdict"], result["stopped_early"]) == ("ERROR", True)
    assert result["reason"].startswith("check success_rate could not be measured: http://127.0.0.1:9090 did not answer")
    assert result["checks"][0]["errors"] == 2


def test_one_unanswered_query_between_answers_is_tolerated():
    down = PrometheusUnavailable("did not answer")
    script = Script(canary=[0.999, down, 0.999, down, 0.999], STABLE=[1.0])
    result = script.run([CANARY_RATE], count=5)
    assert result["verdict"] == "PASS"
    assert result["checks"][0]["errors"] == 2


def test_a_refused_query_is_an_error_at_once():
    script = Script(canary=[QueryRefused("Prometheus refused the query (400 bad_data): parse error")])
    result = script.run([CANARY_RATE], count=6)
    assert (result["verdict"], result["stopped_early"]) == ("ERROR", True)
    assert "400 bad_data" in result["reason"]
    assert len(script.asked) == 1


def test_firing_alerts_fail_and_are_named():
    firing = [Sample({"alertname": "FinanceHighErrorRate", "alertstate": "firing"}, 1.0),
              Sample({"alertname": "FinanceHighLatency", "alertstate": "firing"}, 1.0)]
    script = Script(canary=[0.999], STABLE=[1.0], ALERTS=[[], firing])
    checks = [CANARY_RATE, Check("alerts", 'ALERTS{alertstate="firing",$service_selector}', "<=", 0, reduce="count")]
    result = script.run(checks)
    assert result["verdict"] == "FAIL"
    assert result["reason"].startswith(
        "check alerts failed in 1 of 2 measurements (failure limit 0): 2 is not <= 0 (FinanceHighErrorRate, FinanceHighLatency); "
        'query: ALERTS{alertstate="firing",namespace="vx",service="finance-service"}'
    )


def test_the_checks_run_in_rounds_after_the_initial_delay():
    script = Script(p99=[0.1], canary=[0.999], STABLE=[1.0])  # first key found in the query answers
    checks = [CANARY_RATE, Check("latency_p99", "p99{$selector}", "<=", 0.5)]
    script.run(checks, count=2, initial_delay=30.0)
    assert script.slept == [30.0, 10.0]
    assert [q.split("{")[0] for q in script.asked] == ["rate", "rate", "p99", "rate", "rate", "p99"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"count": 0}, "count must be at least 1"),
        ({"interval": -1.0}, "0 or more"),
        ({"policy": "ignore"}, "inconclusive_policy must be one of"),
    ],
)
def test_run_settings_that_cannot_be_used(options, message):
    with pytest.raises(CheckError, match=message):
        Script(canary=[1.0]).run([RATE], **options)


def test_check_names_are_unique_and_there_is_one():
    with pytest.raises(CheckError, match="unique"):
        Script(canary=[1.0]).run([RATE, RATE])
    with pytest.raises(CheckError, match="no checks"):
        Script(canary=[1.0]).run([])


SETTINGS = {"success_rate_min": 0.99, "success_rate_max_drop": 0.01, "latency_p99_max": 0.5, "latency_p99_max_factor": 1.5,
            "latency_p99_factor_min_delta": 0.05}


def test_the_builtin_checks_queries():
    checks = builtin_checks(["success_rate", "latency_p99", "alerts"], SETTINGS, compare=True)
    rendered = {check.name: render_query(check, VALUES) for check in checks}
    selector = 'namespace="vx",service="finance-service",track="canary"'
    assert rendered == {
        "success_rate": f'sum(rate(http_requests_total{{{selector},status_code!~"5.."}}[1m])) / sum(rate(http_requests_total{{{selector}}}[1m]))',
        "latency_p99": f"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{{{selector}}}[1m])))",
        "alerts": 'ALERTS{alertstate="firing",namespace="vx",service="finance-service"}',
    }
    assert [(c.baseline, c.max_delta, c.max_factor) for c in checks] == [(True, 0.01, None), (True, None, 1.5), (False, None, None)]
    assert [c.factor_min_delta for c in checks] == [0.0, 0.05, 0.0]


def test_without_a_baseline_the_builtin_checks_do_not_compare():
    checks = builtin_checks(["success_rate", "latency_p99"], SETTINGS, compare=False)
    assert [(c.baseline, c.max_delta, c.max_factor) for c in checks] == [(False, None, None), (False, None, None)]


def test_an_unknown_builtin_check():
    with pytest.raises(CheckError, match="unknown built-in checks error_budget"):
        builtin_checks(["error_budget"], SETTINGS, compare=True)


def test_a_builtin_check_without_its_baseline_limit_does_not_compare():
    checks = builtin_checks(["success_rate", "latency_p99"], {**SETTINGS, "success_rate_max_drop": None, "latency_p99_max_factor": None},
                            compare=True)
    assert [(c.baseline, c.max_delta, c.max_factor) for c in checks] == [(False, None, None), (False, None, None)]
