"""`playbooks/demo.yml` as `make demo` runs it on a fresh machine: weeks 1 -> 4 from a registry
repository nothing was ever pushed to, so week 1 really builds the example service, verifies it at
runtime with the environment its pods get (the service refuses to start without JWT_SECRET) and
pushes it; weeks 2-4 promote that digest. Each week passes on the real node, with the traffic analysis
of the local inventory (load through the Service, the local Prometheus): the canary against stable in weeks
1-3, the stable pods alone at 100 %."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from kubernetes import client

from chainkit import INVENTORY, REAL_NODE, deployments_in, unique_namespace
from clusterkit import REGISTRY, RUN_ID, building_the_example, delete_namespace, registry_digest
from playbookrun import BIN, ROOT, ansible_env, ansible_playbook, empty_report_dir, run, week_vars

DEMO_REPOSITORY = f"vextrus-test/{RUN_ID}/demo"


def test_demo_builds_verifies_and_passes_four_weeks_from_an_empty_repository(
    k8s_client: client.ApiClient, tmp_path: Path
) -> None:
    assert registry_digest(DEMO_REPOSITORY, "local") is None, f"{DEMO_REPOSITORY} must start empty"
    namespace = unique_namespace("demo")
    reports = tmp_path / "reports"
    empty_report_dir(reports)
    values = week_vars(
        namespace, reports, tmp_path / "vault",
        {**REAL_NODE, "deploy_repository": DEMO_REPOSITORY, "rollout_analysis_enabled": True,
         # the HPA, live with metrics-server, is not to chase the analysis' load (65 % of 100m)
         "resource_apply_resources": {"requests": {"cpu": "100m", "memory": "96Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}},
    )
    try:
        with building_the_example():
            done = ansible_playbook(
                str(INVENTORY),
                str(ROOT / "playbooks" / "demo.yml"),
                values,
                env=ansible_env(path=[ROOT / ".local" / "bin"]),
                timeout=1800,
            )
        assert done.rc == 0, done.tail()
        # week 1 built and verified the image: it started with the service's secrets, answered its
        # health path and stopped on SIGTERM, and only then was it pushed
        assert "passed runtime verification" in done.flat, done.tail()
        assert "stopped on SIGTERM" in done.flat, done.tail()
        assert "JWT_SECRET is not set" not in done.output
        assert "TASK [vextrus.deploy.image_build : Push the content tag]" in done.output

        weeks = sorted((json.loads(p.read_text()) for p in reports.glob("*.json")), key=lambda r: r["week"])
        assert [(r["week"], r["weight"], r["verdict"]) for r in weeks] == [
            (1, 10, "PASS"),
            (2, 30, "PASS"),
            (3, 60, "PASS"),
            (4, 100, "PASS"),
        ], [r.get("reason") for r in weeks]
        analysed = [(r["week"], r["analysis"]["verdict"], r["analysis"]["load"]["requests"] > 0,
                     [c["query"].count('track="canary"') for c in r["analysis"]["checks"][:2]]) for r in weeks]
        # the success rate's query names the track twice (requests not 5xx / all requests), the p99's once
        assert analysed == [(week, "PASS", True, [2, 1] if week < 4 else [0, 0]) for week in (1, 2, 3, 4)], analysed
        images = {r["image"] for r in weeks}
        assert len(images) == 1, images
        image = images.pop()
        assert image.startswith(f"{REGISTRY}/{DEMO_REPOSITORY}@sha256:"), image
        assert registry_digest(DEMO_REPOSITORY, "local") == image.split("@", 1)[1]

        # the secret values handed to the verification never reach the output
        vault = tmp_path / "vault"
        shown = run(
            [str(BIN / "ansible-vault"), "view", "--vault-password-file", str(vault / "password"), str(vault / "local.yml")],
            env=ansible_env(),
        )
        assert shown.rc == 0, shown.tail()
        secrets = [str(v) for v in yaml.safe_load(shown.output).values()]
        assert len(secrets) == 3 and all(len(v) >= 32 for v in secrets)
        leaked = [v[:6] + "..." for v in secrets if v in done.output or v in json.dumps(weeks)]
        assert not leaked, f"secret values in the output or the reports: {leaked}"

        # the summary the user reads at the end, and the canary gone after week 4
        assert "week  weight  verdict" in done.output
        for week in (1, 2, 3, 4):
            assert f"{week}     " in done.output.split("week  weight  verdict", 1)[1]
        assert deployments_in(k8s_client, namespace) == ["finance-service-stable"]
    finally:
        delete_namespace(k8s_client, namespace)
