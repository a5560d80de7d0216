"""kwok's failure stages, selected by the pod annotation localcluster.vextrus.io/simulate.

Each documented container status must show up within 30 s of the pod's creation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes import client

Wait = Callable[..., Any]
SIMULATE = "localcluster.vextrus.io/simulate"
DEADLINE = 30


def make_pod(
    core: client.CoreV1Api,
    namespace: str,
    name: str,
    annotations: dict[str, str] | None = None,
    containers: list[tuple[str, str]] | None = None,
) -> None:
    containers = containers or [("app", f"registry.local/{name}:1.0.0")]
    core.create_namespaced_pod(
        namespace,
        {
            "metadata": {"name": name, "annotations": annotations or {}},
            "spec": {
                "containers": [{"name": c, "image": image} for c, image in containers],
                "terminationGracePeriodSeconds": 1,
            },
        },
    )


def statuses(core: client.CoreV1Api, namespace: str, name: str) -> tuple[client.V1Pod, dict[str, Any]]:
    pod = core.read_namespaced_pod(name, namespace)
    return pod, {s.name: s for s in pod.status.container_statuses or []}


def ready_condition(pod: client.V1Pod) -> str | None:
    return next((c.status for c in pod.status.conditions or [] if c.type == "Ready"), None)


def test_default_lifecycle_reflects_the_pod_spec(k8s_client: client.ApiClient, namespace: str, wait: Wait) -> None:
    core = client.CoreV1Api(k8s_client)
    containers = [("app", "127.0.0.1:5000/finance:1.2.3"), ("sidecar", "registry.local/proxy@sha256:" + "a" * 64)]
    make_pod(core, namespace, "plain", containers=containers)

    def running() -> tuple[client.V1Pod, dict[str, Any]] | None:
        pod, by_name = statuses(core, namespace, "plain")
        ok = pod.status.phase == "Running" and len(by_name) == 2 and all(s.ready for s in by_name.values())
        return (pod, by_name) if ok else None

    pod, by_name = wait(running, timeout=DEADLINE, message="pod plain Running with both containers ready")
    assert ready_condition(pod) == "True"
    assert pod.status.pod_ip and pod.status.host_ip
    for name, image in containers:
        s = by_name[name]
        assert s.image == image
        assert s.state.running is not None and s.restart_count == 0
        assert s.container_id.startswith("containerd://")
        assert "@sha256:" in s.image_id
    assert by_name["sidecar"].image_id == containers[1][1]


def test_crashloop(k8s_client: client.ApiClient, namespace: str, wait: Wait) -> None:
    core = client.CoreV1Api(k8s_client)
    make_pod(core, namespace, "crash", {SIMULATE: "crashloop"})
    start = time.monotonic()

    def crashing() -> Any:
        pod, by_name = statuses(core, namespace, "crash")
        s = by_name.get("app")
        ok = s is not None and s.state.waiting is not None and s.state.waiting.reason == "CrashLoopBackOff"
        return (pod, s) if ok else None

    pod, s = wait(crashing, timeout=DEADLINE, message="CrashLoopBackOff")
    assert pod.status.phase == "Running"
    assert ready_condition(pod) == "False"
    assert s.ready is False and s.image == "registry.local/crash:1.0.0"
    assert s.last_state.terminated is not None
    assert (s.last_state.terminated.exit_code, s.last_state.terminated.reason) == (1, "Error")
    first = s.restart_count
    assert first >= 1

    remaining = max(1.0, DEADLINE - (time.monotonic() - start))
    _, later = wait(
        lambda: (r := crashing()) and r[1].restart_count > first and r,
        timeout=remaining,
        message=f"restartCount to grow beyond {first}",
    )
    assert later.state.waiting.reason == "CrashLoopBackOff"
    assert later.last_state.terminated.reason == "Error"


def test_imagepull(k8s_client: client.ApiClient, namespace: str, wait: Wait) -> None:
    core = client.CoreV1Api(k8s_client)
    make_pod(core, namespace, "pull", {SIMULATE: "imagepull"})

    def backoff() -> Any:
        pod, by_name = statuses(core, namespace, "pull")
        s = by_name.get("app")
        ok = s is not None and s.state.waiting is not None and s.state.waiting.reason == "ImagePullBackOff"
        return (pod, s) if ok else None

    pod, s = wait(backoff, timeout=DEADLINE, message="ImagePullBackOff")
    assert pod.status.phase == "Pending"
    assert s.ready is False and s.restart_count == 0
    assert '"registry.local/pull:1.0.0"' in s.state.waiting.message


def test_oom(k8s_client: client.ApiClient, namespace: str, wait: Wait) -> None:
    core = client.CoreV1Api(k8s_client)
    make_pod(core, namespace, "oom", {SIMULATE: "oom"})
    start = time.monotonic()

    def oom_killed() -> Any:
        pod, by_name = statuses(core, namespace, "oom")
        s = by_name.get("app")
        ok = s is not None and s.last_state.terminated is not None and s.last_state.terminated.reason == "OOMKilled"
        return (pod, s) if ok else None

    pod, s = wait(oom_killed, timeout=DEADLINE, message="lastState.terminated.reason OOMKilled")
    assert s.last_state.terminated.exit_code == 137
    assert s.ready is False
    assert ready_condition(pod) == "False"
    first = s.restart_count
    assert first >= 1
    remaining = max(1.0, DEADLINE - (time.monotonic() - start))
    _, later = wait(
        lambda: (r := oom_killed()) and r[1].restart_count > first and r,
        timeout=remaining,
        message=f"restartCount to grow beyond {first}",
    )
    assert later.last_state.terminated.exit_code == 137


def test_not_ready(k8s_client: client.ApiClient, namespace: str, wait: Wait) -> None:
    core = client.CoreV1Api(k8s_client)
    make_pod(core, namespace, "unready", {SIMULATE: "not-ready"})

    def running_unready() -> Any:
        pod, by_name = statuses(core, namespace, "unready")
        s = by_name.get("app")
        ok = pod.status.phase == "Running" and s is not None and s.state.running is not None
        return (pod, s) if ok else None

    pod, s = wait(running_unready, timeout=DEADLINE, message="phase Running")
    assert s.ready is False and ready_condition(pod) == "False"
    # ... and it stays so: observe it for a while longer than the default lifecycle's ready delay
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        pod, by_name = statuses(core, namespace, "unready")
        assert pod.status.phase == "Running"
        assert by_name["app"].ready is False and by_name["app"].restart_count == 0
        assert ready_condition(pod) == "False"
        time.sleep(0.5)


def test_failure_limited_to_one_container(k8s_client: client.ApiClient, namespace: str, wait: Wait) -> None:
    core = client.CoreV1Api(k8s_client)
    make_pod(
        core,
        namespace,
        "side",
        {SIMULATE: "crashloop", "localcluster.vextrus.io/simulate-container": "sidecar"},
        containers=[("app", "registry.local/app:1"), ("sidecar", "registry.local/sidecar:1")],
    )

    def sidecar_crashing() -> Any:
        _, by_name = statuses(core, namespace, "side")
        s = by_name.get("sidecar")
        ok = s is not None and s.state.waiting is not None and s.state.waiting.reason == "CrashLoopBackOff"
        return by_name if ok else None

    by_name = wait(sidecar_crashing, timeout=DEADLINE, message="sidecar in CrashLoopBackOff")
    assert by_name["app"].ready is True and by_name["app"].state.running is not None
    assert by_name["app"].image == "registry.local/app:1"
    assert by_name["sidecar"].image == "registry.local/sidecar:1"


def test_deployment_with_failing_pods_never_becomes_available(
    k8s_client: client.ApiClient, namespace: str, wait: Wait
) -> None:
    """What a rollout gate sees: the Deployment's pods crash, so no replica is ever available."""
    apps = client.AppsV1Api(k8s_client)
    core = client.CoreV1Api(k8s_client)
    labels = {"app": "bad"}
    apps.create_namespaced_deployment(
        namespace,
        {
            "metadata": {"name": "bad"},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels, "annotations": {SIMULATE: "crashloop"}},
                    "spec": {"containers": [{"name": "app", "image": "registry.local/bad:1"}]},
                },
            },
        },
    )

    def all_crashing() -> list[client.V1Pod] | None:
        pods = core.list_namespaced_pod(namespace, label_selector="app=bad").items
        reasons = [
            (p.status.container_statuses or [None])[0] for p in pods
        ]
        ok = len(pods) == 2 and all(
            s is not None and s.state.waiting is not None and s.state.waiting.reason == "CrashLoopBackOff"
            for s in reasons
        )
        return pods if ok else None

    wait(all_crashing, timeout=DEADLINE, message="both pods of deployment bad in CrashLoopBackOff")
    status = apps.read_namespaced_deployment("bad", namespace).status
    assert not status.available_replicas
    assert not status.ready_replicas
