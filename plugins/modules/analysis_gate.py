#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: analysis_gate
short_description: Judge a canary by its traffic in Prometheus over a window
version_added: 0.9.0
author:
  - Vextrus Platform Engineering (@vextrus)
description:
  - Measures checks against Prometheus O(count) times, O(interval) seconds apart, and decides a verdict,
    as an Argo Rollouts AnalysisTemplate does. A check is a PromQL query, a threshold and, optionally, how
    much worse the measured track (O(track)) may be than the baseline track (O(baseline_track)) running the
    same query.
  - "Built-in checks (O(builtin_checks)), over the service's request metrics (O(service_metrics)):
    C(success_rate), the share of requests not answered 5xx, at least O(success_rate_min) and not more than
    O(success_rate_max_drop) below the baseline's; C(latency_p99), the 99th percentile of the request
    latency in seconds, at most O(latency_p99_max) and O(latency_p99_max_factor) times the baseline's;
    C(alerts), no alert of the service firing (C(ALERTS{alertstate=\"firing\"})). O(checks) adds checks of
    your own."
  - "Queries are templates: C($namespace), C($service), C($track), C($window), C($selector) (the matchers
    of the measured track's series: namespace, service and track, label names from O(labels)),
    C($service_selector) (namespace and service only) and the names of O(service_metrics) are filled in.
    Write C($$) for a literal dollar sign."
  - A measurement is B(inconclusive) when the query returns no data, an empty vector or NaN (no traffic to
    divide by). A check with more than its C(inconclusive_limit) inconclusive measurements, or none that
    succeeded, is inconclusive, and O(inconclusive_policy) (or the check's own C(inconclusive)) decides
    between C(fail), C(error) and C(pass) with a warning.
  - "The verdict: C(FAIL), the release is at fault: a check had more failed measurements than its
    C(failure_limit); the message quotes the check, the measured value, the threshold or baseline it
    missed, and the query. C(ERROR), the environment or the check is at fault: Prometheus did not answer
    more than O(error_limit) times in a row, refused a query, or a query returned several series where
    one was expected. C(PASS) otherwise. The module fails on C(FAIL) and C(ERROR) and returns the
    verdict and every check's measurements either way; it stops at the first check that failed."
  - Header values (O(prometheus_headers), for example an C(Authorization) header) are never returned or
    shown.
extends_documentation_fragment:
  - vextrus.deploy.bearer_token_secret
  - vextrus.deploy.attributes
  - vextrus.deploy.attributes.gate
requirements:
  - "python >= 3.11"
options:
  prometheus_url:
    description:
      - Base URL of the Prometheus HTTP API, for example C(http://127.0.0.1:9090) or
        C(https://prometheus.example.com/prometheus); C(/api/v1/query) is appended.
      - Must not carry credentials; send them as a header.
    type: str
    required: true
  prometheus_headers:
    description:
      - HTTP headers sent with every query, for example C(Authorization) (C(Bearer ...) or C(Basic ...)) or
        C(X-Scope-OrgID) for a multi-tenant Prometheus. Never returned.
    type: dict
    default: {}
  validate_certs:
    description: Whether to verify the TLS certificate of an C(https) O(prometheus_url).
    type: bool
    default: true
  ca_path:
    description: A PEM file of the CA certificates to verify an C(https) O(prometheus_url) with.
    type: path
  request_timeout:
    description: Seconds to wait for one query's answer.
    type: float
    default: 10.0
  namespace:
    description: The service's namespace (C($namespace)).
    type: str
    required: true
  service:
    description: The service's name as its series are labelled (C($service)).
    type: str
    required: true
  track:
    description: The track whose pods are judged (C($track)), normally C(canary).
    type: str
    default: canary
  baseline_track:
    description:
      - The track the checks with C(baseline) compare with, normally C(stable).
      - An empty string compares with nothing (at 100 %, when every pod runs the release).
    type: str
    default: stable
  labels:
    description: The names of the labels that carry the namespace, the service and the track in Prometheus.
    type: dict
    default: {}
    suboptions:
      namespace:
        description: The namespace label.
        type: str
        default: namespace
      service:
        description: The service label.
        type: str
        default: service
      track:
        description: The track label.
        type: str
        default: track
  service_metrics:
    description: The service's request metrics the built-in checks read (also C($requests), C($latency), C($status_label)).
    type: dict
    default: {}
    suboptions:
      requests:
        description: A counter of requests with a status code label.
        type: str
        default: http_requests_total
      latency:
        description: A histogram of request durations in seconds (its C(_bucket) series are read).
        type: str
        default: http_request_duration_seconds
      status_label:
        description: The label of O(service_metrics.requests) holding the HTTP status code.
        type: str
        default: status_code
  window:
    description: The range of the C(rate()) windows in the queries (C($window)), a Prometheus duration.
    type: str
    default: 1m
  count:
    description: How many times every check is measured. Check mode measures once.
    type: int
    default: 6
  interval:
    description: Seconds between two rounds of measurements. Check mode does not wait.
    type: float
    default: 10.0
  initial_delay:
    description: Seconds to wait before the first round, for the first requests to reach Prometheus.
    type: float
    default: 0.0
  error_limit:
    description: Query errors in a row (Prometheus not answering) a check tolerates before the verdict is C(ERROR).
    type: int
    default: 1
  inconclusive_policy:
    description: The verdict of an inconclusive check (no data, NaN), unless the check sets its own.
    type: str
    default: error
    choices: [fail, pass, error]
  builtin_checks:
    description: The built-in checks to run; an empty list runs only O(checks).
    type: list
    elements: str
    default: [success_rate, latency_p99, alerts]
    choices: [success_rate, latency_p99, alerts]
  success_rate_min:
    description: The least share of requests of the track not answered 5xx (C(success_rate)).
    type: float
    default: 0.99
  success_rate_max_drop:
    description: How far the track's success rate may fall below the baseline's.
    type: float
    default: 0.01
  latency_p99_max:
    description: The most seconds the track's 99th percentile latency may take (C(latency_p99)).
    type: float
    default: 0.5
  latency_p99_max_factor:
    description: How many times the baseline's 99th percentile the track's may be.
    type: float
    default: 1.5
  latency_p99_factor_min_delta:
    description:
      - Seconds the track's 99th percentile may exceed the baseline's before O(latency_p99_max_factor) counts, so
        that noise on fast answers (8 ms against 5 ms) fails nothing. O(latency_p99_max) always counts.
    type: float
    default: 0.05
  checks:
    description: Checks of your own, measured with the built-in ones.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The check's name, unique in the run.
        type: str
        required: true
      query:
        description: The PromQL template; it must return one series or a scalar unless O(checks[].reduce) says otherwise.
        type: str
        required: true
      op:
        description: How the value compares with O(checks[].threshold) to succeed.
        type: str
        required: true
        choices: ["<=", "<", ">=", ">"]
      threshold:
        description: The threshold.
        type: float
        required: true
      baseline:
        description: Whether to run the query for O(baseline_track) too and compare.
        type: bool
        default: false
      max_delta:
        description: How much worse than the baseline's value the value may be (needs O(checks[].baseline)).
        type: float
      max_factor:
        description: How many times worse than the baseline's value the value may be, 1 or more (needs O(checks[].baseline)).
        type: float
      factor_min_delta:
        description: How much worse than the baseline's value the value may be before O(checks[].max_factor) counts.
        type: float
        default: 0.0
      reduce:
        description:
          - How several series become one value. C(single) expects one series (several are an error); C(count)
            counts the series, an empty answer being 0.
        type: str
        default: single
        choices: [single, sum, max, min, count]
      failure_limit:
        description: Failed measurements tolerated.
        type: int
        default: 0
      inconclusive_limit:
        description: Inconclusive measurements tolerated.
        type: int
        default: 2
      inconclusive:
        description: This check's verdict when inconclusive, instead of O(inconclusive_policy).
        type: str
        choices: [fail, pass, error]
      unit:
        description: A unit for the messages, for example C(s).
        type: str
        default: ""
  load:
    description:
      - Load where there is no real traffic. vegeta sends O(load.rate) requests a second to O(load.targets),
        in turn, from before O(initial_delay) until the last round; its figures are returned under RV(load).
        Set O(initial_delay) to at least the O(window), so that the first measurement sees a full window.
      - Leave it out where real users are the load (production). Check mode sends no load.
      - Header values go to vegeta's targets file only (owner-only, removed afterwards), never to its command
        line or the result.
      - "With O(bearer_token_secret), every load request carries C(Authorization: Bearer <token>), the token minted
        from the Secret's key (valid for the whole analysis), as the smoke test's API call does."
    type: dict
    suboptions:
      rate:
        description: Requests a second, over all targets.
        type: int
        default: 20
      targets:
        description: The requests, for example the Service's ClusterIP and the API's paths.
        type: list
        elements: dict
        required: true
        suboptions:
          url:
            description: An C(http://) or C(https://) URL.
            type: str
            required: true
          method:
            description: The HTTP method.
            type: str
            default: GET
          headers:
            description: Headers of this target, over O(load.headers).
            type: dict
            default: {}
          body:
            description: The request body.
            type: str
            default: ""
      headers:
        description: Headers of every request, for example C(Authorization).
        type: dict
        default: {}
      timeout:
        description: Seconds one request may take.
        type: float
        default: 5.0
      warmup:
        description:
          - At most this many seconds before the load starts, asking each target once a second until it answers
            2xx or 3xx three times in a row. A Service whose ClusterIP the node proxies have not caught up with yet
            (a first install, an address freed by a deleted Service moments ago) refuses or reaches the wrong
            pods for a moment; that is the proxy's, not the release's. After the time the load starts anyway.
          - V(0) starts at once.
        type: float
        default: 15.0
      vegeta:
        description: The vegeta binary, a name on C(PATH) or a path.
        type: str
        default: vegeta
notes:
  - A check whose query names a metric the service does not export is inconclusive (no data), not passed.
"""

EXAMPLES = r"""
- name: Judge the canary against stable for a minute
  vextrus.deploy.analysis_gate:
    prometheus_url: http://127.0.0.1:9090
    namespace: vextrus-local
    service: finance-service
    count: 6
    interval: 10
  register: analysis

- name: Locally, with load through the Service while measuring
  vextrus.deploy.analysis_gate:
    prometheus_url: http://127.0.0.1:9090
    namespace: vextrus-local
    service: finance-service
    window: 15s
    initial_delay: 15
    count: 3
    interval: 5
    inconclusive_policy: pass
    load:
      rate: 30
      targets:
        - url: http://10.96.12.34:3014/api/v1/accounts
        - url: http://10.96.12.34:3014/health
      headers:
        Authorization: "Bearer {{ smoke_token }}"

- name: A production Prometheus behind a token, with a check of our own
  vextrus.deploy.analysis_gate:
    prometheus_url: https://prometheus.example.com
    prometheus_headers:
      Authorization: "Bearer {{ prometheus_token }}"
    ca_path: /etc/ssl/certs/internal-ca.pem
    namespace: vextrus-production
    service: finance-service
    labels:
      service: app_kubernetes_io_name
      track: vextrus_io_track
    inconclusive_policy: fail
    checks:
      - name: ledger_errors
        query: sum(rate(ledger_write_errors_total{$selector}[$window])) or vector(0)
        op: "<="
        threshold: 0.01
"""

RETURN = r"""
verdict:
  description: C(PASS), C(FAIL) (the release is at fault) or C(ERROR) (the environment or the check is).
  returned: always
  type: str
  sample: FAIL
passed:
  description: Whether the verdict is C(PASS).
  returned: always
  type: bool
reason:
  description: Why; for C(FAIL) the check, the value, the threshold or baseline it missed, and the query.
  returned: always
  type: str
elapsed:
  description: Seconds the analysis took.
  returned: always
  type: float
stopped_early:
  description: Whether the analysis stopped before its last round (a check failed or errored).
  returned: always
  type: bool
inconclusive_passed:
  description: Why each check that was inconclusive passed by its policy (C(pass)); each is also a warning.
  returned: always
  type: list
  elements: str
load:
  description:
    - vegeta's figures of the load O(load) sent (empty without it); C(success) is the share answered 2xx or 3xx.
    - C(failed) counts the requests not answered 2xx or 3xx, C(unanswered) those of them that got no answer at
      all (refused, reset or timed out; vegeta's status code 0).
  returned: always
  type: dict
  sample:
    requests: 600
    rate: 20.0
    success: 0.9
    failed: 60
    unanswered: 0
    status_codes: {"200": 540, "500": 60}
    latency_ms: {p50: 3.1, p95: 7.9, p99: 12.4, max: 30.2}
    errors: ["500 Internal Server Error"]
checks:
  description: Every check with its queries, condition, counts and measurements.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The check's name.
      type: str
    query:
      description: The query as sent for the measured track.
      type: str
    baseline_query:
      description: The query as sent for the baseline track, null when the check does not compare.
      type: str
    condition:
      description: The threshold, for example C(>= 0.99).
      type: str
    phase:
      description: C(successful), C(failed), C(inconclusive) or C(error).
      type: str
    measurements:
      description: Each measurement's C(at) (seconds from the start), C(phase), C(value), C(baseline) and C(detail).
      type: list
      elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.vextrus.deploy.plugins.module_utils.analysis import (
    DEFAULT_LABELS,
    DEFAULT_SERVICE_METRICS,
    CheckError,
    builtin_checks,
    check_from_dict,
    query_values,
    run_analysis,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.args_common import analysis_gate_argspec
from ansible_collections.vextrus.deploy.plugins.module_utils.bearer_token import TokenError, secret_token
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import K8S_IMPORT_ERROR, K8sConnectionError
from ansible_collections.vextrus.deploy.plugins.module_utils.load import LoadError, LoadRun, load_spec
from ansible_collections.vextrus.deploy.plugins.module_utils.prometheus import PrometheusClient


def _load_options(params: dict, limit: float, no_log_values: set) -> dict:
    """The load option, with the bearer token minted from the Secret (bearer_token_secret) as a header."""
    spec = params["bearer_token_secret"]
    if not spec:
        return params["load"]
    token, values = secret_token({**spec, "ttl": max(spec["ttl"], int(limit) + 60)})
    no_log_values.update([token, *values])
    return {**params["load"], "headers": {**(params["load"]["headers"] or {}), "Authorization": f"Bearer {token}"}}


def _run(params: dict, check_mode: bool, no_log_values: set) -> dict:
    labels = {**DEFAULT_LABELS, **{k: v for k, v in (params["labels"] or {}).items() if v}}
    metrics = {**DEFAULT_SERVICE_METRICS, **{k: v for k, v in (params["service_metrics"] or {}).items() if v}}
    baseline_track = params["baseline_track"]

    def values(track: str) -> dict[str, str]:
        return query_values(
            namespace=params["namespace"], service=params["service"], track=track,
            window=params["window"], labels=labels, service_metrics=metrics,
        )

    checks = builtin_checks(params["builtin_checks"], params, compare=bool(baseline_track))
    checks += [check_from_dict(spec) for spec in params["checks"]]
    client = PrometheusClient(
        params["prometheus_url"],
        headers=params["prometheus_headers"],
        timeout=params["request_timeout"],
        validate_certs=params["validate_certs"],
        ca_path=params["ca_path"],
    )

    def analyse() -> dict:
        return run_analysis(
            checks,
            client.query,
            values=values(params["track"]),
            baseline_values=values(baseline_track) if baseline_track else None,
            count=1 if check_mode else params["count"],
            interval=0 if check_mode else params["interval"],
            initial_delay=0 if check_mode else params["initial_delay"],
            error_limit=params["error_limit"],
            policy=params["inconclusive_policy"],
        )

    if params["load"] and not check_mode:
        # the attack ends by itself a minute after the analysis would have ended, if nobody stops it
        limit = params["initial_delay"] + params["count"] * params["interval"] + 60
        with LoadRun(load_spec(_load_options(params, limit, no_log_values), max_seconds=limit)) as load:
            result = analyse()
        result["load"] = load.summary
    else:
        result = analyse()
        result["load"] = {}
    result["prometheus_url"] = client.url
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=analysis_gate_argspec(), supports_check_mode=True, required_by={"bearer_token_secret": "load"})
    if module.params["bearer_token_secret"] and K8S_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=K8S_IMPORT_ERROR)
    try:
        result = _run(module.params, module.check_mode, module.no_log_values)
    except (CheckError, LoadError, TokenError, K8sConnectionError, ValueError) as exc:
        module.fail_json(msg=f"The analysis cannot run: {exc}", verdict="ERROR")
    for message in result["inconclusive_passed"]:
        module.warn(message)
    msg = f"Analysis {result['verdict']}: {result['reason']}"
    if not result["passed"]:
        module.fail_json(msg=msg, changed=False, **result)
    module.exit_json(msg=msg, changed=False, **result)


if __name__ == "__main__":
    main()
