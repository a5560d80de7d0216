"""Week tables of 3 and 5 weeks end to end on the real node, each in a namespace of its own: every
week passes with its weight's split, the last week of the table promotes the release, status.yml says
so, abort.yml ends a release in progress (3 weeks) and rollback.yml restores the previous stable
digest and is recorded at the last week (5 weeks). The images are the session's build (A) and a
relabelled copy of it (B); nothing is built here."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from chainkit import REAL_NODE, WeekRun, delete_namespace, release_record, run_week, track_state, unique_namespace

# 2 pods: one on each track below 100 % (split_replicas keeps a canary pod and a stable pod), both
# on stable at 100 %.
REPLICAS = 2
TABLES = {3: {1: 20, 2: 50, 3: 100}, 5: {1: 5, 2: 10, 3: 25, 4: 50, 5: 100}}
# (key, week, playbook, image) per table: A is the stable version a release replaces. Weeks beyond
# week4.yml run the chain with their week, as the guard's messages say.
STEPS = {
    3: [("week1", 1, "", "A"), ("week2", 2, "", "A"), ("week3", 3, "", "A"), ("status", 0, "status.yml", ""),
        ("week1-B", 1, "", "B"), ("abort", 0, "abort.yml", "")],
    5: [("week1-A", 1, "", "A"), ("week1", 1, "", "B"), ("week2", 2, "", "B"), ("week3", 3, "", "B"),
        ("week4", 4, "", "B"), ("week5", 5, "rollout.yml", "B"), ("rollback", 0, "rollback.yml", "")],
}


def _table_run(weeks: int, images: dict[str, str], api: client.ApiClient, vault: Path, tmp: pytest.TempPathFactory,
               ) -> Iterator[dict[str, tuple[WeekRun, dict[str, Any], dict[str, Any]]]]:
    """Runs the table's steps in a new namespace: key -> (run, record, Deployments) after each step."""
    ns = unique_namespace(f"table{weeks}")
    done: dict[str, tuple[WeekRun, dict[str, Any], dict[str, Any]]] = {}
    base = {**REAL_NODE, "deploy_replicas": REPLICAS, "deploy_hpa_min": REPLICAS, "rollout_weights": TABLES[weeks]}
    try:
        for key, week, playbook, image in STEPS[weeks]:
            extra = {**base, **({"rollout_image": images[image]} if week == 1 else {})}
            if playbook == "rollout.yml":
                extra["rollout_week"] = week
            if playbook == "status.yml":
                extra["status_file"] = str(tmp.mktemp(f"table{weeks}-status") / "status.json")
            run = run_week(week, ns, tmp.mktemp(f"table{weeks}-{key}"), vault, extra, playbook=playbook)
            assert run.rc == 0, run.tail()
            state = json.loads(Path(extra["status_file"]).read_text()) if playbook == "status.yml" else track_state(api, ns)
            done[key] = (run, release_record(api, ns), state)
        yield done
    finally:
        delete_namespace(api, ns)


@pytest.fixture(scope="module")
def images(good_image: str, another_good_image: Callable[[str], str]) -> dict[str, str]:
    return {"A": good_image, "B": another_good_image("release-b")}


@pytest.fixture(scope="module")
def three(images: dict[str, str], k8s_client: client.ApiClient, chain_vault: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from _table_run(3, images, k8s_client, chain_vault, tmp_path_factory)


@pytest.fixture(scope="module")
def five(images: dict[str, str], k8s_client: client.ApiClient, chain_vault: Path,
         tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from _table_run(5, images, k8s_client, chain_vault, tmp_path_factory)


@pytest.mark.parametrize("weeks", [3, 5])
def test_every_week_passes_with_its_split(weeks: int, images: dict[str, str], request: pytest.FixtureRequest) -> None:
    done = request.getfixturevalue({3: "three", 5: "five"}[weeks])
    release = "A" if weeks == 3 else "B"
    for week, weight in TABLES[weeks].items():
        run, record, state = done[f"week{week}"]
        stable, canary = (REPLICAS, 0) if weight == 100 else (1, 1)
        assert run.report is not None and run.report["verdict"] == "PASS", run.tail()
        assert (run.report["week"], run.report["weight"], run.report["image"]) == (week, weight, images[release])
        assert (record["state"], record["highest_week_passed"], record["candidate"]) == (
            "PROMOTED" if week == weeks else "IN_PROGRESS", week, images[release]), record
        # stable keeps A until the last week (the 3-week release A is a first install: A on both tracks)
        assert (state["stable"]["replicas"], state["stable"]["image"]) == (
            stable, images["A"] if week < weeks else images[release]), state["stable"]
        live_canary = state["canary"] and (state["canary"]["replicas"], state["canary"]["image"])
        assert live_canary == ((canary, images[release]) if canary else None), state["canary"]


def test_three_weeks_status_says_promoted_then_abort_keeps_stable(three: dict[str, Any], images: dict[str, str]) -> None:
    status = three["status"][2]
    assert (status["state"], status["highest_week_passed"], status["candidate"]) == ("PROMOTED", 3, images["A"])
    assert status["stable"]["image"] == images["A"] and status["canary"] is None, status
    run, record, state = three["abort"]
    assert run.report["verdict"] == "PASS" and run.report["action"] == "abort", run.tail()
    assert (record["state"], record["release"], record["candidate"]) == ("ABORTED", 2, images["B"]), record
    assert (record["runs"][-1]["action"], record["runs"][-1]["week"]) == ("abort", 1), record["runs"][-1]
    assert state["canary"] is None and state["stable"]["image"] == images["A"], state


def test_five_weeks_rollback_restores_the_previous_stable_at_week_5(five: dict[str, Any], images: dict[str, str]) -> None:
    run, record, state = five["rollback"]
    assert run.report["verdict"] == "PASS" and run.report["action"] == "rollback", run.tail()
    assert (run.report["week"], run.report["weight"], run.report["image"]) == (5, 100, images["A"])
    assert (record["state"], record["highest_week_passed"], record["previous_stable"]) == ("ROLLED_BACK", 5, images["A"])
    assert (record["runs"][-1]["action"], record["runs"][-1]["week"]) == ("rollback", 5), record["runs"][-1]
    assert state["canary"] is None and (state["stable"]["replicas"], state["stable"]["image"]) == (REPLICAS, images["A"])
