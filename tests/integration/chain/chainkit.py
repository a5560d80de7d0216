"""Helpers of the week-chain tests: run playbooks/weekN.yml with the local inventory as a user does,
read the report it wrote, and read what it left on the local cluster. Nothing is mocked.

The run itself and its result (WeekRun) come from ../playbookrun.py, the registry and namespace
helpers from ../clusterkit.py."""

from __future__ import annotations

import importlib.util
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

# delete_namespace and WeekRun stay importable from here for the chain tests.
from clusterkit import delete_namespace, unique_name
from playbookrun import (
    ROOT,
    WeekRun,
    ansible_env,
    ansible_playbook,
    empty_report_dir,
    start_playbook,
    week_result,
    week_vars,
)

INVENTORY = ROOT / "inventories" / "local"
SERVICE = "finance-service"
STABLE = f"{SERVICE}-stable"
CANARY = f"{SERVICE}-canary"
SECRET = f"{SERVICE}-secrets"
WORKSPACE = ROOT / "examples" / "finance-service"
SEED_DOCKERFILE = ROOT / "tests" / "fixtures" / "seed-broken" / "Dockerfile"
SEED_ERROR = "Cannot find module '@nestjs/core'"

# Pods on the one real node (label and taint set by localcluster/node): they really run the image.
# The node has 2 CPUs that other namespaces share; at the role's default request (250m) eight pods
# fill it and a surge pod stays Pending (Insufficient cpu). The tests ask for less, but not so little
# that the live HPA (metrics-server, target 65 % CPU) scales stable up on an idle pod's own 10m.
REAL_NODE = {
    "deploy_node_selector": {"vextrus.io/node": "real"},
    "deploy_tolerations": [{"key": "vextrus.io/real-node", "operator": "Exists", "effect": "NoSchedule"}],
    "resource_apply_resources": {
        "requests": {"cpu": "50m", "memory": "96Mi"},
        "limits": {"cpu": "1", "memory": "512Mi"},
    },
}
# Pods on the simulated nodes: kwok plays the pod lifecycle, the annotation picks a failure.
KWOK_NODES: dict[str, Any] = {"deploy_node_selector": {"type": "kwok"}, "deploy_tolerations": []}

# Gate reasons the chain may name for each simulated failure.
SIMULATED_REASONS = {
    "crashloop": {"CrashLoopBackOff"},
    "imagepull": {"ImagePullBackOff", "ErrImagePull"},
    "oom": {"OOMKilled"},
    "not-ready": {"Timeout"},
}


def _load_rollout_plan() -> Any:
    """The collection's replica split rules (plugins/module_utils/rollout_plan.py, no Ansible imports)."""
    path = ROOT / "plugins" / "module_utils" / "rollout_plan.py"
    spec = importlib.util.spec_from_file_location("vextrus_rollout_plan", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def local_profile() -> dict[str, Any]:
    """The local inventory's deployment profile (replicas and week table)."""
    return yaml.safe_load((INVENTORY / "group_vars" / "all" / "deploy.yml").read_text())


def expected_split(week: int) -> tuple[int, dict[str, int]]:
    """(weight, {"stable": n, "canary": m}) of a week for the local inventory's replica count."""
    plan = _load_rollout_plan()
    prof = local_profile()
    weights = plan.normalize_weights(prof["rollout_weights"])
    return weights[week], plan.split_replicas(prof["deploy_replicas"], weights[week])


def unique_namespace(label: str) -> str:
    """A Kubernetes namespace name of the chain tests that no other run uses."""
    return unique_name(f"vx-chain-{label}")


def run_week(
    week: int,
    namespace: str,
    report_dir: Path,
    vault_dir: Path,
    extra: dict[str, Any] | None = None,
    timeout: float = 900,
    playbook: str = "",
    base_images: bool = True,
    options: tuple[str, ...] = (),
) -> WeekRun:
    """ansible-playbook -i inventories/local playbooks/week<N>.yml -e <extra> <options>, as a user
    runs it (or another playbook of the chain: abort.yml, rollback.yml, status.yml).

    The report goes to its own directory (report_dir must be new or empty) so the run's report is
    the only one there; the local vault lives in vault_dir so the tests never touch .local/vault.
    """
    empty_report_dir(report_dir)
    done = ansible_playbook(
        str(INVENTORY),
        str(ROOT / "playbooks" / (playbook or f"week{week}.yml")),
        week_vars(namespace, report_dir, vault_dir, extra, base_images),
        *options,
        env=ansible_env(path=[ROOT / ".local" / "bin"]),
        timeout=timeout,
    )
    return week_result(week, done, report_dir, extra or {})


def start_week(week: int, namespace: str, report_dir: Path, vault_dir: Path, extra: dict[str, Any]) -> subprocess.Popen:
    """run_week's playbook started in the background (its own session), its output in report_dir/output.txt."""
    empty_report_dir(report_dir)
    return start_playbook(
        str(INVENTORY),
        str(ROOT / "playbooks" / f"week{week}.yml"),
        week_vars(namespace, report_dir, vault_dir, extra),
        report_dir / "output.txt",
        env=ansible_env(path=[ROOT / ".local" / "bin"]),
    )


def read_deployment(api: client.ApiClient, namespace: str, name: str) -> client.V1Deployment | None:
    try:
        return client.AppsV1Api(api).read_namespaced_deployment(name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def container_image(deployment: client.V1Deployment) -> str:
    containers = {c.name: c.image for c in deployment.spec.template.spec.containers}
    return containers[SERVICE]


def live_pods(api: client.ApiClient, namespace: str, track: str) -> list[client.V1Pod]:
    """Pods of one track (stable/canary) that are not being deleted."""
    pods = client.CoreV1Api(api).list_namespaced_pod(
        namespace, label_selector=f"app.kubernetes.io/name={SERVICE},vextrus.io/track={track}"
    ).items
    return [p for p in pods if p.metadata.deletion_timestamp is None]


def pod_ready(pod: client.V1Pod) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def track_state(api: client.ApiClient, namespace: str) -> dict[str, Any]:
    """What each Deployment of the service declares and what its pods really run, for comparisons."""
    state: dict[str, Any] = {}
    for track, name in (("stable", STABLE), ("canary", CANARY)):
        dep = read_deployment(api, namespace, name)
        if dep is None:
            state[track] = None
            continue
        pods = live_pods(api, namespace, track)
        state[track] = {
            "replicas": dep.spec.replicas,
            "image": container_image(dep),
            "template": api.sanitize_for_serialization(dep.spec.template),
            "pods": sorted(
                (
                    {c.name: c.image for c in p.spec.containers}[SERVICE],
                    pod_ready(p),
                    (p.spec.node_name or ""),
                )
                for p in pods
            ),
        }
    return state


def release_record(api: client.ApiClient, namespace: str) -> dict[str, Any]:
    """The service's release record as the chain wrote it (ConfigMap <service>-release)."""
    return json.loads(client.CoreV1Api(api).read_namespaced_config_map(f"{SERVICE}-release", namespace).data["release.json"])


def hpa_bounds(api: client.ApiClient, namespace: str) -> dict[str, dict[str, Any]]:
    """Each HPA of the namespace by name: the Deployment it scales and its (min, max) replicas."""
    found = client.AutoscalingV2Api(api).list_namespaced_horizontal_pod_autoscaler(namespace).items
    return {h.metadata.name: {"target": h.spec.scale_target_ref.name, "bounds": (h.spec.min_replicas, h.spec.max_replicas)}
            for h in found}


def deployments_in(api: client.ApiClient, namespace: str) -> list[str]:
    return sorted(d.metadata.name for d in client.AppsV1Api(api).list_namespaced_deployment(namespace).items)


# What the API server itself sets: left out of the comparison of a namespace before and after a run.
SERVER_ANNOTATIONS = {"deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration"}
SERVER_SERVICE_FIELDS = {"clusterIP", "clusterIPs"}


def read_or_none(call: Callable[[], Any]) -> Any | None:
    """call(), or None when the API answers 404."""
    try:
        return call()
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _object_content(api: client.ApiClient, obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    raw = api.sanitize_for_serialization(obj)
    annotations = {k: v for k, v in (raw["metadata"].get("annotations") or {}).items() if k not in SERVER_ANNOTATIONS}
    content = {field: raw.get(field) for field in fields}
    if raw["kind"] == "Service":
        content["spec"] = {k: v for k, v in content["spec"].items() if k not in SERVER_SERVICE_FIELDS}
    return {"labels": raw["metadata"].get("labels") or {}, "annotations": annotations, **content}


def service_objects(api: client.ApiClient, ns: str) -> dict[str, Any]:
    """Every object of the service a run may change, by kind/name (None when absent)."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    autoscaling, policy = client.AutoscalingV2Api(api), client.PolicyV1Api(api)
    networking = client.NetworkingV1Api(api)
    reads: dict[str, tuple[Callable[[], Any], tuple[str, ...]]] = {
        f"Secret/{SECRET}": (lambda: core.read_namespaced_secret(SECRET, ns), ("type", "data", "immutable")),
        f"HorizontalPodAutoscaler/{SERVICE}": (
            lambda: autoscaling.read_namespaced_horizontal_pod_autoscaler(SERVICE, ns), ("spec",)),
        f"Deployment/{STABLE}": (lambda: apps.read_namespaced_deployment(STABLE, ns), ("spec",)),
        f"Deployment/{CANARY}": (lambda: apps.read_namespaced_deployment(CANARY, ns), ("spec",)),
        f"Service/{SERVICE}": (lambda: core.read_namespaced_service(SERVICE, ns), ("spec",)),
        f"PodDisruptionBudget/{SERVICE}": (
            lambda: policy.read_namespaced_pod_disruption_budget(SERVICE, ns), ("spec",)),
        f"NetworkPolicy/{SERVICE}": (lambda: networking.read_namespaced_network_policy(SERVICE, ns), ("spec",)),
    }
    state = {}
    for key, (read, fields) in reads.items():
        obj = read_or_none(read)
        state[key] = None if obj is None else _object_content(api, obj, fields)
    return state


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The objects of service_objects() that differ between two readings, each with both contents."""
    return [f"{key}:\n  before {before[key]}\n  after  {after.get(key)}" for key in before if before[key] != after.get(key)]


def build_and_push(repository: str, tag: str, **build: Any) -> str:
    """docker build (the Docker SDK's arguments), push repository:tag, and the pushed digest."""
    engine = docker.from_env(timeout=300)
    try:
        try:
            image, _ = engine.images.build(tag=f"{repository}:{tag}", rm=True, forcerm=True, **build)
        except docker.errors.BuildError as exc:
            log = "".join(str(part.get("stream") or part.get("error") or "") for part in exc.build_log)
            pytest.fail(f"{repository}:{tag} did not build: {exc}\n{log[-3000:]}")
        errors = [line["error"] for line in engine.images.push(repository, tag=tag, stream=True, decode=True) if "error" in line]
        assert not errors, f"push of {repository}:{tag} failed: {errors}"
        image.reload()
        digests = [d for d in image.attrs.get("RepoDigests") or [] if d.startswith(f"{repository}@sha256:")]
        assert digests, f"no digest of {repository}:{tag} after the push: {image.attrs.get('RepoDigests')}"
        return digests[0]
    finally:
        engine.close()
