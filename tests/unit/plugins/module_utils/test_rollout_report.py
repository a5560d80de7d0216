"""The report's verdict is PASS only when every gate passed; secrets never reach it."""

import json

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_report import (
    ERROR,
    FAIL,
    applied_resources,
    MASK,
    PASS,
    ReportError,
    build_report,
    decide,
    render_markdown,
    scrub,
)

GATE_OK = {"changed": False, "failed": False, "elapsed": 4.2, "ready": {"finance-service-stable": "9/9"}}
GATE_CRASH = {
    "failed": True,
    "msg": "finance-service-canary: pod p-1 container finance: CrashLoopBackOff: Error: Cannot find module '@nestjs/core'",
    "reason": "CrashLoopBackOff",
    "pod": "p-1",
    "container": "finance",
    "exit_code": 1,
    "logs": ["node:internal/modules/cjs/loader:1228", "Error: Cannot find module '@nestjs/core'"],
    "elapsed": 3.1,
    "ready": {"finance-service-canary": "0/1"},
}
URL = {"url": "http://127.0.0.1:4000/health", "attempts": 3, "passed": True, "last_status": 200,
       "latency_ms": {"p50": 2.0, "p95": 3.5, "max": 4.0}}
SMOKE_OK = {"passed": True, "checks": [{"name": "health", "result": {"passed": True, "urls": [URL]}}]}
SMOKE_FAIL = {
    "passed": False,
    "checks": [
        {
            "name": "health",
            "result": {"failed": True, "passed": False, "msg": "503 from /health/ready", "urls": [dict(URL, passed=False, last_status=503)]},
        }
    ],
}
SKIPPED = {"skipped": True, "changed": False}


def _data(**overrides):
    data = {"environment": "local", "week": 2, "weight": 30, "image": "127.0.0.1:5000/vextrus/finance@sha256:" + "a" * 64,
            "service": "finance-service", "namespace": "vextrus-local", "gate": GATE_OK, "smoke": SMOKE_OK,
            "rollback": {"ran": False}, "resources": [{"kind": "Deployment", "name": "finance-service-canary", "changed": True}],
            "deployments": {"finance-service-canary": {"ready": "3/3", "image": "img"}}}
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "gate, smoke, rollback, verdict, reason",
    [
        (GATE_OK, SMOKE_OK, {"ran": False}, PASS, "every gate passed"),
        (GATE_OK, SMOKE_OK, None, PASS, "every gate passed"),
        (GATE_CRASH, SKIPPED, {"ran": True}, FAIL, "CrashLoopBackOff in pod p-1"),
        (None, None, None, ERROR, "rollout gate did not run"),
        (SKIPPED, SMOKE_OK, None, ERROR, "rollout gate did not run"),
        (GATE_OK, None, None, ERROR, "smoke test did not run"),
        (GATE_OK, SKIPPED, None, ERROR, "smoke test did not run"),
        (GATE_OK, SMOKE_FAIL, None, FAIL, "503 from /health/ready"),
        (GATE_OK, SMOKE_OK, {"ran": True}, ERROR, "a rollback ran"),
        ({"passed": True, "failed": True}, SMOKE_OK, None, ERROR, "rollout gate"),
    ],
)
def test_decide(gate, smoke, rollback, verdict, reason):
    got, why = decide(gate, smoke, rollback)
    assert got == verdict
    assert reason in why


@pytest.mark.parametrize(
    "gate, smoke, failure, reason",
    [
        (None, None, "Build the image: Cannot find module '@nestjs/core'", "rollout gate did not run: Build the image: Cannot find module"),
        (GATE_OK, SKIPPED, "Mint the token: Secret missing", "smoke test did not run: Mint the token"),
        (GATE_OK, SMOKE_OK, "Remove the canary: timeout", "Remove the canary: timeout"),
    ],
)
def test_a_failed_step_is_the_reason(gate, smoke, failure, reason):
    verdict, why = decide(gate, smoke, {"ran": False}, failure)
    assert verdict == ERROR
    assert why.startswith(reason) or reason in why


def test_report_quotes_the_crash():
    report = build_report(_data(gate=GATE_CRASH, smoke=SKIPPED, rollback={"ran": True, "summary": "canary removed"}))
    assert report["verdict"] == FAIL
    assert "Cannot find module '@nestjs/core'" in report["reason"]
    assert report["gate"]["logs"][-1] == "Error: Cannot find module '@nestjs/core'"
    markdown = render_markdown(report)
    assert "**FAIL**" in markdown
    assert "Error: Cannot find module '@nestjs/core'" in markdown
    assert "canary removed" in markdown


def test_pass_report_has_latencies_and_changes():
    report = build_report(_data())
    assert report["verdict"] == PASS
    assert report["smoke"]["checks"][0]["urls"][0]["p95_ms"] == 3.5
    assert report["resources"] == [{"kind": "Deployment", "name": "finance-service-canary", "changed": True}]
    markdown = render_markdown(report)
    assert "**PASS**" in markdown and "| Deployment/finance-service-canary | yes |" in markdown
    json.dumps(report)


@pytest.mark.parametrize(("analysis", "summary", "says"), [
    (None, {"ran": False}, "Did not run."),
    (SKIPPED, {"ran": False}, "Did not run."),
    ({"skipped": True, "judged": "the pods are those week 2 passed"}, {"ran": False, "judged": "the pods are those week 2 passed"},
     "Did not run: the pods are those week 2 passed."),
])
def test_an_analysis_that_did_not_run_says_why(analysis, summary, says):
    report = build_report(_data(analysis=analysis))
    assert report["verdict"] == PASS and report["analysis"] == summary
    lines = render_markdown(report).splitlines()
    assert lines[lines.index("## Traffic analysis") + 2] == says


@pytest.mark.parametrize(("judged", "says"), [
    ("", None),
    ("the pods are those week 2 passed", "One answer of each check, not several in a row: the pods are those week 2 passed."),
])
def test_a_smoke_test_of_judged_pods_says_why_it_asked_one_answer(judged, says):
    report = build_report(_data(smoke={**SMOKE_OK, "judged": judged}))
    assert report["verdict"] == PASS and report["smoke"]["passed"] is True
    assert report["smoke"].get("judged") == (judged or None)
    lines = render_markdown(report).splitlines()
    first = lines[lines.index("## Smoke test") + 2]
    assert first == (says or "| check | url | result | attempts | p50 ms | p95 ms |")


def test_secret_values_are_masked_and_secret_keys_dropped():
    secret = "jwt-signing-key-0123456789"
    gate = dict(GATE_CRASH, logs=[f"JWT_SECRET={secret}"], bearer_token=secret)
    report = build_report(_data(gate=gate, smoke=SKIPPED, extra={"password": secret}), secret_values=[secret])
    text = json.dumps(report) + render_markdown(report)
    assert secret not in text
    assert MASK in text


@pytest.mark.parametrize("value, expected", [
    ({"api_key": "x", "name": "n"}, {"name": "n"}),
    (["abcd-secret", ("abcd-secret",)], [MASK, [MASK]]),
    ({"Authorization": "Bearer x", "nested": {"client_secret": 1, "ok": 2}}, {"nested": {"ok": 2}}),
])
def test_scrub(value, expected):
    assert scrub(value, ["abcd-secret", "ab"]) == expected


@pytest.mark.parametrize("data, message", [
    ("text", "must be a mapping"),
    ({"week": 1, "image": "x"}, "lacks 'environment'"),
    ({"environment": "local", "week": 1}, "lacks 'image'"),
])
def test_bad_input(data, message):
    with pytest.raises(ReportError, match=message):
        build_report(data)


def test_applied_resources_from_loop_results():
    results = [
        {"changed": True, "result": {"kind": "Deployment", "metadata": {"name": "finance-service-canary"}}},
        {"changed": False, "ansible_loop_var": "m", "m": {"kind": "Service", "metadata": {"name": "finance-service"}}},
    ]
    assert applied_resources(results) == [
        {"kind": "Deployment", "name": "finance-service-canary", "changed": True},
        {"kind": "Service", "name": "finance-service", "changed": False},
    ]
    with pytest.raises(ReportError, match="looped kubernetes.core.k8s"):
        applied_resources([{"changed": True}])


def test_deployments_come_from_the_apply_and_the_gate():
    apply = {"stable": {"name": "s", "replicas": 1, "image": "old"}, "canary": {"name": "c", "replicas": 0, "image": ""}}
    report = build_report(_data(deployments=None, apply=apply, gate=dict(GATE_OK, ready={"s": "1/1"})))
    assert report["deployments"] == {"s": {"track": "stable", "replicas": 1, "ready": "1/1", "image": "old"}}


def test_a_week_report_says_week_and_carries_no_release_when_none_is_given():
    report = build_report(_data(gate=GATE_OK, smoke=SMOKE_OK))
    assert report["action"] == "week" and report["release"] == {}
    assert " week " in render_markdown(report).splitlines()[0]


@pytest.mark.parametrize("action", ["abort", "rollback"])
def test_abort_and_rollback_reports_name_their_action(action):
    report = build_report(_data(gate=GATE_OK, smoke=SMOKE_OK, action=action))
    assert report["action"] == action
    assert render_markdown(report).splitlines()[0].endswith(f"{action} (week {report['week']}): **PASS**")


def test_a_forced_run_is_marked_in_the_report():
    release = {"number": 2, "new_release": False, "forced": True, "refusal": "week 3 needs week 2 passed",
               "previous_stable": "", "by": "awx job 7 (ops)"}
    report = build_report(_data(gate=GATE_OK, smoke=SMOKE_OK, release=release))
    assert report["release"] == {"number": 2, "new_release": False, "forced": True,
                                 "refusal": "week 3 needs week 2 passed", "by": "awx job 7 (ops)"}
    markdown = render_markdown(report)
    assert "| FORCED | over: week 3 needs week 2 passed |" in markdown
    assert "| run by | awx job 7 (ops) |" in markdown and "| release | 2 |" in markdown


GATE_UNSCHEDULABLE = {
    "failed": True,
    "msg": "rollout of Deployment vextrus-local/finance-service-canary failed: pod finance-service-canary-7dc5-gs9p4 "
           "(ReplicaSet finance-service-canary-7dc5) is Unschedulable for 60 s (grace 60 s): 0/4 nodes are available: "
           "1 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector.; ready 0/1 after 60.2 s",
    "reason": "Unschedulable",
    "pod": "finance-service-canary-7dc5-gs9p4",
    "container": None,
    "exit_code": None,
    "restart_count": None,
    "logs": [],
    "log_source": "",
    "elapsed": 60.2,
    "ready": {"finance-service-canary": "0/1"},
}


def test_report_of_an_unschedulable_pod():
    report = build_report(_data(gate=GATE_UNSCHEDULABLE, smoke=SKIPPED))
    assert (report["verdict"], report["cause"]) == (ERROR, "unschedulable")
    assert report["reason"].startswith("rollout gate: Unschedulable in pod finance-service-canary-7dc5-gs9p4: ")
    assert "3 node(s) didn't match Pod's node affinity/selector" in report["reason"]
    markdown = render_markdown(report)
    assert "- reason: Unschedulable" in markdown
    assert "- pod: finance-service-canary-7dc5-gs9p4" in markdown
    assert "- message: rollout of Deployment vextrus-local/finance-service-canary failed: " in markdown
    assert "1 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector" in markdown
    assert "- container:" not in markdown and "- exit code:" not in markdown  # nothing ran, nothing to show
    assert "```" not in markdown
    crash = render_markdown(build_report(_data(gate=GATE_CRASH, smoke=SKIPPED)))
    assert "- container: finance" in crash and "- exit code: 1" in crash


OUTAGE = {"started": "2026-12-03T15:31:07Z", "seconds": 11.4, "error": "MaxRetryError (NewConnectionError)", "ended": True}


def test_the_api_outages_the_gate_rode_out_are_in_the_report():
    report = build_report(_data(gate={**GATE_OK, "api_outages": [OUTAGE]}))
    assert report["verdict"] == PASS and report["gate"]["api_outages"] == [OUTAGE]
    markdown = render_markdown(report)
    assert "- API outage: 11.4 s from 2026-12-03T15:31:07Z, MaxRetryError (NewConnectionError)\n" in markdown
    assert "API outage" not in render_markdown(build_report(_data()))


def test_an_api_outage_that_outlasted_the_gate_is_an_error():
    gate = {"failed": True, "reason": "ApiUnavailable", "msg": "the Kubernetes API has been unavailable since ...",
            "deployment": "finance-service-canary", "api_outages": [{**OUTAGE, "seconds": 290.0, "ended": False}],
            "elapsed": 300.0, "ready": {"finance-service-canary": "0/1"}}
    report = build_report(_data(gate=gate, smoke=SKIPPED))
    assert (report["verdict"], report["cause"]) == (ERROR, "api")
    assert "- API outage: 290.0 s from 2026-12-03T15:31:07Z, MaxRetryError (NewConnectionError), not over when the gate ended" \
        in render_markdown(report)
