"""Fixtures of the role tests: run playbooks/apply.yml with the local inventory against the local
cluster. The fixtures of ../conftest.py (kubeconfig, k8s_client, wait) fail the session clearly
when the cluster is not up; nothing is mocked."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from clusterkit import delete_namespace, unique_name
from playbookrun import ansible_env, ansible_playbook
from rolekit import APPLY, ROOT, PlaybookRunner, Run, namespace_exists


@pytest.fixture(scope="session")
def run_playbook() -> PlaybookRunner:
    """run_playbook(extra_vars, *args, playbook=APPLY, inventory="local", timeout=600) -> Run."""

    def run(
        extra: dict[str, Any], *args: str, playbook: Path = APPLY, inventory: str = "local", timeout: float = 600
    ) -> Run:
        env = ansible_env(
            K8S_AUTH_KUBECONFIG=os.environ.get("K8S_AUTH_KUBECONFIG", str(ROOT / ".local" / "kubeconfig"))
        )
        return ansible_playbook(
            str(ROOT / "inventories" / inventory), str(playbook), extra, *args, env=env, timeout=timeout
        )

    return run


@pytest.fixture
def role_namespace(k8s_client: client.ApiClient, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace name for one test that does NOT exist yet (the roles create it): the test's name
    and a random suffix, so that no other run on the cluster (another worker, another session)
    uses it; deleted afterwards."""
    base = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")
    name = unique_name(f"vx-{base}"[:55].rstrip("-"))
    assert not namespace_exists(k8s_client, name), f"namespace {name} exists already"
    yield name
    delete_namespace(k8s_client, name)


