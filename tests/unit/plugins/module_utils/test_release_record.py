"""The release record and the promotion guard, as pure functions: every rule of the guard, the record
after each kind of run, the ConfigMap round trip and the status table."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils import release_record as rr

A = "registry.example.com/vextrus/finance@sha256:" + "a" * 64
B = "registry.example.com/vextrus/finance@sha256:" + "b" * 64
C = "registry.example.com/vextrus/finance@sha256:" + "c" * 64
CMD = "ansible-playbook -i inventories/production"
RUN = {"verdict": "PASS", "started": "2026-11-26T10:00:00Z", "finished": "2026-11-26T10:05:00Z", "by": "user ops"}


def record(**changes: Any) -> dict[str, Any]:
    rec = rr.empty_record("finance-service")
    rec.update(changes)
    return rec


def fail_run(**extra: Any) -> dict[str, Any]:
    return {**RUN, "verdict": "FAIL", "reason": "smoke test: /health answered 503", **extra}


def week(rec: dict[str, Any], n: int, digest: str = "", force: bool = False, stable: str = "") -> dict[str, Any]:
    return rr.decide(rec, rr.WEEK, n, digest, force, stable, CMD)


# --- the guard -------------------------------------------------------------------------------------

def test_week1_without_a_record_starts_the_first_release() -> None:
    decision = week(record(), 1, A)
    assert decision["allowed"] and decision["new_release"] and not decision["forced"]
    assert decision["digest"] == A and decision["week"] == 1
    assert decision["previous_stable"] == ""


def test_week1_with_a_new_digest_starts_a_new_release_and_remembers_stable() -> None:
    rec = record(release=1, state=rr.IN_PROGRESS, candidate=A, highest_week_passed=2)
    decision = week(rec, 1, B, stable=A)
    assert decision["allowed"] and decision["new_release"]
    assert decision["previous_stable"] == A


@pytest.mark.parametrize("n", [2, 3, 4])
def test_a_later_week_without_a_record_is_refused_with_the_way_to_start(n: int) -> None:
    decision = week(record(), n)
    assert not decision["allowed"]
    assert f"{CMD} playbooks/week1.yml" in decision["message"]
    assert decision["message"].startswith("Refused, nothing was written")


@pytest.mark.parametrize("force", [False, True])
def test_a_later_week_without_any_digest_is_refused_and_force_is_not_offered(force: bool) -> None:
    decision = week(record(), 2, force=force)
    assert not decision["allowed"] and not decision["forced"]
    assert "rollout_force cannot help" in decision["message"] and "or force it" not in decision["message"]


WEEK_RULES = [(0, 1, True), (1, 2, True), (1, 3, False), (1, 4, False), (2, 3, True), (2, 4, False),
              (3, 4, True), (3, 2, True), (4, 4, True), (4, 1, True)]


@pytest.mark.parametrize(("highest", "n", "allowed"), WEEK_RULES)
def test_a_week_needs_the_previous_week_passed(highest: int, n: int, allowed: bool) -> None:
    state = rr.PROMOTED if highest == 4 else rr.IN_PROGRESS
    decision = week(record(release=1, state=state, candidate=A, highest_week_passed=highest), n)
    assert decision["allowed"] is allowed, decision
    assert decision["digest"] == A and not decision["new_release"]
    if not allowed:
        assert f"week {n} needs week {n - 1} passed" in decision["refusal"]
        assert f"digest {A} reached week {highest}" in decision["refusal"]
        assert f"Proceed with: {CMD} playbooks/week{highest + 1}.yml" in decision["refusal"]


def test_jumping_ahead_with_force_is_allowed_and_says_what_it_overrode() -> None:
    decision = week(record(release=1, state=rr.IN_PROGRESS, candidate=A, highest_week_passed=1), 3, force=True)
    assert decision["allowed"] and decision["forced"]
    assert "week 3 needs week 2 passed" in decision["refusal"]
    assert decision["message"].startswith("Forced (rollout_force=true) over:")


def test_force_without_a_reason_to_refuse_is_not_recorded_as_forced() -> None:
    decision = week(record(release=1, state=rr.IN_PROGRESS, candidate=A, highest_week_passed=1), 2, force=True)
    assert decision["allowed"] and not decision["forced"] and decision["refusal"] == ""


@pytest.mark.parametrize("n", [2, 3, 4])
def test_a_later_week_with_another_digest_is_refused(n: int) -> None:
    decision = week(record(release=1, state=rr.IN_PROGRESS, candidate=A, highest_week_passed=3), n, B)
    assert not decision["allowed"]
    assert f"digest {B} is not the candidate of the current release ({A}, which reached week 3)" in decision["refusal"]
    assert f"week {n} deploys only the digest that passed week {n - 1}" in decision["refusal"]
    assert f"{CMD} playbooks/week1.yml -e rollout_image={B}" in decision["refusal"]


@pytest.mark.parametrize("n", [1, 2, 3])
def test_a_release_whose_gate_failed_is_not_re_run(n: int) -> None:
    failed = rr.record_run(record(release=1, state=rr.IN_PROGRESS, candidate=A, highest_week_passed=1),
                           {"allowed": True, "digest": A, "week": 2}, fail_run())
    decision = week(failed, n, A if n == 1 else "")
    assert not decision["allowed"], decision
    assert f"digest {A} failed week 2 at 2026-11-26T10:05:00Z (smoke test: /health answered 503)" in decision["refusal"]
    assert "it reached week 1" in decision["refusal"]
    forced = week(failed, n, A if n == 1 else "", force=True)
    assert forced["allowed"] and forced["forced"]


def test_a_failed_release_does_not_block_a_new_digest_at_week1() -> None:
    failed = record(release=1, state=rr.FAILED, candidate=A, highest_week_passed=1, failed_week=2)
    decision = week(failed, 1, B, stable=C)
    assert decision["allowed"] and decision["new_release"] and decision["previous_stable"] == C


@pytest.mark.parametrize(("state", "says"), [(rr.ABORTED, "was aborted"), (rr.ROLLED_BACK, "was rolled back")])
def test_an_ended_release_is_not_continued(state: str, says: str) -> None:
    decision = week(record(release=1, state=state, candidate=A, highest_week_passed=4 if state == rr.ROLLED_BACK else 2), 1, A)
    assert not decision["allowed"] and says in decision["refusal"]


@pytest.mark.parametrize(("state", "allowed"), [(rr.NONE, False), (rr.IN_PROGRESS, True), (rr.FAILED, True),
                                                (rr.ABORTED, True), (rr.PROMOTED, False), (rr.ROLLED_BACK, False)])
def test_abort(state: str, allowed: bool) -> None:
    rec = record(release=1 if state != rr.NONE else 0, state=state, candidate=A if state != rr.NONE else "",
                 highest_week_passed=2)
    decision = rr.decide(rec, rr.ABORT, 0)
    assert decision["allowed"] is allowed, decision
    if state == rr.PROMOTED:
        assert "playbooks/rollback.yml" in decision["refusal"]


@pytest.mark.parametrize(("state", "previous", "allowed"), [(rr.PROMOTED, A, True), (rr.ROLLED_BACK, A, True),
                                                            (rr.PROMOTED, "", False), (rr.IN_PROGRESS, A, False),
                                                            (rr.FAILED, A, False), (rr.NONE, "", False)])
def test_rollback_needs_a_promoted_release_and_a_previous_stable_digest(state: str, previous: str, allowed: bool) -> None:
    rec = record(release=2, state=state, candidate=B, previous_stable=previous, highest_week_passed=4)
    decision = rr.decide(rec, rr.ROLLBACK, 1, command=CMD)
    assert decision["allowed"] is allowed, decision
    if allowed:
        assert (decision["digest"], decision["week"]) == (A, 4)
    elif state == rr.IN_PROGRESS:
        assert f"{CMD} playbooks/abort.yml" in decision["refusal"]


def test_a_forced_rollback_still_needs_a_digest() -> None:
    forced = rr.decide(record(release=2, state=rr.IN_PROGRESS, candidate=B, previous_stable=A), rr.ROLLBACK, 4, force=True)
    assert forced["allowed"] and forced["forced"] and forced["digest"] == A
    nothing = rr.decide(record(release=1, state=rr.PROMOTED, candidate=B), rr.ROLLBACK, 4, force=True)
    assert not nothing["allowed"] and "rollout_force cannot help" in nothing["message"]
    assert "or force it" not in nothing["message"]


@pytest.mark.parametrize(("action", "n"), [("deploy", 1), (rr.WEEK, 0), (rr.WEEK, 5)])
def test_bad_guard_input_is_an_error(action: str, n: int) -> None:
    with pytest.raises(rr.RecordError):
        rr.decide(record(), action, n, A)


# --- the last week comes from the week table --------------------------------------------------------

@pytest.mark.parametrize(("last", "n"), [(3, 3), (5, 4), (5, 5)])
def test_the_last_week_is_the_length_of_the_week_table(last: int, n: int) -> None:
    rec = record(release=1, state=rr.IN_PROGRESS, candidate=A, highest_week_passed=n - 1)
    decision = rr.decide(rec, rr.WEEK, n, command=CMD, last_week=last)
    assert decision["allowed"] and decision["week"] == n


@pytest.mark.parametrize(("last", "n"), [(3, 4), (5, 6), (4, 5)])
def test_a_week_beyond_the_table_is_an_error(last: int, n: int) -> None:
    with pytest.raises(rr.RecordError, match=f"week must be 1 to {last}, got {n}"):
        rr.decide(record(), rr.WEEK, n, A, last_week=last)


def test_the_way_on_to_a_week_beyond_the_week_playbooks_runs_the_chain_with_that_week() -> None:
    rec = record(release=1, state=rr.IN_PROGRESS, candidate=A, highest_week_passed=4)
    refused = rr.decide(rec, rr.WEEK, 6, command=CMD, last_week=6)
    assert refused["refusal"].endswith(f"Proceed with: {CMD} playbooks/rollout.yml -e rollout_week=5")
    at_week3 = record(release=1, state=rr.IN_PROGRESS, candidate=A, highest_week_passed=3)
    assert "playbooks/week4.yml" in rr.decide(at_week3, rr.WEEK, 5, command=CMD, last_week=5)["refusal"]


@pytest.mark.parametrize("bad", [0, -1, "three", True, None])
def test_last_week_must_be_a_positive_integer(bad: Any) -> None:
    with pytest.raises(rr.RecordError, match="last_week must be the length of the week table"):
        rr.decide(record(), rr.WEEK, 1, A, last_week=bad)


def test_the_default_last_week_is_the_four_week_table() -> None:
    assert rr.DEFAULT_LAST_WEEK == 4
    rec = record(release=2, state=rr.PROMOTED, candidate=B, previous_stable=A, highest_week_passed=4)
    assert rr.decide(rec, rr.ROLLBACK, 0)["week"] == 4


@pytest.mark.parametrize("last", [3, 5])
def test_a_rollback_is_at_the_last_week_of_the_table(last: int) -> None:
    rec = record(release=2, state=rr.PROMOTED, candidate=B, previous_stable=A, highest_week_passed=last)
    assert (rr.decide(rec, rr.ROLLBACK, 0, last_week=last)["week"]) == last
    refused = rr.decide(record(release=2, state=rr.IN_PROGRESS, candidate=B, previous_stable=A), rr.ROLLBACK, 0,
                        command=CMD, last_week=last)
    assert f"not promoted by week {last}" in refused["refusal"]


@pytest.mark.parametrize(("last", "promoted_at"), [(3, 3), (4, 4), (5, 5)])
def test_passing_the_last_week_of_the_table_promotes(last: int, promoted_at: int) -> None:
    """last_week is given to record_run, or carried by the decision (a run plan carries it)."""
    for how in ("argument", "decision"):
        rec = record()
        for n in range(1, last + 1):
            decision = rr.decide(rec, rr.WEEK, n, A if n == 1 else "", last_week=last)
            if how == "decision":
                rec = rr.record_run(rec, {**decision, "last_week": last}, RUN)
            else:
                rec = rr.record_run(rec, decision, RUN, last_week=last)
            assert rec["state"] == (rr.PROMOTED if n == promoted_at else rr.IN_PROGRESS), (how, n)


# --- the record after a run ------------------------------------------------------------------------

def test_the_record_through_a_release() -> None:
    rec = record()
    for n in (1, 2, 3, 4):
        decision = week(rec, n, A if n == 1 else "", stable="")
        assert decision["allowed"], decision
        rec = rr.record_run(rec, decision, {**RUN, "report": f"local-week{n}.json"})
        assert rec["highest_week_passed"] == n
    assert rec["state"] == rr.PROMOTED and rec["release"] == 1 and rec["candidate"] == A
    assert [r["week"] for r in rec["runs"]] == [1, 2, 3, 4]
    assert rec["runs"][0] == {"release": 1, "action": "week", "week": 1, "digest": A, "verdict": "PASS",
                              "started": RUN["started"], "finished": RUN["finished"], "by": "user ops",
                              "forced": False, "report": "local-week1.json"}
    new = week(rec, 1, B, stable=A)
    rec = rr.record_run(rec, new, RUN)
    assert (rec["release"], rec["candidate"], rec["previous_stable"], rec["highest_week_passed"], rec["state"]) == (
        2, B, A, 1, rr.IN_PROGRESS)


def test_a_failed_new_release_records_the_failing_digest() -> None:
    rec = record(release=1, state=rr.PROMOTED, candidate=A, highest_week_passed=4)
    decision = week(rec, 1, B, stable=A)
    after = rr.record_run(rec, decision, fail_run())
    assert (after["release"], after["candidate"], after["state"], after["failed_week"], after["highest_week_passed"]) == (
        2, B, rr.FAILED, 1, 0)
    assert after["runs"][-1]["reason"] == "smoke test: /health answered 503"
    assert rec["candidate"] == A, "record_run must not change its input"


def test_a_forced_pass_clears_the_failure_and_keeps_what_it_overrode() -> None:
    rec = record(release=1, state=rr.FAILED, candidate=A, highest_week_passed=1, failed_week=2)
    decision = week(rec, 2, force=True)
    after = rr.record_run(rec, decision, RUN)
    assert (after["state"], after["failed_week"], after["highest_week_passed"]) == (rr.IN_PROGRESS, None, 2)
    assert after["runs"][-1]["forced"] is True and "failed week 2" in after["runs"][-1]["overrode"]


@pytest.mark.parametrize(("action", "verdict", "state"), [(rr.ABORT, "PASS", rr.ABORTED), (rr.ABORT, "FAIL", rr.IN_PROGRESS),
                                                          (rr.ROLLBACK, "PASS", rr.ROLLED_BACK), (rr.ROLLBACK, "FAIL", rr.PROMOTED)])
def test_abort_and_rollback_runs(action: str, verdict: str, state: str) -> None:
    start = rr.PROMOTED if action == rr.ROLLBACK else rr.IN_PROGRESS
    rec = record(release=2, state=start, candidate=B, previous_stable=A, highest_week_passed=4 if start == rr.PROMOTED else 2)
    decision = rr.decide(rec, action, 0)
    after = rr.record_run(rec, decision, {**RUN, "verdict": verdict}, action)
    assert after["state"] == state
    assert after["runs"][-1]["action"] == action
    assert after["candidate"] == B and after["highest_week_passed"] == rec["highest_week_passed"]


def test_only_the_last_runs_are_kept() -> None:
    rec = record(release=1, state=rr.IN_PROGRESS, candidate=A, highest_week_passed=1)
    for _run in range(rr.MAX_RUNS + 5):
        rec = rr.record_run(rec, week(rec, 1, A), RUN)
    assert len(rec["runs"]) == rr.MAX_RUNS


@pytest.mark.parametrize(("decision", "run"), [({"allowed": False, "digest": A, "week": 1}, RUN),
                                               ({"allowed": True, "digest": A, "week": 1}, {**RUN, "verdict": "OK"})])
def test_a_refused_or_unjudged_run_is_not_recorded(decision: dict[str, Any], run: dict[str, Any]) -> None:
    with pytest.raises(rr.RecordError):
        rr.record_run(record(), decision, run)


# --- the ConfigMap ---------------------------------------------------------------------------------

def test_configmap_round_trip() -> None:
    rec = rr.record_run(record(), week(record(), 1, A), RUN)
    cm = rr.configmap(rec, "finance-service-release", "vextrus-production")
    assert cm["metadata"]["name"] == "finance-service-release" and cm["metadata"]["namespace"] == "vextrus-production"
    assert cm["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "vextrus-deploy"
    assert all(isinstance(v, str) for v in cm["data"].values())
    assert (cm["data"]["state"], cm["data"]["candidate"], cm["data"]["highest-week-passed"]) == (rr.IN_PROGRESS, A, "1")
    assert rr.parse_record([cm], "finance-service") == rec


def test_no_configmap_is_an_empty_record() -> None:
    assert rr.parse_record([], "finance-service") == rr.empty_record("finance-service")
    assert rr.parse_record(None, "finance-service")["state"] == rr.NONE


@pytest.mark.parametrize(("data", "says"), [({}, "has no 'release.json'"), ({"release.json": "{nope"}, "not valid JSON"),
                                            ({"release.json": json.dumps({"state": "DONE"})}, "not a release record"),
                                            ({"release.json": "[]"}, "not a release record")])
def test_a_configmap_that_is_not_a_record_is_an_error(data: dict[str, str], says: str) -> None:
    with pytest.raises(rr.RecordError, match=says):
        rr.parse_record([{"metadata": {"name": "finance-service-release"}, "data": data}], "finance-service")


def _configmap_of(rec: dict[str, Any], **data: str) -> dict[str, Any]:
    cm = rr.configmap(rec, "finance-service-release", "vextrus-production")
    cm["data"].update(data)
    return cm


def _edited(**fields: Any) -> dict[str, Any]:
    """A recorded week 1 whose release.json has the given fields changed (the flat keys left alone)."""
    rec = rr.record_run(record(), week(record(), 1, A), RUN)
    cm = _configmap_of(rec)
    cm["data"]["release.json"] = json.dumps({**rec, **fields})
    return cm


@pytest.mark.parametrize(("fields", "says"), [
    ({"release": "one"}, "'release' must be an integer of 0 or more, found 'one' (str)"),
    ({"release": True}, "'release' must be an integer of 0 or more, found True (bool)"),
    ({"release": -1}, "'release' must be an integer of 0 or more, found -1 (int)"),
    ({"highest_week_passed": "2"}, "'highest_week_passed' must be an integer of 0 or more, found '2' (str)"),
    ({"highest_week_passed": 1.5}, "'highest_week_passed' must be an integer of 0 or more, found 1.5 (float)"),
    ({"candidate": 42}, "'candidate' must be a string (an image reference, or empty), found 42 (int)"),
    ({"previous_stable": ["a"]}, "'previous_stable' must be a string"),
    ({"failed_week": 0}, "'failed_week' must be null or a week number (1 or more), found 0 (int)"),
    ({"runs": {"week": 1}}, "'runs' must be a list of runs (mappings)"),
    ({"runs": ["week 1 PASS"]}, "'runs' must be a list of runs (mappings)"),
    ({"schema": 2}, "'schema' must be the integer 1, found 2 (int)"),
    ({"updated": 1700000000}, "'updated' must be null or a UTC time"),
    ({"running": "week 3"}, "'running' must be null or the run in progress"),
    ({"running": {"action": "week", "week": "3", "digest": A, "started": "t", "by": "u", "holder": "h"}},
     "'running' must be null or the run in progress (a mapping of week, an integer"),
    ({"service": "payments"}, "'service' must be 'finance-service' (the record of this service), found 'payments'"),
    ({"candidate": ""}, "state IN_PROGRESS needs a 'candidate' digest, found none"),
    ({"state": rr.NONE}, "state NONE (no release) cannot have a candidate or a week passed"),
    ({"state": rr.FAILED}, "state FAILED needs 'failed_week', found null"),
])
def test_a_record_with_wrong_types_or_contradictions_is_an_error_that_says_what_to_do(fields: dict[str, Any], says: str) -> None:
    with pytest.raises(rr.RecordError) as caught:
        rr.parse_record([_edited(**fields)], "finance-service")
    message = str(caught.value)
    assert says in message
    assert "kubectl -n vextrus-production delete configmap finance-service-release" in message
    assert message.endswith("Nothing was written.")


FLAT_EDITS = [("state", "PROMOTED", "state"), ("highest-week-passed", "3", "highest_week_passed"),
              ("candidate", B, "candidate"), ("previous-stable", C, "previous_stable")]


@pytest.mark.parametrize(("key", "value", "field"), FLAT_EDITS)
def test_a_flat_key_edited_by_hand_that_disagrees_with_the_record_is_an_error(key: str, value: str, field: str) -> None:
    rec = rr.record_run(record(), week(record(), 1, A), RUN)
    with pytest.raises(rr.RecordError, match=f"key '{key}' is '{value}' but 'release.json' says .* \\(field '{field}'\\)"):
        rr.parse_record([_configmap_of(rec, **{key: value})], "finance-service")


def test_a_record_through_failed_and_promoted_releases_stays_usable() -> None:
    rec = rr.record_run(record(), week(record(), 1, A), fail_run())
    assert rr.parse_record([_configmap_of(rec)], "finance-service") == rec
    rec = rr.record_run(rec, week(rec, 1, B), RUN)
    for n in (2, 3, 4):
        rec = rr.record_run(rec, week(rec, n), RUN)
    assert rec["state"] == rr.PROMOTED
    assert rr.record_problems(rec, "finance-service", _configmap_of(rec)["data"]) == []


# --- status ----------------------------------------------------------------------------------------

def _deployment(name: str, image: str, replicas: int, ready: int | None) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"image": image}]}}},
            "status": {"readyReplicas": ready} if ready is not None else {}}


def test_status_shows_ready_pods_per_track_and_the_last_run() -> None:
    rec = rr.record_run(record(), week(record(), 1, B, stable=A), RUN)
    got = rr.status(rec, [_deployment("finance-service-stable", A, 9, 9), _deployment("finance-service-canary", B, 1, None),
                          _deployment("other", C, 1, 1)])
    assert got["stable"] == {"name": "finance-service-stable", "ready": "9/9", "image": A}
    assert got["canary"] == {"name": "finance-service-canary", "ready": "0/1", "image": B}
    assert got["last_run"]["week"] == 1
    table = "\n".join(got["table"])
    assert "ready 9/9" in table and "ready 0/1" in table and "week 1 PASS by user ops" in table
    assert "IN_PROGRESS" in table


def test_status_without_deployments_or_runs() -> None:
    got = rr.status(record())
    assert got["stable"] is None and got["canary"] is None and got["last_run"] is None
    assert any(line.startswith("stable") and line.endswith("none") for line in got["table"])


# --- a run in progress and an interrupted run ----------------------------------------------------------

HOLDER = "user ops on ctl-1 pid 4242, run 2026-11-26T10:00:00Z"


def _started(rec: dict[str, Any], n: int, digest: str) -> dict[str, Any]:
    return rr.start_run(rec, week(rec, n, digest), {"started": "2026-11-26T10:00:00Z", "by": "user ops", "holder": HOLDER})


def test_a_started_run_is_in_the_record_until_its_verdict() -> None:
    rec = rr.record_run(record(), week(record(), 1, A), RUN)
    started = _started(rec, 2, A)
    assert started["running"] == {"action": "week", "week": 2, "digest": A, "started": "2026-11-26T10:00:00Z",
                                  "by": "user ops", "holder": HOLDER}
    assert {k: v for k, v in started.items() if k != "running"} == {k: v for k, v in rec.items() if k != "running"}
    # it survives the ConfigMap round trip, and the verdict clears it
    assert rr.parse_record([_configmap_of(started)], "finance-service")["running"] == started["running"]
    done = rr.record_run(started, week(rec, 2, A), RUN)
    assert done["running"] is None and done["highest_week_passed"] == 2


def test_a_refused_run_is_not_started() -> None:
    with pytest.raises(rr.RecordError, match="refused run is not recorded"):
        _started(record(), 3, A)


def test_an_interrupted_run_is_an_error_that_leaves_the_release_as_it_was() -> None:
    rec = rr.record_run(record(), week(record(), 1, A), RUN)
    rec = rr.record_run(rec, week(rec, 2, A), RUN)
    found = rr.record_interrupted(_started(rec, 3, A), "2026-11-26T10:30:00Z", "the namespace was restored")
    assert found["running"] is None
    last = found["runs"][-1]
    assert (last["verdict"], last["cause"], last["week"], last["digest"]) == ("ERROR", "interrupted", 3, A)
    assert (last["started"], last["finished"], last["by"]) == ("2026-11-26T10:00:00Z", "2026-11-26T10:30:00Z", "user ops")
    assert last["reason"].endswith("the namespace was restored")
    assert (found["state"], found["candidate"], found["highest_week_passed"]) == (rr.IN_PROGRESS, A, 2)
    # the same week runs again with the same digest, without force
    assert week(found, 3, A)["allowed"]


def test_no_run_in_progress_cannot_be_interrupted() -> None:
    with pytest.raises(rr.RecordError, match="no run in progress"):
        rr.record_interrupted(record(), "2026-11-26T10:30:00Z", "nothing")


def test_status_shows_a_run_in_progress() -> None:
    rec = rr.record_run(record(), week(record(), 1, A), RUN)
    shown = rr.status(_started(rec, 2, A))
    assert shown["running"]["week"] == 2
    line = next(row for row in shown["table"] if row.startswith("in progress"))
    assert "week 2 (week) by user ops since 2026-11-26T10:00:00Z" in line and HOLDER in line
    assert rr.status(rec)["running"] is None and not any(row.startswith("in progress") for row in rr.status(rec)["table"])


@pytest.mark.parametrize(("verdict", "analysed", "kept"), [
    ("PASS", True, True),
    ("PASS", "True", True),      # as a template renders it
    ("PASS", False, False),
    ("PASS", None, False),
    ("FAIL", True, False),       # only a pass judged the pods
    ("ERROR", True, False),
])
def test_a_run_records_that_the_analysis_judged_its_pods(verdict: str, analysed: Any, kept: bool) -> None:
    rec = rr.empty_record("finance-service")
    new = rr.record_run(rec, rr.decide(rec, rr.WEEK, 1, A, command=CMD), {**RUN, "verdict": verdict, "analysed": analysed})
    assert ("analysed" in new["runs"][-1]) is kept
    assert (rr.judged_run(new, 1, A) is not None) is kept
    assert rr.judged_run(new, 2, A) is None and rr.judged_run(new, 1, B) is None
