"""The record and the guard after each verdict class: a FAIL ends the release and the guard refuses its
digest again; an ERROR (the environment or the configuration was at fault) is recorded and changes
nothing else, so the same week with the same digest runs again without force."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils import release_record as rr
from ansible_collections.vextrus.deploy.plugins.module_utils.run_plan import plan_run

A = "registry.example.com/vextrus/finance@sha256:" + "a" * 64
B = "registry.example.com/vextrus/finance@sha256:" + "b" * 64
OLD = "registry.example.com/vextrus/finance@sha256:" + "0" * 64
SVC = "finance-service"
CMD = "ansible-playbook -i inventories/production"
T0, T1 = "2026-12-03T10:00:00Z", "2026-12-03T10:05:00Z"


def run(verdict: str, cause: str = "") -> dict[str, Any]:
    return {"verdict": verdict, "started": T0, "finished": T1, "by": "user ops",
            **({"reason": f"{cause} went wrong", "cause": cause} if cause else {})}


def week(rec: dict[str, Any], n: int, digest: str = "", force: bool = False) -> dict[str, Any]:
    return rr.decide(rec, rr.WEEK, n, digest, force, OLD, CMD)


def after(rec: dict[str, Any], n: int, verdict: str, digest: str = "", cause: str = "") -> dict[str, Any]:
    decision = week(rec, n, digest)
    assert decision["allowed"], decision["message"]
    return rr.record_run(rec, decision, run(verdict, cause))


def promoted_old() -> dict[str, Any]:
    rec = rr.empty_record(SVC)
    rec.update(release=1, state=rr.PROMOTED, candidate=OLD, highest_week_passed=4)
    return rec


def week2_of_a() -> dict[str, Any]:
    """Release 2 of A, week 1 passed."""
    return after(promoted_old(), 1, "PASS", A)


@pytest.mark.parametrize(("before", "n", "digest"), [
    (week2_of_a, 2, ""),        # a later week of the release
    (week2_of_a, 2, A),         # the same, with the digest named
    (promoted_old, 1, A),       # week 1 of a new release
])
def test_an_error_is_recorded_and_the_same_week_runs_again_without_force(before, n, digest) -> None:
    rec = before()
    errored = after(rec, n, "ERROR", digest, "dry-run")
    # only the runs (and the time of the last update) changed
    assert {k: v for k, v in errored.items() if k not in ("runs", "updated")} == \
        {k: v for k, v in rec.items() if k not in ("runs", "updated")}
    last = errored["runs"][-1]
    assert (last["verdict"], last["cause"], last["week"]) == ("ERROR", "dry-run", n)
    assert last["digest"] == (digest or A)
    again = week(errored, n, digest)
    assert again["allowed"] and not again["forced"] and again["refusal"] == "", again["message"]
    # and passes this time
    passed = rr.record_run(errored, again, run("PASS"))
    assert passed["highest_week_passed"] == n and passed["state"] == rr.IN_PROGRESS
    assert [r["verdict"] for r in passed["runs"][-2:]] == ["ERROR", "PASS"]


def test_a_fail_still_burns_the_digest() -> None:
    failed = after(week2_of_a(), 2, "FAIL", cause="crash")
    assert (failed["state"], failed["failed_week"]) == (rr.FAILED, 2)
    again = week(failed, 2)
    assert not again["allowed"]
    assert f"digest {A} failed week 2" in again["message"] and "crash went wrong" in again["message"]


def test_an_error_after_a_fail_does_not_lift_the_refusal_nor_hide_the_fail() -> None:
    failed = after(week2_of_a(), 2, "FAIL", cause="crash")
    forced = week(failed, 2, force=True)
    assert forced["allowed"] and forced["forced"]
    errored = rr.record_run(failed, forced, run("ERROR", "api"))
    assert errored["state"] == rr.FAILED
    refused = week(errored, 2)
    assert not refused["allowed"]
    # the refusal quotes the last FAIL of the digest, not the ERROR after it
    assert "crash went wrong" in refused["message"] and "api went wrong" not in refused["message"]


def test_a_week1_error_starts_no_release() -> None:
    errored = after(promoted_old(), 1, "ERROR", A, "secrets")
    assert (errored["release"], errored["candidate"], errored["state"]) == (1, OLD, rr.PROMOTED)
    # week 2 of A is refused: A never passed week 1
    assert not week(errored, 2, A)["allowed"]


@pytest.mark.parametrize(("action", "state"), [(rr.ABORT, rr.IN_PROGRESS), (rr.ROLLBACK, rr.PROMOTED)])
def test_an_abort_or_rollback_that_errors_leaves_the_state(action: str, state: str) -> None:
    rec = week2_of_a() if action == rr.ABORT else promoted_old() | {"previous_stable": B}
    decision = rr.decide(rec, action, 0, "", False, OLD, CMD)
    assert decision["allowed"], decision["message"]
    errored = rr.record_run(rec, decision, run("ERROR", "rbac"), action)
    assert errored["state"] == state
    assert errored["runs"][-1]["verdict"] == "ERROR"


def test_the_run_plan_after_an_error_allows_the_week_again() -> None:
    errored = after(week2_of_a(), 2, "ERROR", cause="api")
    inputs = {"service": SVC, "replicas": 10, "hpa_min": 10, "hpa_max": 25, "weights": {1: 10, 2: 30, 3: 60, 4: 100},
              "week": 2, "command": CMD}
    plan = plan_run(errored, [], inputs).as_dict()
    assert plan["allowed"] and plan["decided"] and not plan["forced"], plan["message"]
    assert (plan["digest"], plan["week"]) == (A, 2)


@pytest.mark.parametrize("verdict", ["OK", "error", None, "FAILED"])
def test_a_verdict_outside_the_classes_is_refused(verdict: Any) -> None:
    rec = week2_of_a()
    with pytest.raises(rr.RecordError, match="run verdict must be PASS, FAIL, ERROR"):
        rr.record_run(rec, week(rec, 2), run(verdict))


def test_an_error_round_trips_through_the_configmap_and_the_status() -> None:
    errored = after(week2_of_a(), 2, "ERROR", cause="vault")
    configmap = rr.configmap(errored, f"{SVC}-release", "vextrus-production")
    parsed = rr.parse_record([json.loads(json.dumps(configmap))], SVC)
    assert parsed == errored
    status = rr.status(parsed)
    assert status["last_run"]["verdict"] == "ERROR" and status["last_run"]["cause"] == "vault"
    assert any(line.startswith("last run") and "week 2 ERROR (vault) by user ops" in line for line in status["table"])
    assert status["state"] == rr.IN_PROGRESS
