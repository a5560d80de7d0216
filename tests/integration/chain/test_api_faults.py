"""The API server restarts in the middle of a week (localcluster/apiserver.sh restart: stopped, down
for eight seconds, started again), once right as the writes start (the snapshot kept before the
first change is there) and once while the gate watches a slow-starting rollout, both in the same
week 1. The week still passes: the collection's reads and writes try again within their budget and
say so in a warning, kubernetes.core's applies try again (retries/until with the api_transient
filter); the gate lists its objects again after the outage and its result (and the report) shows
the outage.

Restarting kube-apiserver breaks every other run against the cluster: these tests run alone
(marker serial)."""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from chainkit import CANARY, REAL_NODE, ROOT, SERVICE, live_pods, pod_ready, run_week, unique_namespace
from clusterkit import delete_namespace, exists
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


@pytest.fixture(scope="module")
def restarted_week(
    good_image: str, k8s_client: client.ApiClient, chain_vault: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """Week 1 of the session's good image in a new namespace, run in a thread, with the API server
    restarted twice: right as the writes start (the snapshot Secret exists) and while the gate
    watches pods that are not ready yet (their /health/ready answers 503 for STARTUP_DELAY_MS). The
    test fails if the week ends before either moment. One week for both faults: a restart breaks
    every other run, so these tests run alone, and one run costs half as much of that time."""
    ns = unique_namespace("api-faults")
    core = client.CoreV1Api(k8s_client)
    networking = client.NetworkingV1Api(k8s_client)
    custom = client.CustomObjectsApi(k8s_client)
    with_rules = _prometheus_rules(k8s_client)
    done: list[WeekRun] = []
    values = {**REAL_NODE, "rollout_image": good_image,
              "resource_apply_env": [{"name": "STARTUP_DELAY_MS", "value": str(STARTUP_DELAY_MS)}]}
    thread = threading.Thread(
        target=lambda: done.append(run_week(1, ns, tmp_path_factory.mktemp("api-faults"), chain_vault, values)),
        name="week", daemon=True,
    )

    def applying() -> bool:
        """The snapshot is kept: the run's writes (the record, the secrets, the dry runs, the applies) start now."""
        return exists(lambda: core.read_namespaced_secret(f"{SERVICE}-rollout-snapshot", ns))

    applied: dict[str, float] = {}

    def gate_watching() -> bool:
        """The apply's last object is there, a few seconds ago (the gate watches by then), and so are
        the canary's pods, none ready yet."""
        if not applied:
            last = (lambda: custom.get_namespaced_custom_object("monitoring.coreos.com", "v1", ns, "prometheusrules", SERVICE)) \
                if with_rules else (lambda: networking.read_namespaced_network_policy(SERVICE, ns))
            if exists(last):
                applied["at"] = time.monotonic()
            return False
        if time.monotonic() - applied["at"] < 6:
            return False
        # the controllers may need a while after the first restart before the canary's pods exist
        canary = live_pods(k8s_client, ns, "canary")
        if not canary:
            return False
        assert not any(pod_ready(p) for p in canary), "the canary was ready before the restart"
        return True

    outages: dict[str, float] = {}
    thread.start()
    try:
        for moment, ready in (("apply", applying), ("gate", gate_watching)):
            deadline = time.monotonic() + 600
            while thread.is_alive() and not ready():
                assert time.monotonic() < deadline, f"the moment for the restart in the {moment} did not come within 600 s"
                time.sleep(0.2)
            assert thread.is_alive(), f"the week ended before the restart in the {moment}:\n{done[0].tail() if done else ''}"
            outages[moment] = _restart_apiserver()
    finally:
        thread.join(timeout=1200)
        # whatever happened, the cluster keeps its API server (a no-op when it runs)
        subprocess.run(["bash", str(ROOT / "localcluster" / "apiserver.sh"), "start"], check=True, timeout=240)
    assert done, "the week did not end within 20 minutes"
    try:
        yield {"run": done[0], "outages": outages, "namespace": ns}
    finally:
        delete_namespace(k8s_client, ns)


def _prometheus_rules(k8s_client: client.ApiClient) -> bool:
    """Whether the cluster has the PrometheusRule API (resource_apply applies a rule last when it has)."""
    return exists(lambda: client.ApiextensionsV1Api(k8s_client).read_custom_resource_definition(
        "prometheusrules.monitoring.coreos.com"))


def test_the_week_passes_through_both_restarts(restarted_week: dict[str, Any], k8s_client: client.ApiClient) -> None:
    run = restarted_week["run"]
    assert run.rc == 0, run.tail()
    report = run.report
    assert report is not None and report["verdict"] == "PASS", run.tail()
    assert report["gate"]["passed"] and report["smoke"]["passed"], report
    assert all(pod_ready(p) for p in live_pods(k8s_client, restarted_week["namespace"], "canary")), f"{CANARY} not ready after the PASS"
    for moment, outage in restarted_week["outages"].items():
        assert outage <= 15, f"the API server was unavailable {outage:.1f} s in the {moment} (at most 15 s)"


def test_an_api_server_restart_during_the_gate_is_ridden_out(restarted_week: dict[str, Any]) -> None:
    run = restarted_week["run"]
    report = run.report
    assert report is not None, run.tail()
    # the gate saw its outage: one (the watches' outages merged), about as long as the API was away
    outages = report["gate"]["api_outages"]
    assert len(outages) == 1, outages
    assert outages[0]["ended"] is True and 0.8 * DOWN_SECONDS <= outages[0]["seconds"] <= restarted_week["outages"]["gate"] + 5, outages
    assert run.report_path is not None and "API outage" in run.report_path.with_suffix(".md").read_text(), run.report_path


def test_an_api_server_restart_as_the_apply_starts_is_ridden_out(
    restarted_week: dict[str, Any], k8s_client: client.ApiClient, good_image: str
) -> None:
    run = restarted_week["run"]
    # the writes met the outage and were tried again, not failed: by the module (its warning) or by the task
    assert re.search(r"the Kubernetes API did not answer for \d+ s .*the requests were tried again|FAILED - RETRYING: \[localhost\]: ",
                     run.flat), run.tail()
    canary = live_pods(k8s_client, restarted_week["namespace"], "canary")
    assert sorted(p.spec.containers[0].image for p in canary) == [good_image], run.tail()
