"""The seed's broken image (pnpm links dangling after the copy, `Cannot find module '@nestjs/core'`)
at week 2 on the real node. The promotion guard refuses it (it never passed week 1); forced, the gate
fails on the crashing canary with the container's own error, the rollback puts week 1 back exactly as
it was, the play exits 2 (FAIL: the release is at fault; the refusal exits 4, ERROR), the report says
FAIL and the release record says the forced week 2 of that digest failed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kubernetes import client

from chainkit import REAL_NODE, SEED_ERROR, expected_split, release_record, run_week, track_state

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

    # week 2 deploys only the digest that passed week 1: another image is refused before anything is
    # written, so the seed's "not tested" image cannot reach week 2 by accident ...
    refused = run_week(2, ns, tmp_path / "week2-refused", chain_vault, {**REAL_NODE, "rollout_image": broken_image})
    assert refused.rc == 4, refused.tail()
    assert "Week 2 ERROR: Refused, nothing was written" in refused.last_lines(12), refused.tail()
    assert f"digest {broken_image} is not the candidate of the current release ({good_image}" in refused.last_lines(12)
    assert refused.report is None
    assert track_state(k8s_client, ns) == before

    # ... and when someone forces it, the gate still stops it
    week2 = run_week(2, ns, tmp_path / "week2", chain_vault,
                     {**REAL_NODE, "rollout_image": broken_image, "rollout_force": True})

    # exit status and the play's last lines carry the verdict and the container's own error
    assert week2.rc == 2, week2.tail()
    last = week2.last_lines(30)
    assert "Week 2 FAILED" in last and "Cause: crash." in last, week2.tail()
    assert SEED_ERROR in last, week2.tail()
    assert "Rollback: restored" in last, week2.tail()

    # the report
    report = week2.report
    assert report is not None, week2.tail()
    assert (report["verdict"], report["cause"]) == ("FAIL", "crash")
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
    record = release_record(k8s_client, ns)
    assert (record["state"], record["candidate"], record["failed_week"]) == ("FAILED", broken_image, 2), record
    assert record["runs"][-1]["forced"] is True and record["runs"][-1]["verdict"] == "FAIL", record["runs"][-1]
    assert record["runs"][-1]["cause"] == "crash", record["runs"][-1]
    for track in ("stable", "canary"):
        assert after[track]["image"] == good_image
        assert all(image == good_image and ready for image, ready, _ in after[track]["pods"]), after[track]
