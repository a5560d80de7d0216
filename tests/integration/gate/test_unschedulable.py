"""The rollout gate fails fast and clearly on a new pod the scheduler cannot place.

A Deployment whose pod template selects vextrus.io/node=nowhere gets pods that stay Pending with
PodScheduled False/Unschedulable. The gate must fail once unschedulable_grace has passed - long
before its timeout - naming the pod and quoting the scheduler; with a grace beyond the timeout it
fails by timeout and still names the pod."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_report import build_report, render_markdown
from kubernetes import client

GateRunner = Callable[..., Any]  # the run_gate fixture of this directory's conftest

SELECTOR_WORDS = "didn't match Pod's node affinity/selector"
NOWHERE = {"vextrus.io/node": "nowhere"}


def deployment(name: str, node_selector: dict[str, str] | None = None, replicas: int = 2) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    spec: dict[str, Any] = {
        "containers": [
            {
                "name": "app",
                "image": f"127.0.0.1:5000/vextrus/{name}:1.0.0",
                "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
            }
        ],
        "terminationGracePeriodSeconds": 1,
    }
    if node_selector:
        spec["nodeSelector"] = node_selector
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {"metadata": {"labels": labels}, "spec": spec},
        },
    }


def wait_available(apps: client.AppsV1Api, namespace: str, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dep = apps.read_namespaced_deployment(name, namespace)
        status = dep.status
        if (status.observed_generation or 0) >= dep.metadata.generation and (status.available_replicas or 0) == dep.spec.replicas:
            return
        time.sleep(0.5)
    raise AssertionError(f"Deployment {namespace}/{name} not available within {timeout} s: {status}")


def running_pods(core: client.CoreV1Api, namespace: str, name: str) -> set[str]:
    pods = core.list_namespaced_pod(namespace, label_selector=f"app.kubernetes.io/name={name}").items
    return {p.metadata.name for p in pods if p.status.phase == "Running"}


def test_new_version_unschedulable_fails_after_the_grace(
    k8s_client: client.ApiClient, gate_namespace: str, run_gate: GateRunner
) -> None:
    apps, core = client.AppsV1Api(k8s_client), client.CoreV1Api(k8s_client)
    name = "finance-service"
    apps.create_namespaced_deployment(gate_namespace, deployment(name))
    wait_available(apps, gate_namespace, name)
    old_pods = running_pods(core, gate_namespace, name)
    assert len(old_pods) == 2
    # the new version selects a node label no node carries
    apps.patch_namespaced_deployment(name, gate_namespace, {"spec": {"template": {"spec": {"nodeSelector": NOWHERE}}}})

    run = run_gate(gate_namespace, [name], unschedulable_grace=5, timeout=120)

    gate = run.result
    assert run.returncode != 0, run.stdout[-2000:]
    assert gate["failed"] is True
    assert gate["reason"] == "Unschedulable", gate
    assert gate["deployment"] == name
    new_rs = gate["deployments"][name]["new_replicaset"]
    assert gate["pod"].startswith(f"{new_rs}-") and gate["pod"] not in old_pods
    assert gate["container"] is None and gate["logs"] == []
    assert SELECTOR_WORDS in gate["message"] and SELECTOR_WORDS in gate["msg"]
    assert "0/4 nodes are available" in gate["msg"]
    assert f"pod {gate['pod']} (ReplicaSet {new_rs}) is Unschedulable for " in gate["msg"]
    assert "(grace 5 s)" in gate["msg"]
    # failed after the grace, well under the timeout
    assert 5 <= gate["elapsed"] < 20, gate["elapsed"]
    assert run.wall < 45, run.wall
    # the old version kept serving: the gate judged only the new ReplicaSet's pod
    assert old_pods <= running_pods(core, gate_namespace, name)
    pod = core.read_namespaced_pod(gate["pod"], gate_namespace)
    scheduled = next(c for c in pod.status.conditions if c.type == "PodScheduled")
    assert (scheduled.status, scheduled.reason) == ("False", "Unschedulable")
    # the week's report says what happened, in words a human reads
    report = build_report(
        {"environment": "local", "week": 1, "image": "127.0.0.1:5000/vextrus/finance-service:1.0.0", "gate": gate,
         "smoke": {"skipped": True}}
    )
    # no node has room: the cluster's capacity or the inventory's requests, not the release (ERROR)
    assert (report["verdict"], report["cause"]) == ("ERROR", "unschedulable")
    assert report["reason"].startswith(f"rollout gate: Unschedulable in pod {gate['pod']}: ")
    markdown = render_markdown(report)
    assert f"- pod: {gate['pod']}" in markdown and "- reason: Unschedulable" in markdown
    assert SELECTOR_WORDS in markdown and "- container:" not in markdown
    print(markdown.split("## Rollout gate")[1].split("## Smoke")[0].strip())
    print(f"time to fail: gate {gate['elapsed']} s, ansible-playbook {run.wall:.1f} s")


def test_grace_beyond_the_timeout_fails_by_timeout(
    k8s_client: client.ApiClient, gate_namespace: str, run_gate: GateRunner
) -> None:
    apps = client.AppsV1Api(k8s_client)
    name = "nowhere"
    apps.create_namespaced_deployment(gate_namespace, deployment(name, NOWHERE, replicas=1))

    run = run_gate(gate_namespace, [name], unschedulable_grace=600, timeout=10)

    gate = run.result
    assert run.returncode != 0, run.stdout[-2000:]
    assert gate["failed"] is True
    assert gate["reason"] == "Timeout", gate
    assert 10 <= gate["elapsed"] < 15, gate["elapsed"]
    assert gate["msg"].startswith(f"rollout of Deployment {gate_namespace}/{name} did not complete within 10 s: ")
    # the timeout still says why: the pending pod and the scheduler's words
    assert f"pod {name}-" in gate["message"] and "is Unschedulable for " in gate["message"]
    assert ", fails after 600 s: " in gate["message"]
    pending = int(gate["message"].split("is Unschedulable for ")[1].split(" s")[0])
    assert 5 <= pending <= 11, gate["message"]  # measured up to the timeout, not frozen at the last event
    print(gate["msg"])
    assert SELECTOR_WORDS in gate["msg"]
    print(f"time to fail: gate {gate['elapsed']} s, ansible-playbook {run.wall:.1f} s")
