"""The API server restarts in the middle of a week (localcluster/apiserver.sh restart: stopped, down
for eight seconds, started again), once while the gate watches a slow-starting rollout and once right
as the apply starts. Both weeks still pass: the gate lists its objects again after the outage and
its result (and the report) shows the outage; the role's reads and server-side applies try again
(retries/until with the api_transient filter).

Restarting kube-apiserver breaks every other run against the cluster: these tests run alone
(marker serial)."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from chainkit import CANARY, REAL_NODE, ROOT, SERVICE, live_pods, pod_ready, run_week
from clusterkit import exists
from playbookrun import WeekRun

pytestmark = pytest.mark.serial

DOWN_SECONDS = 8
# /health/ready answers 503 this long after the service listens: the gate is still waiting for the
# new pods when the API server goes away, and they become ready only after it is back
STARTUP_DELAY_MS = 45000


def _restart_apiserver() -> float:
    """localcluster/apiserver.sh restart: the seconds from the stop until /readyz answered again."""
    started = time.monotonic()
    subprocess.run(
        ["bash", str(ROOT / "localcluster" / "apiserver.sh"), "restart", str(DOWN_SECONDS)],
        check=True, capture_output=True, text=True, timeout=120,
    )
    return time.monotonic() - started


Restart = Callable[[str, dict[str, Any], Callable[[str], bool]], tuple[WeekRun, float]]


@pytest.fixture
def week_with_a_restart(
    good_image: str, new_namespace: Callable[[str], str], chain_vault: Path, tmp_path: Path
) -> Restart:
    """week_with_a_restart(label, extra, ready) -> (the WeekRun, seconds the API server was away):
    week 1 of the session's good image in a new namespace, run in a thread, and the API server
    restarted once ready(namespace) is true (polled every 0.2 s; the test fails if the week ends first)."""

    def run(label: str, extra: dict[str, Any], ready: Callable[[str], bool]) -> tuple[WeekRun, float]:
        ns = new_namespace(label)
        done: list[WeekRun] = []
        values = {**REAL_NODE, "rollout_image": good_image, **extra}
        thread = threading.Thread(
            target=lambda: done.append(run_week(1, ns, tmp_path / "report", chain_vault, values)), name="week", daemon=True
        )
        thread.start()
        try:
            deadline = time.monotonic() + 600
            while thread.is_alive() and not ready(ns):
                assert time.monotonic() < deadline, "the moment for the restart did not come within 600 s"
                time.sleep(0.2)
            assert thread.is_alive(), f"the week ended before the restart:\n{done[0].tail() if done else ''}"
            outage = _restart_apiserver()
        finally:
            thread.join(timeout=1200)
            # whatever happened, the cluster keeps its API server (a no-op when it runs)
            subprocess.run(["bash", str(ROOT / "localcluster" / "apiserver.sh"), "start"], check=True, timeout=240)
        assert done, "the week did not end within 20 minutes"
        return done[0], outage

    return run


def _prometheus_rules(k8s_client: client.ApiClient) -> bool:
    """Whether the cluster has the PrometheusRule API (resource_apply applies a rule last when it has)."""
    return exists(lambda: client.ApiextensionsV1Api(k8s_client).read_custom_resource_definition(
        "prometheusrules.monitoring.coreos.com"))


def test_an_api_server_restart_during_the_gate_is_ridden_out(
    week_with_a_restart: Restart, k8s_client: client.ApiClient
) -> None:
    networking = client.NetworkingV1Api(k8s_client)
    custom = client.CustomObjectsApi(k8s_client)
    with_rules = _prometheus_rules(k8s_client)
    applied: dict[str, float] = {}

    def gate_watching(ns: str) -> bool:
        """The apply's last object is there, a few seconds ago (the gate watches by then)."""
        if not applied:
            last = (lambda: custom.get_namespaced_custom_object("monitoring.coreos.com", "v1", ns, "prometheusrules", SERVICE)) \
                if with_rules else (lambda: networking.read_namespaced_network_policy(SERVICE, ns))
            if exists(last):
                applied["at"] = time.monotonic()
            return False
        if time.monotonic() - applied["at"] < 6:
            return False
        canary = live_pods(k8s_client, ns, "canary")
        assert canary and not any(pod_ready(p) for p in canary), "the canary was ready before the restart"
        return True

    run, outage = week_with_a_restart(
        "api-gate", {"resource_apply_env": [{"name": "STARTUP_DELAY_MS", "value": str(STARTUP_DELAY_MS)}]}, gate_watching
    )
    assert run.rc == 0, run.tail()
    report = run.report
    assert report is not None and report["verdict"] == "PASS", run.tail()
    assert report["gate"]["passed"] and report["smoke"]["passed"], report
    # the gate saw the outage: one (the watches' outages merged), about as long as the API was away
    outages = report["gate"]["api_outages"]
    assert len(outages) == 1, outages
    assert outages[0]["ended"] is True and 0.8 * DOWN_SECONDS <= outages[0]["seconds"] <= outage + 5, outages
    assert run.report_path is not None and "API outage" in run.report_path.with_suffix(".md").read_text(), run.report_path
    ns = report["namespace"]
    assert all(pod_ready(p) for p in live_pods(k8s_client, ns, "canary")), f"{CANARY} not ready after the PASS"
    assert outage <= 15, f"the API server was unavailable {outage:.1f} s (at most 15 s)"


def test_an_api_server_restart_as_the_apply_starts_is_ridden_out(
    week_with_a_restart: Restart, k8s_client: client.ApiClient, good_image: str
) -> None:
    autoscaling = client.AutoscalingV2Api(k8s_client)

    def applying(ns: str) -> bool:
        """The HPA is the first object resource_apply applies: the Deployments and the rest come during the outage."""
        return exists(lambda: autoscaling.read_namespaced_horizontal_pod_autoscaler(SERVICE, ns))

    run, outage = week_with_a_restart("api-apply", {}, applying)
    assert run.rc == 0, run.tail()
    assert run.report is not None and run.report["verdict"] == "PASS", run.tail()
    # the applies met the outage and were tried again, not failed
    assert re.search(r"FAILED - RETRYING: \[localhost\]: ", run.output), run.tail()
    ns = run.report["namespace"]
    assert sorted(p.spec.containers[0].image for p in live_pods(k8s_client, ns, "canary")) == [good_image], run.tail()
    assert outage <= 15, f"the API server was unavailable {outage:.1f} s (at most 15 s)"
