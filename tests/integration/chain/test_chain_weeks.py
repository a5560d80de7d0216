"""Weeks 1 -> 4 of the chain on the real node, as `make demo` runs them: each week passes with the
replica split of the replica_split rules for the local inventory, the pods really run the released
digest and are Ready, the report says PASS; week 4 run again changes nothing and passes again."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from chainkit import REAL_NODE, WeekRun, expected_split, run_week, track_state


@dataclass
class Week:
    run: WeekRun
    state: dict[str, Any]


@pytest.fixture(scope="module")
def weeks(
    week1_release: Any, k8s_client: client.ApiClient, chain_vault: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Week]:
    """Week 1 (the session's build), then weeks 2, 3 and 4 promoting the same digest, then week 4
    again; the cluster state is read right after each run."""
    ns = week1_release.namespace
    done = {"1": Week(week1_release.run, week1_release.state)}
    for key, week in (("2", 2), ("3", 3), ("4", 4), ("4-again", 4)):
        run = run_week(
            week,
            ns,
            tmp_path_factory.mktemp(f"week{key}-report"),
            chain_vault,
            {**REAL_NODE, "rollout_image": week1_release.image},
        )
        done[key] = Week(run, track_state(k8s_client, ns))
        assert run.rc == 0, run.tail()
    return done


@pytest.mark.parametrize("week", [1, 2, 3, 4])
def test_week_passes_with_its_split(weeks: dict[str, Week], good_image: str, week: int) -> None:
    done = weeks[str(week)]
    run, state = done.run, done.state
    weight, split = expected_split(week)

    assert run.rc == 0, run.tail()
    assert run.recap()["failed"] == 0, run.tail()
    report = run.report
    assert report is not None, run.tail()
    assert report["verdict"] == "PASS", run.tail()
    assert (report["week"], report["weight"], report["image"]) == (week, weight, good_image)
    assert report["gate"]["ran"] and report["gate"]["passed"], report["gate"]
    assert report["smoke"]["ran"] and report["smoke"]["passed"], report["smoke"]
    assert report["rollback"] == {"ran": False}

    # the cluster: the split of the replica_split rules, every pod on the released digest and Ready
    assert state["stable"] is not None, state
    assert state["stable"]["replicas"] == split["stable"], state["stable"]
    assert state["stable"]["image"] == good_image
    expected_pods = {"stable": split["stable"], "canary": split["canary"]}
    if split["canary"]:
        assert state["canary"] is not None, f"week {week} needs a canary: {state}"
        assert state["canary"]["replicas"] == split["canary"], state["canary"]
        assert state["canary"]["image"] == good_image
    else:
        assert state["canary"] is None, f"the canary must be removed at {weight} %: {state['canary']}"
    for track, count in expected_pods.items():
        pods = (state[track] or {}).get("pods", [])
        assert len(pods) == count, f"week {week} {track}: {pods}"
        assert all(image == good_image and ready for image, ready, _ in pods), f"week {week} {track}: {pods}"
        assert all(node == "real-node-0" for _, _, node in pods), f"week {week} {track} not on the real node: {pods}"

    # the gate saw every pod of the week ready
    ready = report["gate"]["ready"]
    assert ready.get("finance-service-stable") == f"{split['stable']}/{split['stable']}", ready
    if split["canary"]:
        assert ready.get("finance-service-canary") == f"{split['canary']}/{split['canary']}", ready

    # the smoke test reached the real pods: health, readiness, an authenticated call, and a 401 without token
    checks = {c["name"]: c for c in report["smoke"]["checks"]}
    assert checks and all(c["ran"] and c["passed"] for c in checks.values()), checks
    statuses = [u["last_status"] for c in checks.values() for u in c["urls"]]
    assert 200 in statuses and 401 in statuses, checks


def test_week4_again_changes_nothing_and_passes(weeks: dict[str, Week], good_image: str) -> None:
    again = weeks["4-again"]
    assert again.run.rc == 0, again.run.tail()
    recap = again.run.recap()
    assert recap["changed"] == 0, f"week 4 run again changed {recap['changed']} task(s):\n{again.run.tail()}"
    assert recap["failed"] == 0
    assert again.run.report is not None and again.run.report["verdict"] == "PASS", again.run.tail()
    assert again.state == weeks["4"].state, "week 4 run again changed the Deployments"
