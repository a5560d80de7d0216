"""A node lost during the gate is the environment's fault, not the release's: after week 1 on the real
node, week 2 moves the pods to a node whose kubelet then dies; the control plane's node lifecycle
controller marks the node Ready Unknown (after its grace period, about 50 s); the gate, reading the
Nodes of the pods that are not ready, ends the week ERROR (node-lost, exit code 4) naming the node;
the rollback restores week 1, without waiting for the pods stranded on the dead node (being deleted,
they go away only once the Node object is deleted); the record keeps the digest unburnt, and the same
week with the same digest runs again without force and passes on the real node.

The node is a Node object of the test's own (a tainted one no other test's pods go to), its kubelet
played by the test (clusterkit.dying_node): it posts the node's Ready status every few seconds until
the week's pods are bound to it, then stops, which is what the control plane sees of a machine that
dies."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from chainkit import REAL_NODE, WeekRun, differences, release_record, run_week, service_objects
from clusterkit import dying_node, pods_on


@pytest.fixture
def doomed_node(k8s_client: client.ApiClient) -> Iterator[dict[str, Any]]:
    with dying_node(k8s_client) as node:
        yield node


def test_a_node_lost_during_the_gate_is_an_error_that_does_not_burn_the_digest(
    good_image: str,
    doomed_node: dict[str, Any],
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    core = client.CoreV1Api(k8s_client)
    node = doomed_node["name"]
    ns = new_namespace("node-lost")
    on_the_real_node = {**REAL_NODE, "rollout_image": good_image}
    first = run_week(1, ns, tmp_path / "week1", chain_vault, on_the_real_node)
    assert first.rc == 0, first.tail()
    before = service_objects(k8s_client, ns)

    on_the_node = {"deploy_node_selector": doomed_node["selector"], "deploy_tolerations": [doomed_node["toleration"]]}
    done: list[WeekRun] = []
    week = threading.Thread(target=lambda: done.append(run_week(2, ns, tmp_path / "lost", chain_vault, on_the_node)),
                            name="week", daemon=True)
    week.start()
    deadline = time.monotonic() + 600
    while not pods_on(k8s_client, ns, node):
        assert week.is_alive(), f"the week ended before its pods reached the node:\n{done[0].tail() if done else ''}"
        assert time.monotonic() < deadline, "no pod of the week was bound to the node within 600 s"
        time.sleep(0.5)
    doomed_node["stop"].set()  # the machine dies with the week's pods on it
    died = time.monotonic()
    week.join(timeout=900)
    assert done, "the week did not end within 15 minutes"
    run = done[0]
    print(f"node {node} stopped reporting; the play ended {time.monotonic() - died:.0f} s later")

    # ERROR, exit code 4: the environment, not the release
    assert run.rc == 4, run.tail()
    last = run.last_lines(30)
    assert "Week 2 ERROR:" in last and "FAILED" not in last, run.tail()
    assert "Cause: node-lost." in last, run.tail()
    report = run.report
    assert report is not None, run.tail()
    assert (report["verdict"], report["cause"]) == ("ERROR", "node-lost"), report
    gate = report["gate"]
    assert gate["ran"] and not gate["passed"] and gate["reason"] == "NodeNotReady", gate
    assert f"because its node {node} reports Ready=Unknown since " in gate["msg"], gate
    assert "Kubelet stopped posting node status" in gate["msg"], gate
    # week 1 is back, verified by the rollback's own gate, which did not wait for the pods stranded on
    # the dead node (still there, being deleted, while the Node object exists)
    rollback = report["rollback"]
    assert rollback["ran"] and rollback["verified"] and not rollback["differences"], rollback
    assert differences(before, service_objects(k8s_client, ns)) == []
    stranded = [p for p in core.list_namespaced_pod(ns).items if p.spec.node_name == node]
    assert stranded and all(p.metadata.deletion_timestamp for p in stranded), [p.metadata.name for p in stranded]

    # recorded as ERROR; the digest is not burnt: the same week runs again without force and passes
    record = release_record(k8s_client, ns)
    assert [(r["verdict"], r["week"], r["digest"]) for r in record["runs"]] == \
        [("PASS", 1, good_image), ("ERROR", 2, good_image)], record
    assert record["runs"][-1]["cause"] == "node-lost", record
    assert record["state"] != "FAILED" and not record.get("failed_week") and record["highest_week_passed"] == 1, record
    again = run_week(2, ns, tmp_path / "again", chain_vault, REAL_NODE)
    assert again.rc == 0, again.tail()
    assert again.report is not None and again.report["verdict"] == "PASS", again.tail()
