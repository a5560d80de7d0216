"""The traffic analysis in the chain, on the real node, against the local Prometheus that `make cluster-up`
starts (pods discovered through the API server, the rules file the chain writes loaded) and the load the
chain sends itself (vegeta through the Service's ClusterIP):

- the example service passes week 1 and week 2 with its figures in the report; week 2 run again, with nothing to
  change, is not judged again (the pods are those the analysis passed);
- a release that answers 500 to one API request in ten - /health still fine, so the gate and the smoke test
  would pass it - fails week 2 on the success rate, the report quoting the measured value, and the week is
  rolled back to week 1;
- a release that adds 800 ms to every API request fails on the p99 latency;
- metrics-server serves the service's pods (`kubectl top pods`).

The images of the faults are the example's with one clearly named change (tests/fixtures/faults)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from chainkit import CANARY, REAL_NODE, SERVICE, STABLE, hpa_bounds, read_deployment, release_record, run_week, track_state

# more CPU than the other chain tests ask for, so that the HPA (live with metrics-server, target 65 %) does not
# scale stable up under the analysis' load as a matter of course
ANALYSED = {**REAL_NODE, "rollout_analysis_enabled": True,
            "resource_apply_resources": {"requests": {"cpu": "100m", "memory": "96Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}}


def _analysis(report: dict[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    analysis = report["analysis"]
    assert analysis["ran"], report
    return analysis, {check["name"]: check for check in analysis["checks"]}


def _week1(ns: str, image: str, vault: Path, out: Path) -> dict[str, Any]:
    week1 = run_week(1, ns, out, vault, {**ANALYSED, "rollout_image": image})
    assert week1.rc == 0 and week1.report and week1.report["verdict"] == "PASS", week1.tail()
    return week1.report


def _smoke_attempts(report: dict) -> dict[str, int]:
    """The requests each smoke check made (its URLs' attempts), by check name."""
    return {check["name"]: sum(url["attempts"] for url in check["urls"]) for check in report["smoke"]["checks"]}


def test_the_example_passes_weeks_1_and_2_with_its_figures_in_the_report(
    good_image: str, another_good_image: Callable[[str], str], new_namespace: Callable[[str], str],
    chain_vault: Path, tmp_path: Path, k8s_client: client.ApiClient,
) -> None:
    ns = new_namespace("analysis-pass")
    report = _week1(ns, good_image, chain_vault, tmp_path / "week1")
    analysis, checks = _analysis(report)
    assert analysis["verdict"] == "PASS" and not analysis["inconclusive_passed"], analysis
    load = analysis["load"]
    # /health and the API with the load's token: every answer 200, no connection error
    assert load["requests"] > 300 and load["status_codes"] == {"200": load["requests"]}, load
    for measurement in checks["success_rate"]["measurements"]:
        assert measurement["phase"] == "successful" and measurement["value"] == 1.0 == measurement["baseline"], measurement
    for measurement in checks["latency_p99"]["measurements"]:
        assert measurement["phase"] == "successful" and 0 < measurement["value"] < 0.5, measurement
    assert checks["alerts"]["phase"] == "successful"

    week2 = run_week(2, ns, tmp_path / "week2", chain_vault, ANALYSED)
    assert week2.rc == 0 and week2.report and week2.report["verdict"] == "PASS", week2.tail()
    analysis, checks = _analysis(week2.report)
    assert analysis["verdict"] == "PASS", analysis
    assert 'track="canary"' in checks["success_rate"]["query"] and 'track="stable"' in checks["success_rate"]["baseline_query"]
    assert week2.report_path is not None
    markdown = week2.report_path.with_suffix(".md").read_text()
    assert "## Traffic analysis" in markdown and "| success_rate | >= 0.99, at most 0.01 worse than the baseline | successful |" in markdown
    # new pods: the smoke test's health check asks three answers in a row
    assert "judged" not in week2.report["smoke"], week2.report["smoke"]
    assert _smoke_attempts(week2.report)["health"] >= 3, week2.report["smoke"]

    # week 2 again: its apply leaves the pods the analysis just passed as they are, so no new pods to judge - the
    # record says which run judged them, and the report why the analysis did not run; the gate and the smoke test do
    record = release_record(k8s_client, ns)
    assert record["runs"][-1]["analysed"] is True, record["runs"][-1]
    again = run_week(2, ns, tmp_path / "week2-again", chain_vault, ANALYSED)
    assert again.rc == 0 and again.report and again.report["verdict"] == "PASS", again.tail()
    assert "changed=0" in again.output.split("PLAY RECAP")[-1], again.tail()
    assert again.report["analysis"] == {
        "ran": False,
        "judged": f"the pods are those week 2 passed its traffic analysis with this digest ({record['runs'][-1]['finished']}); "
                  "this run changed no Deployment"}, again.report["analysis"]
    assert again.report["gate"]["passed"] and again.report["smoke"]["passed"], again.report
    # the smoke test still probes the live pods, one answer of each check: they showed their stability under load
    assert again.report["smoke"]["judged"] == again.report["analysis"]["judged"], again.report["smoke"]
    assert set(_smoke_attempts(again.report).values()) == {1}, again.report["smoke"]
    assert release_record(k8s_client, ns)["runs"][-1]["analysed"] is True


@pytest.mark.parametrize(
    ("fault", "check", "measured"),
    [
        # one in ten of its API requests: between 5 % (half the load is /health) and 10 % of the canary's requests fail
        ("errors-10pct", "success_rate",
         re.compile(r"check success_rate failed in \d of \d measurements \(failure limit 0\): 0\.[89]\d* is not >= 0\.99")),
        # half the canary's requests take 0.8 s and more: its p99 lies in the histogram's (0.5 s, 1 s] bucket or above
        ("latency-800ms", "latency_p99",
         re.compile(r"check latency_p99 failed in \d of \d measurements \(failure limit 0\): (0\.[6-9]|[12]\.)\d*s")),
    ],
    ids=["errors-10pct", "latency-800ms"],
)
def test_a_faulty_release_fails_week_2_on_its_traffic_and_is_rolled_back(
    fault: str, check: str, measured: re.Pattern[str], good_image: str, fault_image: Callable[[str], str],
    new_namespace: Callable[[str], str], k8s_client: client.ApiClient, chain_vault: Path, tmp_path: Path, wait: Any,
) -> None:
    ns = new_namespace(f"analysis-{fault}")
    _week1(ns, good_image, chain_vault, tmp_path / "week1")
    before, bounds = track_state(k8s_client, ns), hpa_bounds(k8s_client, ns)
    faulty = fault_image(fault)

    week2 = run_week(2, ns, tmp_path / "week2", chain_vault, {**ANALYSED, "rollout_image": faulty, "rollout_force": True})
    assert week2.rc == 2, week2.tail()
    report = week2.report
    assert report is not None, week2.tail()
    assert (report["verdict"], report["cause"]) == ("FAIL", "analysis"), week2.tail()
    assert measured.search(report["reason"]), report["reason"]
    assert "query: " in report["reason"]
    # the gate passed: only the traffic shows the fault
    assert report["gate"]["passed"], report["gate"]
    analysis, checks = _analysis(report)
    assert analysis["verdict"] == "FAIL" and checks[check]["phase"] == "failed", analysis
    if fault == "errors-10pct":
        assert analysis["load"]["status_codes"].get("500", 0) > 0, analysis["load"]
    assert report["smoke"] == {"ran": False}
    last = week2.last_lines(30)
    assert "Week 2 FAILED: traffic analysis: check " in last and "Cause: analysis." in last, week2.tail()

    # rolled back: week 1 serves again. Each track on its image and each HPA with week 1's bounds; the replicas
    # are the HPAs' (live with metrics-server) within those bounds: stable's may grow under the load and shrink
    # once it ends, below what it was when week 1 ended, and an HPA sync that read the week-2 bounds just before
    # the restore may write once more, so the counts are read until they are within the bounds (the canary's
    # bounds are 1-1 at week 1: its count as before)
    rollback = report["rollback"]
    assert rollback["ran"] and rollback["healthy"], rollback
    after = track_state(k8s_client, ns)
    assert {track: state["image"] for track, state in after.items()} == {track: state["image"] for track, state in before.items()}
    assert hpa_bounds(k8s_client, ns) == bounds
    limits = {value["target"]: value["bounds"] for value in bounds.values()}
    assert limits[CANARY] == (before["canary"]["replicas"],) * 2, limits

    counts: dict[str, int] = {}

    def counts_within_bounds() -> bool:
        counts.update({name: read_deployment(k8s_client, ns, name).spec.replicas for name in (STABLE, CANARY)})
        return all(low <= counts[name] <= high for name, (low, high) in limits.items())

    try:
        wait(counts_within_bounds, timeout=60, message=f"each track's replicas within its HPA's bounds {limits}")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; the replicas read last: {counts}; after week 1: {before}") from None


def test_metrics_server_serves_the_service_pods(
    good_image: str, new_namespace: Callable[[str], str], k8s_client: client.ApiClient, chain_vault: Path,
    tmp_path: Path, wait: Any,
) -> None:
    ns = new_namespace("analysis-top")
    run = run_week(1, ns, tmp_path / "week1", chain_vault, {**REAL_NODE, "rollout_image": good_image})
    assert run.rc == 0, run.tail()
    metrics = client.CustomObjectsApi(k8s_client)

    def pods_with_usage() -> list[dict[str, Any]]:
        items = metrics.list_namespaced_custom_object("metrics.k8s.io", "v1beta1", ns, "pods")["items"]
        return [item for item in items if item["metadata"]["name"].startswith(SERVICE)]

    wait(lambda: len(pods_with_usage()) == 2, timeout=90, message="metrics of both pods from metrics.k8s.io")
    for item in pods_with_usage():
        usage = item["containers"][0]["usage"]
        assert usage["memory"].endswith("Ki") and int(usage["memory"][:-2]) > 10_000, item
