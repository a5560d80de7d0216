"""Helpers of the role tests: the playbook run result, per-test extra vars, and readers of what the
roles wrote to the local cluster. Nothing is mocked."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client

# The PrometheusRule CRD helpers stay importable from here for the role tests.
from clusterkit import crd_installed, exists, install_crd, uninstall_crd
from playbookrun import Run

ROOT = Path(__file__).resolve().parents[3]
APPLY = ROOT / "playbooks" / "apply.yml"
DIGEST_A = "127.0.0.1:5000/vextrus/finance@sha256:" + "a" * 64
DIGEST_B = "127.0.0.1:5000/vextrus/finance@sha256:" + "b" * 64
APISERVER_URL = "https://127.0.0.1:6443"


PlaybookRunner = Callable[..., Run]


def profile(namespace: str, tmp: Path, **overrides: Any) -> dict[str, Any]:
    """Extra vars for one test: its own namespace and its own generated local vault files."""
    values: dict[str, Any] = {
        "deploy_namespace": namespace,
        "deploy_local_vault_file": str(tmp / "vault" / "local.yml"),
        "deploy_local_vault_password_file": str(tmp / "vault" / "password"),
        "deploy_node_selector": {"type": "kwok"},
        "deploy_tolerations": [],
        # kwok pods need no real image; the local inventory itself builds one (rollout_image "")
        "rollout_image": "127.0.0.1:5000/vextrus/finance:local",
    }
    values.update(overrides)
    return values


def namespace_exists(api: client.ApiClient, name: str) -> bool:
    """True when the namespace exists (it may be terminating)."""
    return exists(lambda: client.CoreV1Api(api).read_namespace(name))


def fingerprints(api: client.ApiClient, namespace: str) -> dict[str, str]:
    """A fingerprint of every object the two roles manage in the namespace: its resourceVersion,
    or, for kinds whose status controllers keep updating (Deployment, HPA, PDB), its generation,
    labels and annotations (any write by the roles changes one of them)."""
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    rbac, net = client.RbacAuthorizationV1Api(api), client.NetworkingV1Api(api)
    auto, policy = client.AutoscalingV2Api(api), client.PolicyV1Api(api)
    result = {"Namespace": core.read_namespace(namespace).metadata.resource_version}
    static = {
        "ServiceAccount": core.list_namespaced_service_account(namespace),
        "Secret": core.list_namespaced_secret(namespace),
        "Service": core.list_namespaced_service(namespace),
        "Role": rbac.list_namespaced_role(namespace),
        "RoleBinding": rbac.list_namespaced_role_binding(namespace),
        "NetworkPolicy": net.list_namespaced_network_policy(namespace),
    }
    for kind, listing in static.items():
        for item in listing.items:
            result[f"{kind}/{item.metadata.name}"] = item.metadata.resource_version
    living = {
        "Deployment": apps.list_namespaced_deployment(namespace),
        "HorizontalPodAutoscaler": auto.list_namespaced_horizontal_pod_autoscaler(namespace),
        "PodDisruptionBudget": policy.list_namespaced_pod_disruption_budget(namespace),
    }
    for kind, listing in living.items():
        for item in listing.items:
            meta = item.metadata
            result[f"{kind}/{meta.name}"] = json.dumps(
                [meta.generation, meta.labels, meta.annotations], sort_keys=True
            )
    return result


def deployer_kubeconfig(api: client.ApiClient, namespace: str, ca: Path, dest: Path) -> Path:
    """A kubeconfig at ``dest`` that authenticates as the deployer ServiceAccount of ``namespace``
    (a 15-minute token), to prove what the deployer Role allows."""
    token = (
        client.CoreV1Api(api)
        .create_namespaced_service_account_token(
            "vextrus-deployer",
            namespace,
            client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(audiences=[], expiration_seconds=900)),
        )
        .status.token
    )
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "local",
                "cluster": {
                    "server": APISERVER_URL,
                    "certificate-authority-data": base64.b64encode(ca.read_bytes()).decode(),
                },
            }
        ],
        "users": [{"name": "deployer", "user": {"token": token}}],
        "contexts": [{"name": "deployer", "context": {"cluster": "local", "user": "deployer", "namespace": namespace}}],
        "current-context": "deployer",
    }
    dest.write_text(yaml.safe_dump(config))
    dest.chmod(0o600)
    return dest
