"""The seed's broken image (pnpm links dangling after the copy, `Cannot find module '@nestjs/core'`)
released at week 2 on the real node: the gate fails on the crashing canary with the container's own
error, the rollback puts week 1 back exactly as it was, the play exits non-zero and the report says FAIL."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubernetes import client

from chainkit import REAL_NODE, SEED_ERROR, expected_split, run_week, track_state

CRASH_REASONS = {"CrashLoopBackOff", "RestartLimitExceeded"}


def test_seed_broken_image_at_week2_fails_and_rolls_back_to_week1(
    good_image: str,
    broken_image: str,
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    ns = new_namespace("broken")
    week1 = run_week(1, ns, tmp_path / "week1", chain_vault, {**REAL_NODE, "rollout_image": good_image})
    assert week1.rc == 0, week1.tail()
    assert week1.report is not None and week1.report["verdict"] == "PASS", week1.tail()
    before = track_state(k8s_client, ns)
    _, split = expected_split(1)
    assert before["stable"]["replicas"] == split["stable"] and before["canary"]["replicas"] == split["canary"], before

    week2 = run_week(2, ns, tmp_path / "week2", chain_vault, {**REAL_NODE, "rollout_image": broken_image})

    # exit status and the play's last lines carry the verdict and the container's own error
    assert week2.rc != 0, week2.tail()
    last = week2.last_lines(30)
    assert "Week 2 FAILED" in last, week2.tail()
    assert SEED_ERROR in last, week2.tail()
    assert "Rollback: restored" in last, week2.tail()

    # the report
    report = week2.report
    assert report is not None, week2.tail()
    assert report["verdict"] == "FAIL"
    assert report["image"] == broken_image
    gate = report["gate"]
    assert gate["ran"] and not gate["passed"], gate
    assert gate["reason"] in CRASH_REASONS, gate
    assert gate["deployment"] == "finance-service-canary", gate
    assert gate["pod"].startswith("finance-service-canary-"), gate
    assert gate["exit_code"] == 1, gate
    assert SEED_ERROR in gate["msg"], gate
    assert any(SEED_ERROR in line for line in gate["logs"]), gate["logs"]
    assert SEED_ERROR in report["reason"]
    assert report["smoke"] == {"ran": False}
    rollback = report["rollback"]
    assert rollback["ran"] and rollback["healthy"], rollback
    assert sorted(rollback["restored"]) == ["finance-service-canary", "finance-service-stable"], rollback
    assert week2.report_path is not None
    markdown = week2.report_path.with_suffix(".md").read_text()
    assert "**FAIL**" in markdown and SEED_ERROR in markdown

    # week 1 is serving again: the same Deployments (images, replicas, pod template), every pod
    # Ready on the good digest, none of the broken image left
    after = track_state(k8s_client, ns)
    assert after == before, f"after the rollback:\n{after}\nafter week 1:\n{before}"
    for track in ("stable", "canary"):
        assert after[track]["image"] == good_image
        assert all(image == good_image and ready for image, ready, _ in after[track]["pods"]), after[track]
