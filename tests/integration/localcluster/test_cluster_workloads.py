"""Workloads through the real controllers and scheduler, with pods simulated by kwok."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

KubectlRunner = Callable[..., subprocess.CompletedProcess[str]]
Wait = Callable[..., Any]


def deployment(name: str, replicas: int, image: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "strategy": {"rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": image,
                            "ports": [{"containerPort": 3014, "name": "http"}],
                            "resources": {
                                "requests": {"cpu": "250m", "memory": "256Mi"},
                                "limits": {"cpu": "500m", "memory": "512Mi"},
                            },
                        }
                    ]
                },
            },
        },
    }


def wait_available(apps: client.AppsV1Api, ns: str, name: str, replicas: int, wait: Wait) -> client.V1Deployment:
    def probe() -> client.V1Deployment | None:
        d = apps.read_namespaced_deployment(name, ns)
        s = d.status
        done = (
            (s.observed_generation or 0) >= d.metadata.generation
            and s.updated_replicas == replicas
            and s.available_replicas == replicas
            and s.ready_replicas == replicas
            and (s.replicas or 0) == replicas
        )
        return d if done else None

    return wait(probe, timeout=60, message=f"deployment {ns}/{name} {replicas}/{replicas} available")


def test_deployment_rolls_out_and_updates(
    k8s_client: client.ApiClient, kubectl: KubectlRunner, namespace: str, wait: Wait
) -> None:
    apps = client.AppsV1Api(k8s_client)
    core = client.CoreV1Api(k8s_client)
    apps.create_namespaced_deployment(namespace, deployment("web", 3, "registry.local/web:1.0.0"))

    d = wait_available(apps, namespace, "web", 3, wait)
    assert d.status.available_replicas == 3
    rollout = kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=60s")
    assert "successfully rolled out" in rollout.stdout

    pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
    assert len(pods) == 3
    for pod in pods:
        assert pod.spec.node_name.startswith("kwok-node-"), "the scheduler did not bind the pod"
        assert pod.status.phase == "Running"
        assert pod.status.pod_ip
        # the simulated kubelet reports the pod spec's containers
        (status,) = pod.status.container_statuses
        assert (status.name, status.image, status.ready) == ("app", "registry.local/web:1.0.0", True)
        assert status.state.running is not None
        # the ServiceAccount admission plugin gave the pod its token volume
        assert pod.spec.service_account_name == "default"
        assert any(v.projected for v in pod.spec.volumes or []), "no projected service-account token"
    first_rs = {rs.metadata.name for rs in apps.list_namespaced_replica_set(namespace).items}
    assert len(first_rs) == 1

    kubectl("set", "image", "deployment/web", "app=registry.local/web:2.0.0", "-n", namespace)
    rollout = kubectl("rollout", "status", "deployment/web", "-n", namespace, "--timeout=90s")
    assert "successfully rolled out" in rollout.stdout
    wait_available(apps, namespace, "web", 3, wait)

    replica_sets = apps.list_namespaced_replica_set(namespace).items
    assert len(replica_sets) == 2, [rs.metadata.name for rs in replica_sets]
    (new_rs,) = [rs for rs in replica_sets if rs.metadata.name not in first_rs]
    (old_rs,) = [rs for rs in replica_sets if rs.metadata.name in first_rs]
    assert new_rs.spec.template.spec.containers[0].image == "registry.local/web:2.0.0"
    assert new_rs.status.ready_replicas == 3
    assert old_rs.spec.replicas == 0

    def only_new_pods() -> list[client.V1Pod] | None:
        pods = core.list_namespaced_pod(namespace, label_selector="app=web").items
        images = {p.spec.containers[0].image for p in pods}
        return pods if len(pods) == 3 and images == {"registry.local/web:2.0.0"} else None

    pods = wait(only_new_pods, timeout=30, message="the old pods to be replaced")
    hash_label = new_rs.metadata.labels["pod-template-hash"]
    assert {p.metadata.labels["pod-template-hash"] for p in pods} == {hash_label}
    assert all(p.status.container_statuses[0].image == "registry.local/web:2.0.0" for p in pods)


def test_pdb_reports_disruptions_allowed(k8s_client: client.ApiClient, namespace: str, wait: Wait) -> None:
    apps = client.AppsV1Api(k8s_client)
    policy = client.PolicyV1Api(k8s_client)
    apps.create_namespaced_deployment(namespace, deployment("api", 3, "registry.local/api:1"))
    policy.create_namespaced_pod_disruption_budget(
        namespace,
        {
            "metadata": {"name": "api"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "api"}}},
        },
    )
    wait_available(apps, namespace, "api", 3, wait)

    def computed() -> client.V1PodDisruptionBudget | None:
        pdb = policy.read_namespaced_pod_disruption_budget("api", namespace)
        s = pdb.status
        ok = (s.observed_generation or 0) >= pdb.metadata.generation and s.current_healthy == 3
        return pdb if ok else None

    pdb = wait(computed, timeout=30, message="the disruption controller to count 3 healthy pods")
    assert pdb.status.expected_pods == 3
    assert pdb.status.desired_healthy == 2
    assert pdb.status.disruptions_allowed == 1


def hpa(name: str, metric_type: str = "Resource") -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": 2,
            "maxReplicas": 25,
            "metrics": [
                {"type": metric_type, "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 65}}},
                {"type": "Resource", "resource": {"name": "memory", "target": {"type": "Utilization", "averageUtilization": 75}}},
            ],
            "behavior": {
                "scaleUp": {
                    "selectPolicy": "Max",
                    "policies": [
                        {"type": "Percent", "value": 50, "periodSeconds": 60},
                        {"type": "Pods", "value": 3, "periodSeconds": 60},
                    ],
                },
                "scaleDown": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 120}]},
            },
        },
    }


def test_hpa_v2_is_accepted_and_processed(k8s_client: client.ApiClient, namespace: str, wait: Wait) -> None:
    apps = client.AppsV1Api(k8s_client)
    autoscaling = client.AutoscalingV2Api(k8s_client)
    apps.create_namespaced_deployment(namespace, deployment("finance", 2, "registry.local/finance:1"))
    autoscaling.create_namespaced_horizontal_pod_autoscaler(namespace, hpa("finance"))

    stored = autoscaling.read_namespaced_horizontal_pod_autoscaler("finance", namespace)
    assert stored.spec.max_replicas == 25
    assert [m.resource.name for m in stored.spec.metrics] == ["cpu", "memory"]
    assert stored.spec.behavior.scale_down.policies[0].period_seconds == 120

    # the horizontal-pod-autoscaler controller picks it up (no metrics API here, so it reports
    # that it cannot compute the metrics, but it found and can scale its target)
    def processed() -> client.V2HorizontalPodAutoscaler | None:
        h = autoscaling.read_namespaced_horizontal_pod_autoscaler("finance", namespace)
        conditions = {c.type: c for c in h.status.conditions or []}
        return h if "AbleToScale" in conditions else None

    h = wait(processed, timeout=60, message="the HPA controller to set AbleToScale")
    able = next(c for c in h.status.conditions if c.type == "AbleToScale")
    assert able.status == "True", able


def test_hpa_with_invalid_metric_type_is_rejected(k8s_client: client.ApiClient, namespace: str) -> None:
    """The seed's typo `type: Pod` is refused by the API server's validation."""
    autoscaling = client.AutoscalingV2Api(k8s_client)
    with pytest.raises(ApiException) as err:
        autoscaling.create_namespaced_horizontal_pod_autoscaler(namespace, hpa("typo", metric_type="Pod"))
    assert err.value.status == 422
    assert "Pod" in err.value.body


def test_service_gets_endpointslices_with_pod_ips(
    k8s_client: client.ApiClient, namespace: str, wait: Wait
) -> None:
    apps = client.AppsV1Api(k8s_client)
    core = client.CoreV1Api(k8s_client)
    discovery = client.DiscoveryV1Api(k8s_client)
    apps.create_namespaced_deployment(namespace, deployment("svc", 3, "registry.local/svc:1"))
    svc = core.create_namespaced_service(
        namespace,
        {
            "metadata": {"name": "svc"},
            "spec": {
                "selector": {"app": "svc"},
                "ports": [{"name": "http", "port": 80, "targetPort": 3014}],
                "sessionAffinity": "ClientIP",
                "sessionAffinityConfig": {"clientIP": {"timeoutSeconds": 10800}},
            },
        },
    )
    assert svc.spec.cluster_ip.startswith("10.96."), svc.spec.cluster_ip
    wait_available(apps, namespace, "svc", 3, wait)
    pods = core.list_namespaced_pod(namespace, label_selector="app=svc").items
    pod_ips = {p.status.pod_ip for p in pods}
    assert len(pod_ips) == 3 and all(pod_ips)

    def endpoints() -> set[str] | None:
        slices = discovery.list_namespaced_endpoint_slice(
            namespace, label_selector="kubernetes.io/service-name=svc"
        ).items
        ready = {
            address
            for s in slices
            for e in s.endpoints or []
            if e.conditions and e.conditions.ready
            for address in e.addresses
        }
        return ready if ready == pod_ips else None

    wait(endpoints, timeout=30, message=f"EndpointSlices of svc to list {sorted(pod_ips)}")
    slices = discovery.list_namespaced_endpoint_slice(
        namespace, label_selector="kubernetes.io/service-name=svc"
    ).items
    assert all(p.port == 3014 for s in slices for p in s.ports or [])
    node_names = {e.node_name for s in slices for e in s.endpoints or []}
    assert node_names <= {"kwok-node-0", "kwok-node-1", "kwok-node-2"}


def test_capacity_for_25_replicas(k8s_client: client.ApiClient, namespace: str, wait: Wait) -> None:
    """The production shape (HPA max 25 replicas of 250m / 256Mi) fits on the simulated nodes."""
    apps = client.AppsV1Api(k8s_client)
    apps.create_namespaced_deployment(namespace, deployment("big", 25, "registry.local/big:1"))
    wait_available(apps, namespace, "big", 25, wait)
