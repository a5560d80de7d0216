"""Fixtures for the tests on the real node (localcluster/node): nothing is mocked.

The session fixture `real_node` runs localcluster/node/up.sh, which is idempotent (about a second
when the node already runs), so these tests need only the control plane (localcluster/up.sh) and
the registry (localcluster/infra/up.sh). The generic fixtures (kubeconfig, kubectl, namespace,
wait) come from tests/integration/conftest.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from realnodekit import (
    NODE_NAME,
    ApplyPod,
    build_and_push_test_image,
    pod_json,
    pod_manifest,
    node_up,
)


@pytest.fixture(scope="session")
def real_node(kubeconfig: Path, kubectl: Callable[..., subprocess.CompletedProcess[str]]) -> str:
    """The real node, Ready (started by the idempotent up.sh when needed)."""
    node_up()
    node = json.loads(kubectl("get", "node", NODE_NAME, "-o", "json").stdout)
    ready = [c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"]
    assert ready == ["True"], f"node {NODE_NAME} is not Ready after up.sh: {node['status']['conditions']}"
    return NODE_NAME


@pytest.fixture(scope="session")
def test_image(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The small HTTP server image, pushed to 127.0.0.1:5000, referenced by digest."""
    return build_and_push_test_image(tmp_path_factory.mktemp("realnode-image"))


@pytest.fixture(scope="session")
def kubectl_argv(kubectl: Callable[..., subprocess.CompletedProcess[str]]) -> list[str]:
    """The command prefix the kubectl fixture runs (binary, --kubeconfig, path), for processes
    that keep running, such as port-forward."""
    argv = list(kubectl("version", "--client", "-o", "json").args)
    assert argv[1] == "--kubeconfig", argv
    return argv[:3]


@pytest.fixture
def apply_pod(
    real_node: str, namespace: str, kubectl: Callable[..., subprocess.CompletedProcess[str]]
) -> ApplyPod:
    """apply_pod(name, image, **pod_manifest kwargs) -> the pod as created (scheduled or not)."""

    def apply(name: str, image: str, **kwargs: Any) -> dict[str, Any]:
        manifest = pod_manifest(name, image, **kwargs)
        kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps(manifest))
        return pod_json(kubectl, namespace, name)

    return apply
