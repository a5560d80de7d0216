"""A new pod that is not ready because its node is lost: the evidence rollout_status accepts (the pod's
own conditions, the Node as read, or the Node gone) and the verdict (NodeNotReady / NodeLost, not
the release's fault), against the healthy rollout of the fixtures with one new pod changed."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_status import (
    FAILED,
    SUCCEEDED,
    evaluate_rollout,
    find_node_loss,
    node_loss,
    nodes_to_check,
)

FIXTURES = Path(__file__).parent / "fixtures" / "rollout"
NODE = "kwok-node-0"


def _healthy() -> tuple[dict, list[dict], list[dict]]:
    items = json.loads((FIXTURES / "healthy.json").read_text())["items"]
    dep = next(i for i in items if i["kind"] == "Deployment")
    return dep, [i for i in items if i["kind"] == "ReplicaSet"], [i for i in items if i["kind"] == "Pod"]


def _set(pod: dict, ctype: str, status: str, **extra: str) -> None:
    conditions = [c for c in pod["status"]["conditions"] if c["type"] != ctype]
    pod["status"]["conditions"] = [*conditions, {"type": ctype, "status": status, **extra}]


def _node(ready: str | None, **extra: str) -> dict:
    conditions = [] if ready is None else [{"type": "Ready", "status": ready, **extra}]
    return {"metadata": {"name": NODE}, "status": {"conditions": conditions}}


def _marked_by_the_node_controller(pod: dict) -> None:
    _set(pod, "Ready", "False")  # ContainersReady stays True: the kubelet did not say so


def _not_ready_by_its_kubelet(pod: dict) -> None:
    _set(pod, "Ready", "False", reason="ContainersNotReady")
    _set(pod, "ContainersReady", "False", reason="ContainersNotReady")


def _evicted(reason: str, message: str):
    def change(pod: dict) -> None:
        _not_ready_by_its_kubelet(pod)
        pod["metadata"]["deletionTimestamp"] = "2026-12-03T10:00:00Z"
        _set(pod, "DisruptionTarget", "True", reason=reason, message=message)
    return change


def _with_gate(pod: dict) -> None:
    _marked_by_the_node_controller(pod)
    pod["spec"]["readinessGates"] = [{"conditionType": "example.com/in-rotation"}]
    _set(pod, "Ready", "False", reason="ReadinessGatesNotReady")


def _unbound(pod: dict) -> None:
    _not_ready_by_its_kubelet(pod)
    pod["spec"].pop("nodeName")


@pytest.mark.parametrize(
    ("change", "nodes", "reason", "words"),
    [
        # the pod's own evidence
        (_marked_by_the_node_controller, None, "NodeNotReady", f"node {NODE} stopped reporting (the node lifecycle controller"),
        (_evicted("DeletionByTaintManager", "Taint manager: deleting due to NoExecute taint key node.kubernetes.io/unreachable"),
         None, "NodeNotReady", f"node {NODE} is unreachable or not ready (Taint manager: deleting due to NoExecute"),
        (_evicted("DeletionByPodGC", "PodGC: node no longer exists"), None, "NodeLost", f"node {NODE} is gone (PodGC: node no longer exists)"),
        # the Node as read
        (_not_ready_by_its_kubelet, {NODE: None}, "NodeLost", f"node {NODE} no longer exists"),
        (_not_ready_by_its_kubelet, {NODE: _node("Unknown", lastTransitionTime="2026-12-03T10:00:00Z",
                                                 message="Kubelet stopped posting node status.")},
         "NodeNotReady", f"node {NODE} reports Ready=Unknown since 2026-12-03T10:00:00Z: Kubelet stopped posting node status;"),
        (_not_ready_by_its_kubelet, {NODE: _node("False", message="container runtime is down")},
         "NodeNotReady", f"node {NODE} reports Ready=False: container runtime is down;"),
        (_not_ready_by_its_kubelet, {NODE: _node(None)}, "NodeNotReady", f"node {NODE} reports Ready=nothing;"),
        # nothing to do with a node: the pod is simply starting, or waiting for a readiness gate
        (_not_ready_by_its_kubelet, None, None, ""),
        (_not_ready_by_its_kubelet, {NODE: _node("True")}, None, ""),
        (_not_ready_by_its_kubelet, {"another-node": None}, None, ""),
        (_with_gate, None, None, ""),
        (_unbound, {NODE: None}, None, ""),
        (_evicted("PreemptionByScheduler", "preempted"), None, None, ""),
    ],
    ids=["marked-not-ready", "evicted-unreachable", "podgc", "node-gone", "node-unknown", "node-false",
         "node-no-condition", "starting", "node-ready", "other-node", "readiness-gate", "unbound", "preempted"],
)
def test_a_new_pod_on_a_lost_node_fails_the_rollout_as_not_the_release(change, nodes, reason, words):
    dep, replicasets, pods = _healthy()
    pods = copy.deepcopy(pods)
    change(pods[0])
    verdict = evaluate_rollout(dep, replicasets, pods, nodes=nodes)
    name = pods[0]["metadata"]["name"]
    if reason is None:
        # judged by the Deployment's counts as before (this fixture's say complete)
        assert verdict.state == SUCCEEDED, verdict
        assert node_loss(pods[0], nodes) is None
        return
    assert (verdict.state, verdict.reason, verdict.pod, verdict.container) == (FAILED, reason, name, None)
    assert verdict.message.startswith(
        f'Deployment "finance-service" failed: pod {name} (ReplicaSet finance-service-02c75acd7e) is not ready because its '
    ), verdict.message
    assert words in verdict.message, verdict.message
    assert verdict.message.endswith("not the release's fault: run the week again once the node is back or replaced")


def test_a_ready_pod_on_a_lost_node_is_not_reported():
    """Until the node lifecycle controller marks it, a ready pod serves: the rollout goes on."""
    dep, replicasets, pods = _healthy()
    assert node_loss(pods[0], {NODE: None}) is None
    assert evaluate_rollout(dep, replicasets, pods, nodes={NODE: _node("Unknown")}).state == SUCCEEDED


def test_a_failing_container_is_reported_before_its_node():
    dep, replicasets, pods = _healthy()
    pods = copy.deepcopy(pods)
    _marked_by_the_node_controller(pods[0])
    pods[1]["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}
    verdict = evaluate_rollout(dep, replicasets, pods, nodes={NODE: None})
    assert (verdict.reason, verdict.pod) == ("CrashLoopBackOff", pods[1]["metadata"]["name"])


def test_the_first_pod_by_name_is_named_and_only_unready_bound_pods_have_nodes_to_check():
    _dep, _replicasets, pods = _healthy()
    pods = copy.deepcopy(pods)
    assert nodes_to_check(pods) == []
    for pod in reversed(pods):
        _not_ready_by_its_kubelet(pod)
    pods[1]["spec"]["nodeName"] = "kwok-node-1"
    assert nodes_to_check(pods) == [NODE, "kwok-node-1"]
    found = find_node_loss(pods, {NODE: None, "kwok-node-1": None})
    assert found is not None and (found[0]["metadata"]["name"], found[1]) == (pods[0]["metadata"]["name"], "NodeLost")


@pytest.mark.parametrize(
    ("nodes", "state", "reason"),
    [
        (None, "progressing", "OldReplicasPending"),  # its node may still confirm the deletion
        ({NODE: _node("True")}, "progressing", "OldReplicasPending"),
        ({NODE: _node("Unknown")}, SUCCEEDED, "RolloutComplete"),  # no kubelet will ever confirm it
        ({NODE: None}, SUCCEEDED, "RolloutComplete"),
    ],
)
def test_an_old_pod_being_deleted_on_a_lost_node_is_not_waited_for(nodes, state, reason):
    items = json.loads((FIXTURES / "old_pod_terminating.json").read_text())["items"]
    dep = next(i for i in items if i["kind"] == "Deployment")
    pods = [i for i in items if i["kind"] == "Pod"]
    old = next(p for p in pods if p["metadata"].get("deletionTimestamp"))
    verdict = evaluate_rollout(dep, [i for i in items if i["kind"] == "ReplicaSet"], pods, nodes=nodes)
    assert (verdict.state, verdict.reason) == (state, reason), verdict.message
    assert (f"1 old pod(s) being deleted on lost node(s) {NODE} not waited for" in verdict.message) is (state == SUCCEEDED)
    assert old["spec"]["nodeName"] == NODE


@pytest.mark.parametrize(("seen_for", "state"), [(None, SUCCEEDED), (0.0, SUCCEEDED), (59.9, SUCCEEDED), (60.0, FAILED)])
def test_the_node_loss_fails_the_rollout_once_it_has_lasted_the_grace(seen_for, state):
    """A control plane back from an outage marks every node not ready for a few seconds: only a loss
    seen for node_lost_grace seconds fails the rollout."""
    dep, replicasets, pods = _healthy()
    pods = copy.deepcopy(pods)
    _marked_by_the_node_controller(pods[0])
    lost_for = None if seen_for is None else {pods[0]["metadata"]["name"]: seen_for}
    verdict = evaluate_rollout(dep, replicasets, pods, node_lost_grace=60, node_lost_for=lost_for)
    assert verdict.state == state, verdict.message
    assert (verdict.reason == "NodeNotReady") is (state == FAILED)
