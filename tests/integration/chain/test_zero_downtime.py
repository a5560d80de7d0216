"""No request lost while the chain changes pods: a shorter run of bench/zero_downtime (its helpers, the same
load: keep-alive connections through the Service's ClusterIP, an API call and /health) on the real node.

5 pods, so that each week changes the split (week 1: 4 + 1, week 2: 3 + 2, week 3: 2 + 3): week 2 and week 3
replace pods of both tracks, and the abort at week 3 takes away three of five pods. The abort first gives
stable the service's 5 pods back, so the ready pods never drop below the PodDisruptionBudget (50 % of 5:
3). Every transition: every request answered 2xx, counted, not timed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client

from chainkit import REAL_NODE, track_state
from loadkit import service_load, transitions, week_passes

FIVE_PODS = {**REAL_NODE, "rollout_analysis_enabled": False, "deploy_replicas": 5, "deploy_hpa_min": 5, "deploy_hpa_max": 10,
             # CPU enough that the HPA does not chase the load (its own tests: test_autoscaling)
             "resource_apply_resources": {"requests": {"cpu": "100m", "memory": "96Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}}
PDB_MIN_AVAILABLE = 3  # 50 % of 5, rounded up
RATE = 30


def test_no_request_is_lost_across_weeks_2_and_3_and_an_abort(
    good_image: str, new_namespace: Callable[[str], str], chain_vault: Path, tmp_path: Path,
    k8s_client: client.ApiClient,
) -> None:
    ns = new_namespace("zero")
    week_passes(1, ns, tmp_path / "week1", chain_vault, {**FIVE_PODS, "rollout_image": good_image})
    spec = service_load(k8s_client, ns, RATE)

    def step(name: str, week: int, playbook: str = "") -> transitions.Transition:
        def action() -> tuple[dict[str, Any] | None, float]:
            done = week_passes(week, ns, tmp_path / name, chain_vault, FIVE_PODS, playbook=playbook)
            return done.report, done.seconds
        return transitions.under_load(name, spec, action, transitions.ReadyWatch(k8s_client, ns))

    rows = [step("week2", 2), step("week3", 3)]
    assert track_state(k8s_client, ns)["canary"]["replicas"] == 3, track_state(k8s_client, ns)
    rows.append(step("abort", 0, "abort.yml"))
    table = transitions.table(rows)
    print("\n" + table)
    for row in rows:
        assert row.verdict == "PASS", table
        # about RATE requests a second for the whole run: the load really ran through the transition
        assert row.requests >= RATE * 5, table
        assert row.non_2xx == 0 and row.unanswered == 0 and set(row.status_codes) == {"200"}, table
        assert row.min_ready >= PDB_MIN_AVAILABLE, table
    after = track_state(k8s_client, ns)
    assert after["canary"] is None and after["stable"]["replicas"] == 5, after
    assert [ready for _image, ready, _node in after["stable"]["pods"]] == [True] * 5, after
