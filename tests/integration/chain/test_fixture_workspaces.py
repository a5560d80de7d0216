"""Week 1 of the chain for services shaped unlike the example (tests/fixtures/workspaces): each is
built from its own pnpm workspace, verified at runtime with its own shape (port, start command,
health paths, shutdown) and rolled out on the real node, where its pods must really run and answer.

- ledger-esm: pnpm 10 with catalogs and an injected workspace package, ESM, Node 24 (engines
  ">=22"), the service in apps/, port 3000, /healthz and /readyz, started from build/server.js.
- status-fastify: pnpm 9, CommonJS, the Fastify adapter, Node 20, the service in packages/,
  port 8080, /status and no readiness endpoint.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from chainkit import REAL_NODE, read_deployment, run_week, unique_namespace
from clusterkit import REGISTRY, RUN_ID, delete_namespace

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "workspaces"
ROOT = FIXTURES.parents[2]

# What each fixture's pods must show, besides what its shape says.
EXPECTED = {
    "ledger-esm": {"node_major": "24", "smoke_checks": ["health", "readiness"]},
    "status-fastify": {"node_major": "20", "smoke_checks": ["health"]},
}


def fixture_profile(name: str) -> dict[str, Any]:
    """The fixture's inventory profile, with its workspace as an absolute path and a registry
    repository of this test session (so its week 1 really builds and verifies)."""
    profile = yaml.safe_load((FIXTURES / f"{name}.vars.yml").read_text())
    profile["deploy_build_context"] = str(ROOT / profile["deploy_build_context"])
    profile["deploy_repository"] = f"vextrus-test/{RUN_ID}/fixture-{name}"
    return profile


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_workspace_passes_week1_on_the_real_node(
    name: str, k8s_client: client.ApiClient, chain_vault: Path, tmp_path: Path
) -> None:
    profile = fixture_profile(name)
    shape = profile["deploy_service_shape"]
    service = profile["deploy_service_name"]
    namespace = unique_namespace(f"fx-{name[:6]}")
    # No base images given: the Node major of the workspace (engines.node, .nvmrc) picks them
    # from the local inventory's deploy_node_bases.
    extra = {**REAL_NODE, **profile, "rollout_image": ""}
    try:
        run = run_week(1, namespace, tmp_path / "week1", chain_vault, extra, timeout=1500, base_images=False)
        assert run.rc == 0, run.tail()
        report = run.report
        assert report is not None and report["verdict"] == "PASS", run.tail()
        assert report["image"].startswith(f"{REGISTRY}/{profile['deploy_repository']}@sha256:"), report["image"]
        assert "passed runtime verification" in run.flat and "stopped on SIGTERM" in run.flat, run.tail()
        assert f"node-runtime:{EXPECTED[name]['node_major']}" in run.output, run.tail()

        # the smoke test asked the shape's paths, and only the checks the shape has
        checks = {c["name"]: c for c in report["smoke"]["checks"]}
        assert sorted(checks) == sorted(EXPECTED[name]["smoke_checks"]), checks
        assert all(c["ran"] and c["passed"] for c in checks.values()), checks
        urls = [u["url"] for c in checks.values() for u in c["urls"]]
        assert any(url.endswith(shape["health"]["smoke"]) for url in urls), urls

        # the Deployment carries the shape: port, probes, grace period, preStop
        for track in ("stable", "canary"):
            deployment = read_deployment(k8s_client, namespace, f"{service}-{track}")
            assert deployment is not None, track
            pod = deployment.spec.template.spec
            container = pod.containers[0]
            assert [p.container_port for p in container.ports] == [shape["port"]]
            assert container.liveness_probe.http_get.path == shape["health"]["liveness"]
            assert container.readiness_probe.http_get.path == (shape["health"]["readiness"] or shape["health"]["liveness"])
            assert container.startup_probe.http_get.path == shape["health"]["startup"]
            assert pod.termination_grace_period_seconds == shape["shutdown"]["grace_seconds"]
            assert container.lifecycle.pre_stop.sleep.seconds == shape["shutdown"]["prestop_seconds"]
            assert not [e for e in container.env or [] if e.value_from], "the fixture needs no secrets"
            assert deployment.status.ready_replicas == deployment.spec.replicas, deployment.status
    finally:
        delete_namespace(k8s_client, namespace)
