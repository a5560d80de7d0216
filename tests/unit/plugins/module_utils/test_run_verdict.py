"""The verdict is decided once (run_verdict), before the report and the record take it, in one of three
classes: PASS, FAIL (the release is at fault) and ERROR (the environment or the configuration is)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vextrus.deploy.plugins.filter.run_verdict import FilterModule
from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_report import (
    CAUSES,
    ERROR,
    FAIL,
    GATE_REASONS,
    PASS,
    STEPS,
    ReportError,
    build_report,
    classify,
    decide,
    render_markdown,
    run_verdict,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_status import FAILING_WAITING_REASONS

GATE_OK = {"failed": False, "elapsed": 4.2, "ready": {"finance-service-stable": "2/2"}}
SMOKE_OK = {"passed": True, "checks": [{"name": "health", "result": {"passed": True}}]}
URL = {"url": "http://127.0.0.1:4000/health", "attempts": 3, "passed": False, "last_status": 503}
SMOKE_FAIL = {"passed": False,
              "checks": [{"name": "health", "result": {"failed": True, "msg": "503 from /health", "urls": [URL]}}]}
SMOKE_NO_PROBE = {"passed": False, "checks": []}
# smoke_checks.unreached: the port-forward could not start, the first check failed without probing
SMOKE_UNREACHED = {"passed": False, "msg": "smoke check 'health' failed: no pod to forward to",
                   "checks": [{"name": "health", "result": {"failed": True, "msg": "no pod to forward to"}},
                              {"name": "readiness", "result": {"skipped": True}}]}
SKIPPED = {"skipped": True}
# analysis_gate's results
ANALYSIS_OK = {"verdict": "PASS", "passed": True, "reason": "", "checks": []}
ANALYSIS_FAIL = {"failed": True, "verdict": "FAIL", "passed": False, "msg": "Analysis FAIL: check success_rate failed",
                 "reason": "check success_rate failed in 1 of 1 measurements (failure limit 0): 0.9 is not >= 0.99"}
ANALYSIS_ERROR = {"failed": True, "verdict": "ERROR", "passed": False,
                  "reason": "check success_rate could not be measured: http://127.0.0.1:9090 did not answer"}
ANALYSIS_STEP = ("Judge the canary by its traffic", "analysis", "vextrus.deploy.analysis_gate")
BASE = {"environment": "local", "week": 2, "image": "img"}


def gate(reason=None, msg="rollout of Deployment ns/finance-service-canary failed"):
    return {"failed": True, "msg": msg, "elapsed": 3.0, **({"reason": reason} if reason else {}), "pod": "p-1"}


def step(task, step_name, action="ansible.builtin.include_role", msg="it failed", status=None, **more):
    return {"task": task, "action": action, "msg": msg, "status": status, "step": step_name, **more}


# (what happened, results) -> verdict, cause
TABLE = [
    ("pass", {"gate": GATE_OK, "smoke": SMOKE_OK}, PASS, "pass"),
    ("crash", {"gate": gate("CrashLoopBackOff"), "smoke": SKIPPED}, FAIL, "crash"),
    ("restarts", {"gate": gate("RestartLimitExceeded"), "smoke": SKIPPED}, FAIL, "crash"),
    ("entrypoint", {"gate": gate("RunContainerError")}, FAIL, "crash"),
    ("oom", {"gate": gate("OOMKilled")}, FAIL, "oom"),
    ("image pull", {"gate": gate("ImagePullBackOff")}, FAIL, "image-pull"),
    ("image pull error", {"gate": gate("ErrImagePull")}, FAIL, "image-pull"),
    ("image name", {"gate": gate("InvalidImageName")}, FAIL, "image-pull"),
    ("never ready", {"gate": gate("Timeout")}, FAIL, "not-ready"),
    ("progress deadline", {"gate": gate("ProgressDeadlineExceeded")}, FAIL, "not-ready"),
    ("smoke", {"gate": GATE_OK, "smoke": SMOKE_FAIL,
               "failure": step("Fail when the service did not answer as expected", "smoke", "ansible.builtin.fail")},
     FAIL, "smoke"),
    ("analysis pass", {"gate": GATE_OK, "analysis": ANALYSIS_OK, "smoke": SMOKE_OK}, PASS, "pass"),
    ("analysis not configured", {"gate": GATE_OK, "analysis": SKIPPED, "smoke": SMOKE_OK}, PASS, "pass"),
    ("analysis fail", {"gate": GATE_OK, "analysis": ANALYSIS_FAIL, "smoke": None,
                       "failure": step(*ANALYSIS_STEP, msg=ANALYSIS_FAIL["msg"])}, FAIL, "analysis"),
    ("analysis error", {"gate": GATE_OK, "analysis": ANALYSIS_ERROR, "smoke": None,
                        "failure": step(*ANALYSIS_STEP, msg="Analysis ERROR")}, ERROR, "analysis-setup"),
    ("analysis cannot run", {"gate": GATE_OK, "analysis": {"failed": True, "verdict": "ERROR", "msg": "The analysis cannot run: x"},
                             "failure": step(*ANALYSIS_STEP, msg="The analysis cannot run: x")}, ERROR, "analysis-setup"),
    ("gate before analysis", {"gate": gate("OOMKilled"), "analysis": None}, FAIL, "oom"),
    ("verification", {"gate": None, "failure": step("Decide whether the image passed", "build",
                                                    "vextrus.deploy.image_verify", "the image crashed")},
     FAIL, "verification"),
    ("missing secret key in the pods", {"gate": gate("CreateContainerConfigError")}, ERROR, "secrets"),
    ("container runtime", {"gate": gate("CreateContainerError")}, ERROR, "container-runtime"),
    ("no room on any node", {"gate": gate("Unschedulable")}, ERROR, "unschedulable"),
    ("node lost", {"gate": gate("NodeLost")}, ERROR, "node-lost"),
    ("API away when the gate timed out", {"gate": gate("ApiUnavailable")}, ERROR, "api"),
    ("unknown gate reason", {"gate": gate("SomethingNew")}, ERROR, "internal"),
    ("gate could not watch", {"gate": gate(msg="cannot list the pods of Deployment ns/x: 503 Service Unavailable")},
     ERROR, "api"),
    ("gate forbidden", {"gate": gate(msg="cannot list the pods of Deployment ns/x: 403 Forbidden")}, ERROR, "rbac"),
    ("secret of the wrong type", {"gate": None, "failure": step("Check the secret values", "secrets",
                                                                "ansible.builtin.assert", "JWT_SECRET must be a string")},
     ERROR, "secrets"),
    ("secrets dry-run refused", {"gate": None, "failure": step("Dry-run the Secret and the checksum key on the API server",
                                                               "secrets", "kubernetes.core.k8s", "Invalid value", 422)},
     ERROR, "dry-run"),
    ("manifests dry-run refused", {"gate": None, "failure": step("Dry-run every manifest on the API server", "apply",
                                                                 "kubernetes.core.k8s", "admission webhook denied", 400)},
     ERROR, "dry-run"),
    ("forbidden apply", {"gate": None, "failure": step("Apply the manifests (server-side apply)", "apply",
                                                       "kubernetes.core.k8s", "Forbidden", 403)}, ERROR, "rbac"),
    ("forbidden without status", {"gate": None, "failure": step("Look up the service account", "apply",
                                                                "kubernetes.core.k8s_info", "secrets is forbidden")},
     ERROR, "rbac"),
    ("api 5xx", {"gate": None, "failure": step("Apply the manifests (server-side apply)", "apply",
                                               "kubernetes.core.k8s", "Internal error", 500)}, ERROR, "api"),
    ("api throttled", {"gate": None, "failure": step("Apply the manifests (server-side apply)", "apply",
                                                     "kubernetes.core.k8s", "Too many requests", 429)}, ERROR, "api"),
    ("missing CRD", {"gate": None, "failure": step("Apply the manifests (server-side apply)", "apply",
                                                   "kubernetes.core.k8s", "the server could not find the resource", 404)},
     ERROR, "api"),
    ("api unreachable", {"gate": None, "failure": step("Look for the PrometheusRule CRD", "apply",
                                                       "kubernetes.core.k8s_info", "connection refused")}, ERROR, "api"),
    ("vault", {"gate": None, "failure": step("Read the secret values", "secrets", "ansible.builtin.set_fact",
                                             "Decryption failed (no vault secrets were found that could decrypt)")},
     ERROR, "vault"),
    ("secret key missing before apply", {"gate": None, "failure": step("Fail when the Secret lacks keys the pods need",
                                                                       "apply", "ansible.builtin.fail", "lacks X")},
     ERROR, "config"),
    ("build", {"gate": None, "failure": step("Build the image with the content tag", "build",
                                             "community.docker.docker_image_build", "no space left on device")},
     ERROR, "build"),
    ("registry down in push", {"gate": None, "failure": step("Push the content tag", "build",
                                                             "community.docker.docker_image_push", "connection refused")},
     ERROR, "build"),
    ("refused by the guard", {"gate": None, "failure": step("Guard the promotion", "guard", "ansible.builtin.fail",
                                                            "Refused, nothing was written")}, ERROR, "refused"),
    ("lease held", {"gate": None, "failure": step("Take the run's lease", "build", "vextrus.deploy.run_lease",
                                                  "run lock held by user ana on host1 (pid 7) since 2026-12-03T14:00:00Z")},
     ERROR, "lock-held"),
    ("lease held, by message only", {"gate": None, "failure": "Take the run's lease: run lock held by awx job 3 (admin)"},
     ERROR, "lock-held"),
    ("lease unreadable", {"gate": None, "failure": step("Take the run's lease", "guard", "vextrus.deploy.run_lease",
                                                        "cannot read Lease ns/finance-service-rollout: 503")},
     ERROR, "api"),
    ("interrupted", {"gate": None, "failure": step("Find an interrupted run", "apply", "ansible.builtin.fail",
                                                   "run 7 was interrupted", cause="interrupted")}, ERROR, "interrupted"),
    ("smoke could not probe", {"gate": GATE_OK, "smoke": SMOKE_NO_PROBE,
                               "failure": step("Fail when the service did not answer as expected", "smoke",
                                               "ansible.builtin.fail", "port-forward failed")}, ERROR, "smoke-setup"),
    ("smoke port-forward", {"gate": GATE_OK, "smoke": SMOKE_UNREACHED,
                            "failure": step("Fail when the service did not answer as expected", "smoke",
                                            "ansible.builtin.fail", "smoke test failed: no pod to forward to")},
     ERROR, "smoke-setup"),
    ("smoke token", {"gate": GATE_OK, "smoke": None,
                     "failure": step("Read the signing key", "smoke", "kubernetes.core.k8s_info", "not found", 404)},
     ERROR, "api"),
    ("canary removal", {"gate": GATE_OK, "smoke": SMOKE_OK,
                        "failure": step("Remove the canary Deployment", "finish", "kubernetes.core.k8s", "timeout", 504)},
     ERROR, "api"),
    ("corrupt record", {"failure": step("Parse the record", "read", "ansible.builtin.set_fact",
                                        "ConfigMap finance-service-release key 'release.json' is not valid JSON")},
     ERROR, "config"),
    ("record unreadable", {"failure": step("Read the record", "read", "kubernetes.core.k8s_info", "connection refused")},
     ERROR, "api"),
    ("record unreadable, read_objects", {"failure": step("Read the record, the Deployments and the HPA", "read",
                                                         "vextrus.deploy.read_objects", "cannot reach the Kubernetes API")},
     ERROR, "api"),
    ("record forbidden, read_objects", {"failure": step("Read the record, the Deployments and the HPA", "read",
                                                        "vextrus.deploy.read_objects",
                                                        "cannot read ConfigMap ns/finance-service-release: 403 Forbidden")},
     ERROR, "rbac"),
    ("unexpected task", {"gate": None, "failure": step("Set the internal variables", "apply", "ansible.builtin.set_fact",
                                                       "'dict object' has no attribute 'x'")}, ERROR, "internal"),
    ("nothing ran, no failure", {}, ERROR, "internal"),
    ("a rollback ran with no failure", {"gate": GATE_OK, "smoke": SMOKE_OK, "rollback": {"ran": True}}, ERROR, "internal"),
]


@pytest.mark.parametrize(("results", "verdict", "cause"), [row[1:] for row in TABLE], ids=[row[0] for row in TABLE])
def test_the_class_and_cause_of_each_outcome(results, verdict, cause):
    got = run_verdict(results)
    assert (got["verdict"], got["cause"]) == (verdict, cause), got
    assert CAUSES[cause] == verdict
    assert got["reason"]
    decided = decide(results.get("gate"), results.get("smoke"), results.get("rollback") or {"ran": False},
                     results.get("failure"), results.get("analysis"))
    assert (got["verdict"], got["reason"]) == decided


@pytest.mark.parametrize(("results", "says"), [
    ({"gate": GATE_OK, "smoke": SMOKE_OK}, "every gate passed"),
    ({"gate": None, "failure": "Build: no space left"}, "the rollout gate did not run: Build: no space left"),
    ({"gate": None, "failure": step("Apply the Secret", "secrets", msg=["JWT_SECRET", "is not a string"])},
     "the rollout gate did not run: Apply the Secret: JWT_SECRET is not a string"),
    ({"gate": gate("OOMKilled", "container api was killed")}, "rollout gate: OOMKilled in pod p-1: container api was killed"),
    ({"gate": GATE_OK, "smoke": SMOKE_FAIL}, "smoke test: health: 503 from /health"),
    ({"gate": GATE_OK, "smoke": SMOKE_NO_PROBE, "failure": "Probe: port-forward to svc/x failed"},
     "smoke test could not probe the service: Probe: port-forward to svc/x failed"),
    ({}, "the rollout gate did not run"),
    ({"gate": GATE_OK, "analysis": ANALYSIS_FAIL},
     "traffic analysis: check success_rate failed in 1 of 1 measurements (failure limit 0): 0.9 is not >= 0.99"),
    ({"gate": GATE_OK, "analysis": ANALYSIS_ERROR},
     "traffic analysis could not judge the release: check success_rate could not be measured: http://127.0.0.1:9090 did not answer"),
])
def test_the_reason_says_what_happened(results, says):
    assert run_verdict(results)["reason"] == says


def test_the_failed_step_is_returned_as_text():
    got = run_verdict({"failure": step("Apply the Secret", "secrets", "kubernetes.core.k8s", "bad", 422)})
    assert got["failure"] == "Apply the Secret: bad"
    assert run_verdict({"gate": GATE_OK, "smoke": SMOKE_OK})["failure"] == ""


def test_every_reason_the_gate_gives_has_a_class():
    reasons = set(FAILING_WAITING_REASONS) | {"OOMKilled", "RestartLimitExceeded", "Unschedulable",
                                              "ProgressDeadlineExceeded", "Timeout", "ApiUnavailable"}
    assert reasons <= set(GATE_REASONS)
    assert set(CAUSES.values()) == {PASS, FAIL, ERROR}
    assert STEPS.index("guard") < STEPS.index("secrets") < STEPS.index("apply") < STEPS.index("gate") < STEPS.index("analysis") < STEPS.index("smoke")


@pytest.mark.parametrize("failure", [42, ["task", "msg"]])
def test_a_failed_step_of_another_type_is_an_error(failure):
    with pytest.raises(ReportError, match="the failed step must be a mapping"):
        classify(None, None, None, failure)


def test_the_report_takes_the_verdict_it_is_given():
    given = run_verdict({"gate": GATE_OK, "smoke": SMOKE_OK})
    report = build_report({**BASE, "gate": GATE_OK, "smoke": SMOKE_OK, **given})
    assert (report["verdict"], report["reason"], report["cause"]) == (PASS, "every gate passed", "pass")
    # without one it decides the same way
    assert build_report({**BASE, "gate": GATE_OK, "smoke": SMOKE_OK})["verdict"] == PASS
    with pytest.raises(ReportError, match="verdict must be PASS, FAIL, ERROR"):
        build_report({**BASE, "verdict": "OK"})


def test_the_report_carries_an_error_and_its_cause():
    failure = step("Dry-run every manifest on the API server", "apply", "kubernetes.core.k8s", "denied", 400)
    given = run_verdict({"gate": None, "failure": failure})
    report = build_report({**BASE, "gate": None, **given})
    assert (report["verdict"], report["cause"]) == (ERROR, "dry-run")
    assert report["failure"] == "Dry-run every manifest on the API server: denied"
    markdown = render_markdown(report)
    assert "**ERROR**" in markdown
    assert "Verdict ERROR (the environment or the configuration is at fault), cause `dry-run`." in markdown


def test_the_filter():
    run = FilterModule().filters()["run_verdict"]
    assert run({"gate": GATE_OK, "smoke": SMOKE_OK})["verdict"] == PASS
    with pytest.raises(AnsibleFilterError, match="must be a mapping"):
        run("PASS")
    with pytest.raises(AnsibleFilterError, match="the failed step must be"):
        run({"failure": 3})


def test_the_report_has_a_table_of_every_checks_measurements_and_the_load():
    checks = [
        {"name": "success_rate", "condition": ">= 0.99", "max_delta": 0.01, "max_factor": None, "phase": "failed",
         "query": 'sum(rate(http_requests_total{track="canary"}[10s]))', "baseline_query": "q2",
         "measurements": [{"at": 0.0, "phase": "failed", "value": 0.8967, "baseline": 1.0, "detail": "d", "series": []}]},
        {"name": "latency_p99", "condition": "<= 0.5s", "max_delta": None, "max_factor": 1.5, "phase": "running",
         "query": "q3|x", "measurements": []},
    ]
    load = {"requests": 300, "rate": 20.0, "failed": 31, "latency_ms": {"p50": 2.0, "p99": 9.5}, "errors": ["500 Internal Server Error"]}
    analysis = {**ANALYSIS_FAIL, "elapsed": 12.3, "prometheus_url": "http://127.0.0.1:9090", "inconclusive_passed": [],
                "load": load, "checks": checks}
    given = run_verdict({"gate": GATE_OK, "analysis": analysis, "smoke": None})
    report = build_report({**BASE, "gate": GATE_OK, "analysis": analysis, "smoke": None, **given})
    assert (report["verdict"], report["cause"]) == (FAIL, "analysis")
    summary = report["analysis"]
    assert summary["ran"] and summary["verdict"] == FAIL and summary["load"]["failed"] == 31
    assert summary["checks"][0]["condition"] == ">= 0.99, at most 0.01 worse than the baseline"
    assert summary["checks"][1]["condition"] == "<= 0.5s, at most 1.5 x the baseline"
    assert "series" not in summary["checks"][0]["measurements"][0]
    markdown = render_markdown(report)
    assert "## Traffic analysis" in markdown
    assert ("FAIL after 12.3 s, Prometheus http://127.0.0.1:9090: check success_rate failed in 1 of 1 measurements "
            "(failure limit 0): 0.9 is not >= 0.99") in markdown
    assert "Load: 300 requests at 20.0/s, 31 not 2xx/3xx, p50 2.0 ms, p99 9.5 ms; errors: 500 Internal Server Error." in markdown
    assert ("| success_rate | >= 0.99, at most 0.01 worse than the baseline | failed | 0.8967 (baseline 1) failed | "
            "`sum(rate(http_requests_total{track=\"canary\"}[10s]))` |") in markdown
    assert "| latency_p99 | <= 0.5s, at most 1.5 x the baseline | running | - | `q3\\|x` |" in markdown
    # a run without the analysis says so
    assert "## Traffic analysis\n\nDid not run." in render_markdown(build_report({**BASE, "gate": GATE_OK, "smoke": SMOKE_OK}))
