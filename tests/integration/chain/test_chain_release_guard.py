"""The release record and the promotion guard on the real node, through a release's whole life as
people run it, in one namespace: week 1 of digest A, week 1 of digest B (a new release), a jump to
week 3 (refused), a failed week 2, its re-run (refused), the forced re-run, weeks 3 and 4 (promoted),
rollback.yml (A again), week 1 of the rolled-back B (refused), week 1 of C, abort.yml, and week 2
after the abort (refused). After every step status.yml must say what the cluster says, and a refused
step must have written nothing."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from chainkit import CANARY, REAL_NODE, STABLE, WeekRun, delete_namespace, read_deployment, run_week, unique_namespace

RECORD = "finance-service-release"
# A smoke test that cannot pass: nothing listens there, and the budget is short.
FAILING_SMOKE = {"deploy_base_url": "http://127.0.0.1:9", "smoke_test_timeout": 5}
AWX = {"awx_job_id": 4242, "awx_user_name": "release-manager"}


@dataclass
class Step:
    key: str
    run: WeekRun
    status: dict[str, Any]
    record: dict[str, Any] | None
    record_version: str | None
    deployments: dict[str, tuple[int, str, str] | None]
    ready: dict[str, str | None]


def _read_record(api: client.ApiClient, namespace: str) -> tuple[dict[str, Any] | None, str | None]:
    try:
        cm = client.CoreV1Api(api).read_namespaced_config_map(RECORD, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None, None
        raise
    return json.loads(cm.data["release.json"]), cm.metadata.resource_version


def _deployments(api: client.ApiClient, namespace: str) -> tuple[dict[str, tuple[int, str, str] | None], dict[str, str | None]]:
    """(generation, image, uid) and ready x/y of the stable and canary Deployments, or None."""
    shape: dict[str, tuple[int, str, str] | None] = {}
    ready: dict[str, str | None] = {}
    for track, name in (("stable", STABLE), ("canary", CANARY)):
        dep = read_deployment(api, namespace, name)
        if dep is None:
            shape[track], ready[track] = None, None
            continue
        shape[track] = (dep.metadata.generation, dep.spec.template.spec.containers[0].image, dep.metadata.uid)
        ready[track] = f"{dep.status.ready_replicas or 0}/{dep.spec.replicas}"
    return shape, ready


@pytest.fixture(scope="module")
def lifecycle(
    good_image: str,
    another_good_image: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, Any]]:
    images = {"A": good_image, "B": another_good_image("release-b"), "C": another_good_image("release-c")}
    ns = unique_namespace("guard")
    steps: dict[str, Step] = {}
    plan: list[tuple[str, int, str, dict[str, Any]]] = [
        ("week1-A", 1, "", {"rollout_image": images["A"]}),
        ("week1-B", 1, "", {"rollout_image": images["B"]}),
        ("week3-jump", 3, "", {}),
        ("week2-fails", 2, "", FAILING_SMOKE),
        ("week2-again", 2, "", {}),
        ("week2-forced", 2, "", {"rollout_force": True}),
        ("week3", 3, "", AWX),
        ("week4", 4, "", {}),
        ("rollback", 4, "rollback.yml", {}),
        ("week1-B-again", 1, "", {"rollout_image": images["B"]}),
        ("week1-C", 1, "", {"rollout_image": images["C"]}),
        ("abort", 0, "abort.yml", {}),
        ("week2-after-abort", 2, "", {}),
    ]
    try:
        for key, week, playbook, extra in plan:
            run = run_week(week, ns, tmp_path_factory.mktemp(key), chain_vault, {**REAL_NODE, **extra}, playbook=playbook)
            status_file = tmp_path_factory.mktemp(f"{key}-status") / "status.json"
            status_run = run_week(0, ns, tmp_path_factory.mktemp(f"{key}-status-report"), chain_vault,
                                  {"status_file": str(status_file)}, playbook="status.yml")
            assert status_run.rc == 0, status_run.tail()
            record, version = _read_record(k8s_client, ns)
            shape, ready = _deployments(k8s_client, ns)
            steps[key] = Step(key, run, json.loads(status_file.read_text()), record, version, shape, ready)
        yield {"images": images, "steps": steps, "namespace": ns}
    finally:
        delete_namespace(k8s_client, ns)


def _steps(lifecycle: dict[str, Any]) -> dict[str, Step]:
    return lifecycle["steps"]


# key -> (passes, state, release, highest week passed, candidate, previous stable) after the step
EXPECTED = {
    "week1-A": (True, "IN_PROGRESS", 1, 1, "A", ""),
    "week1-B": (True, "IN_PROGRESS", 2, 1, "B", "A"),
    "week3-jump": (False, "IN_PROGRESS", 2, 1, "B", "A"),
    "week2-fails": (False, "FAILED", 2, 1, "B", "A"),
    "week2-again": (False, "FAILED", 2, 1, "B", "A"),
    "week2-forced": (True, "IN_PROGRESS", 2, 2, "B", "A"),
    "week3": (True, "IN_PROGRESS", 2, 3, "B", "A"),
    "week4": (True, "PROMOTED", 2, 4, "B", "A"),
    "rollback": (True, "ROLLED_BACK", 2, 4, "B", "A"),
    "week1-B-again": (False, "ROLLED_BACK", 2, 4, "B", "A"),
    "week1-C": (True, "IN_PROGRESS", 3, 1, "C", "A"),
    "abort": (True, "ABORTED", 3, 1, "C", "A"),
    "week2-after-abort": (False, "ABORTED", 3, 1, "C", "A"),
}
REFUSED = ("week3-jump", "week2-again", "week1-B-again", "week2-after-abort")
STEP_KEYS = list(EXPECTED)


@pytest.mark.parametrize("key", STEP_KEYS)
def test_record_after_each_step(lifecycle: dict[str, Any], key: str) -> None:
    step = _steps(lifecycle)[key]
    images = lifecycle["images"]
    passes, state, release, highest, candidate, previous = EXPECTED[key]
    # PASS 0, FAIL 2 (the smoke test of week2-fails), ERROR 4 (a refusal)
    assert step.run.rc == (0 if passes else 4 if key in REFUSED else 2), step.run.tail()
    assert step.record is not None, step.run.tail()
    got = (step.record["state"], step.record["release"], step.record["highest_week_passed"],
           step.record["candidate"], step.record["previous_stable"])
    assert got == (state, release, highest, images[candidate], images.get(previous, "")), step.run.tail()


@pytest.mark.parametrize("key", STEP_KEYS)
def test_status_after_each_step_matches_the_cluster(lifecycle: dict[str, Any], key: str) -> None:
    step = _steps(lifecycle)[key]
    status = step.status
    assert "table" not in status
    assert (status["state"], status["candidate"], status["highest_week_passed"]) == (
        step.record["state"], step.record["candidate"], step.record["highest_week_passed"])
    for track in ("stable", "canary"):
        cluster = step.deployments[track]
        if cluster is None:
            assert status[track] is None, status
            continue
        assert status[track]["image"] == cluster[1], status
        assert status[track]["ready"] == step.ready[track], status
    assert status["last_run"] == step.record["runs"][-1]


@pytest.mark.parametrize("key", REFUSED)
def test_a_refused_step_writes_nothing(lifecycle: dict[str, Any], key: str) -> None:
    steps = _steps(lifecycle)
    before = steps[STEP_KEYS[STEP_KEYS.index(key) - 1]]
    step = steps[key]
    assert step.run.rc != 0, step.run.tail()
    assert "Refused, nothing was written" in step.run.last_lines(12), step.run.tail()
    assert step.record_version == before.record_version, "the refused run wrote the release record"
    assert step.deployments == before.deployments, "the refused run changed a Deployment"
    assert step.run.report is None, "a refused run writes no report"
    assert "changed=0" in step.run.output.split("PLAY RECAP")[-1], step.run.tail()


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("week3-jump", ["week 3 needs week 2 passed", "{B}", "reached week 1", "playbooks/week2.yml", "rollout_force=true"]),
        ("week2-again", ["{B}", "failed week 2", "reached week 1", "playbooks/week1.yml", "rollout_force=true"]),
        ("week1-B-again", ["{B}", "was rolled back", "playbooks/week1.yml", "rollout_force=true"]),
        ("week2-after-abort", ["{C}", "was aborted", "reached week 1", "playbooks/week1.yml"]),
    ],
)
def test_a_refusal_names_the_digest_the_week_and_the_way_on(lifecycle: dict[str, Any], key: str, says: list[str]) -> None:
    step = _steps(lifecycle)[key]
    last = step.run.last_lines(12)
    for text in says:
        assert text.format(**lifecycle["images"]) in last, f"{text!r} not in the last lines:\n{step.run.tail()}"


def test_the_failed_week_is_recorded_with_its_reason(lifecycle: dict[str, Any]) -> None:
    step = _steps(lifecycle)["week2-fails"]
    assert step.run.report is not None and step.run.report["verdict"] == "FAIL", step.run.tail()
    run = step.record["runs"][-1]
    assert (run["action"], run["week"], run["verdict"], run["digest"]) == ("week", 2, "FAIL", lifecycle["images"]["B"])
    assert "smoke test" in run["reason"], run
    assert run["report"] == step.run.report_path.name
    assert step.record["failed_week"] == 2
    # the rollback put week 1 of B back: A on stable, B on the canary, every pod ready
    assert (step.deployments["stable"][1], step.deployments["canary"][1]) == (lifecycle["images"]["A"], lifecycle["images"]["B"])
    assert step.ready == _steps(lifecycle)["week1-B"].ready, step.ready


def test_the_forced_run_is_recorded_as_forced(lifecycle: dict[str, Any]) -> None:
    step = _steps(lifecycle)["week2-forced"]
    run = step.record["runs"][-1]
    assert run["forced"] is True and run["verdict"] == "PASS", run
    assert "failed week 2" in run["overrode"], run
    assert step.run.report["release"]["forced"] is True, step.run.report
    assert "FORCED" in step.run.report_path.with_suffix(".md").read_text()
    assert all(not r["forced"] for r in step.record["runs"][:-1]), step.record["runs"]


def test_who_ran_each_step_is_recorded(lifecycle: dict[str, Any]) -> None:
    runs = _steps(lifecycle)["week3"].record["runs"]
    assert runs[-1]["by"] == "awx job 4242 (release-manager)", runs[-1]
    assert all(r["by"].startswith("user ") for r in runs[:-1]), runs


def test_week4_promotes_and_rollback_restores_the_previous_stable_digest(lifecycle: dict[str, Any]) -> None:
    steps = _steps(lifecycle)
    images = lifecycle["images"]
    assert steps["week4"].deployments["stable"][1] == images["B"]
    assert steps["week4"].deployments["canary"] is None
    rollback = steps["rollback"]
    assert rollback.deployments["stable"][1] == images["A"], rollback.run.tail()
    assert rollback.deployments["canary"] is None
    assert rollback.ready["stable"] == "2/2", rollback.ready
    report = rollback.run.report
    assert report is not None and report["verdict"] == "PASS" and report["action"] == "rollback", rollback.run.tail()
    assert report["image"] == images["A"] and report["gate"]["passed"] and report["smoke"]["passed"]
    assert rollback.run.report_path.name.startswith("local-rollback-")
    run = rollback.record["runs"][-1]
    assert (run["action"], run["digest"], run["verdict"]) == ("rollback", images["A"], "PASS")


def test_week1_of_a_new_digest_after_a_rollback_starts_a_new_release(lifecycle: dict[str, Any]) -> None:
    step = _steps(lifecycle)["week1-C"]
    images = lifecycle["images"]
    assert step.deployments["stable"][1] == images["A"]
    assert step.deployments["canary"][1] == images["C"]
    assert step.run.report["release"]["new_release"] is True and step.run.report["release"]["number"] == 3


def test_abort_grows_stable_removes_the_canary_and_keeps_serving(lifecycle: dict[str, Any]) -> None:
    steps = _steps(lifecycle)
    abort = steps["abort"]
    images = lifecycle["images"]
    assert abort.deployments["canary"] is None, abort.run.tail()
    # the same stable Deployment on the same image, grown to the service's size (the local 2 pods) before the
    # canary went, so the ready pods never fell below the PodDisruptionBudget
    assert abort.deployments["stable"][1:] == steps["week1-C"].deployments["stable"][1:], "abort replaced stable or its image"
    assert abort.ready["stable"] == "2/2", abort.ready
    report = abort.run.report
    assert report is not None and report["verdict"] == "PASS" and report["action"] == "abort", abort.run.tail()
    assert report["gate"]["passed"] and report["smoke"]["passed"], report
    assert abort.run.report_path.name.startswith("local-abort-")
    run = abort.record["runs"][-1]
    assert (run["action"], run["digest"], run["verdict"]) == ("abort", images["C"], "PASS")


def test_the_record_keeps_every_run_of_the_life(lifecycle: dict[str, Any]) -> None:
    runs = _steps(lifecycle)["week2-after-abort"].record["runs"]
    ran = [k for k in STEP_KEYS if k not in REFUSED]
    assert len(runs) == len(ran), runs
    assert [r["verdict"] for r in runs] == ["FAIL" if k == "week2-fails" else "PASS" for k in ran]
    assert [r["release"] for r in runs] == [1, 2, 2, 2, 2, 2, 2, 3, 3]
