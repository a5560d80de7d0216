"""The run plan as a table of cases: each row is a record, the live objects, the inputs and the action,
and the part of the plan it must produce. Weeks 1..N of 3-, 4- and 5-week tables, abort, rollback,
refusals, replica counts the split cannot honour, a first install and the HPA bounds."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.vextrus.deploy.plugins.filter.run_plan import FilterModule
from ansible_collections.vextrus.deploy.plugins.module_utils import release_record as rr
from ansible_collections.vextrus.deploy.plugins.module_utils.run_plan import RunInputs, RunPlanError, plan_run

SVC = "finance-service"
OLD = "registry.example.com/vextrus/finance@sha256:" + "0" * 64   # what stable runs before the release
A = "registry.example.com/vextrus/finance@sha256:" + "a" * 64     # the candidate
B = "registry.example.com/vextrus/finance@sha256:" + "b" * 64     # another digest
CMD = "ansible-playbook -i inventories/production"
RUN = {"verdict": "PASS", "started": "2026-11-26T10:00:00Z", "finished": "2026-11-26T10:05:00Z", "by": "user ops"}

THREE = {1: 20, 2: 50, 3: 100}
FOUR = {1: 10, 2: 30, 3: 60, 4: 100}
FIVE = [5, 10, 25, 50, 100]   # a list is a week table too


def record(state: str = rr.NONE, highest: int = 0, candidate: str = "", release: int = 0, **more: Any) -> dict[str, Any]:
    rec = rr.empty_record(SVC)
    rec.update(state=state, highest_week_passed=highest, candidate=candidate, release=release, **more)
    return rec


def deployment(track: str, image: str, replicas: int, split: int | None = None, inventory: int | None = None) -> dict[str, Any]:
    annotations = {"vextrus.io/split-replicas": str(split)} if split is not None else {}
    if inventory is not None:
        annotations["vextrus.io/inventory-replicas"] = str(inventory)
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"{SVC}-{track}", "annotations": annotations},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": SVC, "image": image}]}}}}


def hpa(low: int, high: int) -> dict[str, Any]:
    # as a list of k8s_info returns it: no kind on the item
    return {"metadata": {"name": SVC}, "spec": {"scaleTargetRef": {"kind": "Deployment", "name": f"{SVC}-stable"},
                                                "minReplicas": low, "maxReplicas": high}}


def inputs(weights: Any = None, week: Any = 1, replicas: Any = 10, hpa_min: Any = 10, hpa_max: Any = 25,
           **more: Any) -> dict[str, Any]:
    return {"service": SVC, "replicas": replicas, "hpa_min": hpa_min, "hpa_max": hpa_max,
            "weights": FOUR if weights is None else weights, "week": week, "command": CMD, **more}


# Live objects of a release in progress: stable on OLD, the canary on A.
def in_progress(stable: int, canary: int) -> list[dict[str, Any]]:
    return [deployment("stable", OLD, stable, stable), deployment("canary", A, canary, canary),
            hpa(max(1, 10 - canary), max(1, 25 - canary))]


PROMOTED_OLD = record(rr.PROMOTED, 4, OLD, 1)           # the previous release, promoted
LIVE_OLD = [deployment("stable", OLD, 10, 10), hpa(10, 25)]


def week_n(n: int) -> dict[str, Any]:
    """The record before week n of a release of A that passed week n - 1."""
    return record(rr.IN_PROGRESS, n - 1, A, 2, previous_stable=OLD)


class Case(NamedTuple):
    name: str
    record: dict[str, Any]
    live: list[dict[str, Any]]
    inputs: dict[str, Any]
    action: str
    expected: dict[str, Any]


def weekly(weights: Any, n: int, split: tuple[int, int], hpa_bounds: tuple[int, int], canary_bounds: tuple[int, int],
           last: int) -> Case:
    """Week n of a table, 10 pods, HPA 10..25: week 1 starts release 2 of A over OLD, later weeks promote A.
    Each track's HPA bounds are the week's split of 10..25."""
    stable, canary = split
    final = n == last
    rec = PROMOTED_OLD if n == 1 else week_n(n)
    live = LIVE_OLD if n == 1 else in_progress(10 - canary, canary)
    return Case(f"{len(weights)}-week table, week {n}", rec, live, inputs(weights, n, image=A if n == 1 else ""),
                rr.WEEK, {"allowed": True, "decided": True, "digest": A, "week": n, "last_week": last,
                          "split": {"stable": stable, "canary": canary},
                          "stable": {"name": f"{SVC}-stable", "image": A if final else OLD, "replicas": stable},
                          "canary": {"name": f"{SVC}-canary", "image": "" if final else A, "replicas": canary},
                          "hpa": {"name": SVC, "min": hpa_bounds[0], "max": hpa_bounds[1]},
                          "canary_hpa": {"name": f"{SVC}-canary", "min": canary_bounds[0], "max": canary_bounds[1]},
                          "new_pods_deployment": f"{SVC}-stable" if final else f"{SVC}-canary",
                          "build": False, "apply": True, "remove_canary": final, "release": 2,
                          "new_release": n == 1, "previous_stable": OLD if n == 1 else "", "warnings": []})


WEEKS = [
    # table, week, split of 10 (stable, canary), stable HPA, canary HPA: the split of 10..25 (half up)
    weekly(THREE, 1, (8, 2), (8, 20), (2, 5), 3),
    weekly(THREE, 2, (5, 5), (5, 12), (5, 13), 3),     # 12.5 rounds half up to 13
    weekly(THREE, 3, (10, 0), (10, 25), (0, 0), 3),
    weekly(FOUR, 1, (9, 1), (9, 22), (1, 3), 4),       # 2.5 rounds half up to 3
    weekly(FOUR, 2, (7, 3), (7, 17), (3, 8), 4),
    weekly(FOUR, 3, (4, 6), (4, 10), (6, 15), 4),
    weekly(FOUR, 4, (10, 0), (10, 25), (0, 0), 4),
    weekly(FIVE, 1, (9, 1), (9, 24), (1, 1), 5),       # 5 % of 10 pods is 0.5, rounded half up to one pod
    weekly(FIVE, 2, (9, 1), (9, 22), (1, 3), 5),
    weekly(FIVE, 3, (7, 3), (7, 19), (3, 6), 5),       # 2.5 rounds half up to 3
    weekly(FIVE, 4, (5, 5), (5, 12), (5, 13), 5),
    weekly(FIVE, 5, (10, 0), (10, 25), (0, 0), 5),
]

ABORT_AND_ROLLBACK = [
    Case("abort at week 2: stable grows to the service's size and its HPA gets the service's bounds, the canary goes",
         week_n(3), in_progress(7, 3), inputs(week="ignored"), rr.ABORT,
         {"allowed": True, "digest": A, "week": 2, "weight": 0, "effective_weight": 0,
          "stable": {"name": f"{SVC}-stable", "image": OLD, "replicas": 10},
          "canary": {"name": f"{SVC}-canary", "image": "", "replicas": 0},
          "hpa": {"name": SVC, "min": 10, "max": 25}, "new_pods_deployment": f"{SVC}-stable",
          "build": False, "apply": False, "remove_canary": True, "release": 2, "new_release": False}),
    Case("abort when the HPAs have scaled the tracks: stable takes the size both run",
         week_n(3), [deployment("stable", OLD, 14, 7), deployment("canary", A, 3, 3), hpa(7, 22)],
         inputs(week="ignored"), rr.ABORT,
         {"allowed": True, "stable": {"name": f"{SVC}-stable", "image": OLD, "replicas": 17},
          "hpa": {"name": SVC, "min": 10, "max": 25}, "canary_hpa": {"name": f"{SVC}-canary", "min": 0, "max": 0},
          "remove_canary": True}),
    Case("abort after a first install: stable runs the candidate, there is no HPA to change",
         record(rr.IN_PROGRESS, 1, A, 1), [deployment("stable", A, 9, 9), deployment("canary", A, 1, 1)],
         inputs(), rr.ABORT, {"allowed": True, "effective_weight": 100, "remove_canary": True,
                              "stable": {"name": f"{SVC}-stable", "image": A, "replicas": 10},
                              "hpa": {"name": SVC, "min": 0, "max": 0}}),
    Case("rollback after a 3-week release: the previous stable digest at 100 %, week 3 (rollout_week 4 ignored)",
         record(rr.PROMOTED, 3, A, 2, previous_stable=OLD), [deployment("stable", A, 10, 10), hpa(10, 25)],
         inputs(THREE, week=4), rr.ROLLBACK,
         {"allowed": True, "digest": OLD, "week": 3, "last_week": 3, "weight": 100, "effective_weight": 100,
          "split": {"stable": 10, "canary": 0}, "stable": {"name": f"{SVC}-stable", "image": OLD, "replicas": 10},
          "canary": {"name": f"{SVC}-canary", "image": "", "replicas": 0}, "hpa": {"name": SVC, "min": 10, "max": 25},
          "apply": True, "remove_canary": True, "build": False, "release": 2, "new_release": False}),
    Case("rollback after a 4-week release", record(rr.PROMOTED, 4, A, 2, previous_stable=OLD),
         [deployment("stable", A, 10, 10)], inputs(), rr.ROLLBACK,
         {"allowed": True, "digest": OLD, "week": 4, "weight": 100, "apply": True, "remove_canary": True}),
    Case("rollback after a 5-week release", record(rr.PROMOTED, 5, A, 2, previous_stable=OLD),
         [deployment("stable", A, 10, 10)], inputs(FIVE), rr.ROLLBACK,
         {"allowed": True, "digest": OLD, "week": 5, "last_week": 5, "apply": True}),
]

REFUSALS = [
    Case("jump ahead: week 3 of a digest that reached week 1", week_n(2), in_progress(9, 1),
         inputs(week=3), rr.WEEK,
         {"decided": True, "allowed": False, "forced": False, "digest": A, "week": 3, "weight": 60,
          "apply": False, "remove_canary": False, "new_pods_deployment": "", "release": 2,
          "stable": {"name": f"{SVC}-stable", "image": OLD, "replicas": 9},
          "canary": {"name": f"{SVC}-canary", "image": A, "replicas": 1}, "hpa": {"name": SVC, "min": 9, "max": 24},
          "canary_hpa": {"name": f"{SVC}-canary", "min": 0, "max": 0}}),
    Case("wrong digest: week 2 with a digest that is not the candidate", week_n(2), in_progress(9, 1),
         inputs(week=2, image=B), rr.WEEK, {"allowed": False, "digest": B, "new_release": False, "release": 2}),
    Case("failed release: week 2 again after its gate failed",
         record(rr.FAILED, 1, A, 2, failed_week=2), in_progress(9, 1), inputs(week=2), rr.WEEK,
         {"allowed": False, "apply": False}),
    Case("forced: the jump ahead with rollout_force", week_n(2), in_progress(9, 1),
         inputs(week=3, force="true"), rr.WEEK,
         {"allowed": True, "forced": True, "week": 3, "split": {"stable": 4, "canary": 6}, "apply": True}),
    Case("no release and week 2: nothing to deploy, force cannot help", record(), [], inputs(week=2, force=True),
         rr.WEEK, {"allowed": False, "forced": False, "digest": "", "release": 0}),
    Case("abort of a promoted release", record(rr.PROMOTED, 4, A, 2, previous_stable=OLD),
         [deployment("stable", A, 10, 10)], inputs(), rr.ABORT,
         {"allowed": False, "apply": False, "remove_canary": False,
          "stable": {"name": f"{SVC}-stable", "image": A, "replicas": 10}}),
    Case("rollback before the last week of a 3-week table", record(rr.IN_PROGRESS, 2, A, 2, previous_stable=OLD),
         in_progress(5, 5), inputs(THREE), rr.ROLLBACK, {"allowed": False, "week": 3, "apply": False}),
]

# Replicas 1 to 3 (and 2 at 90 %): rounding to whole pods shows only in effective_weight; where
# split_replicas keeps a rule instead (one canary pod at least, one stable pod at least below 100 %),
# the plan warns and the run goes ahead with that split.


def small(replicas: int, hpa_max: int, n: int, split: tuple[int, int], share: int, bounds: tuple[int, int],
          canary_bounds: tuple[int, int], *warning: str, weights: Any = None) -> Case:
    """Week n of a small service: the record and the live stable track as the week before left them."""
    rec = PROMOTED_OLD if n == 1 else week_n(n)
    return Case(f"{replicas} replica(s), week {n} of {weights or FOUR}", rec, [deployment("stable", OLD, replicas)],
                inputs(weights, n, replicas=replicas, hpa_min=replicas, hpa_max=hpa_max, image=A if n == 1 else ""),
                rr.WEEK, {"split": {"stable": split[0], "canary": split[1]}, "effective_weight": share,
                          "hpa": {"name": SVC, "min": bounds[0], "max": bounds[1]},
                          "canary_hpa": {"name": f"{SVC}-canary", "min": canary_bounds[0], "max": canary_bounds[1]},
                          "warnings": list(warning)})


SMALL = [
    # replicas, HPA max, week, split (stable, canary), the new version's share, each track's HPA bounds (the
    # week's split of replicas..max, at least one pod each), what the warning says
    small(1, 3, 1, (0, 1), 100, (1, 2), (1, 1), "1 replica cannot be split", "100 % of the traffic instead of 10 %"),
    small(1, 1, 3, (0, 1), 100, (1, 1), (1, 1), "the canary takes the only pod and stable runs none"),
    small(2, 6, 1, (1, 1), 50, (1, 5), (1, 1), "10 % of 2 pods is 0.2 pods, less than one",
          "50 % of the traffic instead of 10 %"),
    small(2, 6, 2, (1, 1), 50, (1, 4), (1, 2)),      # 0.6 pods round to one: rounding, no warning; 1.8 of 6 to 2
    small(2, 6, 3, (1, 1), 50, (1, 2), (1, 4)),      # 1.2 pods round to one; 3.6 of 6 to 4
    small(2, 6, 1, (1, 1), 50, (1, 1), (1, 5), "90 % of 2 pods rounds to all 2: stable keeps 1 pod",
          "50 % of the traffic instead of 90 %", weights={1: 90, 2: 100}),
    small(3, 9, 1, (2, 1), 33, (2, 8), (1, 1), "10 % of 3 pods is 0.3 pods, less than one",
          "33 % of the traffic instead of 10 %"),
    small(3, 9, 2, (2, 1), 33, (2, 6), (1, 3)),      # 0.9 pods round to one; 2.7 of 9 to 3
    small(3, 9, 3, (1, 2), 67, (1, 4), (2, 5)),      # 1.8 pods round to two; 5.4 of 9 to 5
    small(4, 10, 1, (3, 1), 25, (3, 9), (1, 1), "10 % of 4 pods is 0.4 pods"),   # staging
    small(4, 10, 3, (2, 2), 50, (2, 4), (2, 6)),     # 2.4 pods round to two
]

FIRST_INSTALL = [
    Case("first install, week 1 with an image: both tracks run it, release 1", record(), [],
         inputs(image=A), rr.WEEK,
         {"allowed": True, "digest": A, "new_release": True, "release": 1, "previous_stable": "",
          "stable_image_now": "", "effective_weight": 100, "build": False, "apply": True,
          "stable": {"name": f"{SVC}-stable", "image": A, "replicas": 9},
          "canary": {"name": f"{SVC}-canary", "image": A, "replicas": 1}, "hpa": {"name": SVC, "min": 9, "max": 22},
          "canary_hpa": {"name": f"{SVC}-canary", "min": 1, "max": 3}}),
    Case("first install, week 1 builds: undecided until the digest is known", record(), [], inputs(), rr.WEEK,
         {"build": True, "decided": False, "allowed": False, "apply": False, "remove_canary": False, "digest": "",
          "release": 0, "stable": {"name": f"{SVC}-stable", "image": "", "replicas": 0},
          "hpa": {"name": SVC, "min": 0, "max": 0}}),
    Case("first install, week 1 built: the guard decides on the built digest", record(), [],
         inputs(built_digest=A), rr.WEEK,
         {"build": True, "decided": True, "allowed": True, "digest": A, "new_release": True, "release": 1}),
    Case("a later week on a new namespace with a record but no objects", week_n(2), [], inputs(week=2),
         rr.WEEK, {"allowed": True, "stable": {"name": f"{SVC}-stable", "image": A, "replicas": 7},
                   "effective_weight": 100, "stable_image_now": ""}),
]

HPA = [
    # the split under autoscaling: the size a week splits is what both tracks run now (their HPAs' choice),
    # within the service's bounds; counts within each track's bounds and the weight are kept
    Case("the HPAs' counts are kept: same images, within each track's bounds, the canary within one pod of 30 %",
         week_n(2), [deployment("stable", OLD, 12, 7), deployment("canary", A, 5, 3)], inputs(week=2), rr.WEEK,
         {"split": {"stable": 12, "canary": 5}, "stable": {"name": f"{SVC}-stable", "image": OLD, "replicas": 12},
          "canary": {"name": f"{SVC}-canary", "image": A, "replicas": 5}, "hpa": {"name": SVC, "min": 7, "max": 17},
          "canary_hpa": {"name": f"{SVC}-canary", "min": 3, "max": 8}, "effective_weight": 29}),
    Case("a canary that fell behind the weight is split again from the service's size (the HPAs' total)",
         week_n(2), [deployment("stable", OLD, 14, 7), deployment("canary", A, 3, 3)], inputs(week=2), rr.WEEK,
         {"split": {"stable": 12, "canary": 5}, "stable": {"name": f"{SVC}-stable", "image": OLD, "replicas": 12},
          "canary": {"name": f"{SVC}-canary", "image": A, "replicas": 5}}),
    Case("a new week moves pods between the tracks and keeps the size the HPAs chose", week_n(3),
         [deployment("stable", OLD, 12, 7), deployment("canary", A, 5, 3)], inputs(week=3),
         rr.WEEK, {"split": {"stable": 7, "canary": 10}, "stable": {"name": f"{SVC}-stable", "image": OLD, "replicas": 7},
                   "canary": {"name": f"{SVC}-canary", "image": A, "replicas": 10},
                   "hpa": {"name": SVC, "min": 4, "max": 10}, "canary_hpa": {"name": f"{SVC}-canary", "min": 6, "max": 15}}),
    Case("the inventory's replicas changed since the last run (4 -> 10): the operator's size, not the HPAs'",
         week_n(2), [deployment("stable", OLD, 3, 3, inventory=4), deployment("canary", A, 1, 1, inventory=4)],
         inputs(week=2), rr.WEEK, {"split": {"stable": 7, "canary": 3},
                                   "stable": {"name": f"{SVC}-stable", "image": OLD, "replicas": 7}}),
    Case("the same inventory replicas as the last run: the size the HPAs chose", week_n(2),
         [deployment("stable", OLD, 12, 7, inventory=10), deployment("canary", A, 5, 3, inventory=10)],
         inputs(week=2), rr.WEEK, {"stable": {"name": f"{SVC}-stable", "image": OLD, "replicas": 12}}),
    Case("a size beyond the service's bounds is brought within them", week_n(2), [deployment("stable", OLD, 30, 7)],
         inputs(week=2), rr.WEEK, {"split": {"stable": 17, "canary": 8},
                                   "stable": {"name": f"{SVC}-stable", "image": OLD, "replicas": 17}}),
    Case("week 4 gives stable the whole size the HPAs chose, and there is no canary HPA", week_n(4),
         [deployment("stable", OLD, 8, 4), deployment("canary", A, 12, 6)], inputs(week=4), rr.WEEK,
         {"split": {"stable": 20, "canary": 0}, "stable": {"name": f"{SVC}-stable", "image": A, "replicas": 20},
          "hpa": {"name": SVC, "min": 10, "max": 25}, "canary_hpa": {"name": f"{SVC}-canary", "min": 0, "max": 0}}),
    Case("the minimum never falls below 1, the maximum never below the minimum", week_n(3), [],
         inputs(week=3, replicas=3, hpa_min=3, hpa_max=3), rr.WEEK,
         {"split": {"stable": 1, "canary": 2}, "hpa": {"name": SVC, "min": 1, "max": 1},
          "canary_hpa": {"name": f"{SVC}-canary", "min": 2, "max": 2}}),
    Case("a stable image set in the inventory overrides the live one below 100 %", week_n(2),
         [deployment("stable", OLD, 7, 7)], inputs(week=2, stable_image=B), rr.WEEK,
         {"stable": {"name": f"{SVC}-stable", "image": B, "replicas": 7}, "stable_image_now": OLD}),
]


CASES = WEEKS + ABORT_AND_ROLLBACK + REFUSALS + SMALL + FIRST_INSTALL + HPA


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_plan(case: Case) -> None:
    plan = plan_run(case.record, case.live, case.inputs, case.action).as_dict()
    for key, want in case.expected.items():
        if key == "warnings":
            assert len(plan["warnings"]) == (1 if want else 0), plan["warnings"]
            assert all(part in plan["warnings"][0] for part in want), plan["warnings"]
        else:
            assert plan[key] == want, f"{key}: {plan[key]!r} != {want!r}\n{plan}"
    # the run writes nothing unless the guard allowed it, and a refusal says why
    if not plan["allowed"]:
        assert not plan["apply"] and not plan["remove_canary"] and plan["new_pods_deployment"] == ""
        assert plan["message"].startswith("Refused") or not plan["decided"]
    assert plan["last_week"] == len(plan["weights"])


@pytest.mark.parametrize(("case", "says"), [(REFUSALS[0], f"week 3 needs week 2 passed, and digest {A} reached week 1"),
                                            (REFUSALS[1], f"digest {B} is not the candidate"),
                                            (REFUSALS[2], f"digest {A} failed week 2"),
                                            (REFUSALS[3], "Forced (rollout_force=true) over: week 3 needs week 2"),
                                            (REFUSALS[4], "rollout_force cannot help"),
                                            (REFUSALS[5], "use playbooks/rollback.yml"),
                                            (REFUSALS[6], "not promoted by week 3")])
def test_the_message_is_the_guards(case: Case, says: str) -> None:
    plan = plan_run(case.record, case.live, case.inputs, case.action)
    assert says in plan.message
    assert plan.message.startswith("Forced" if plan.forced else "Refused, nothing was written: ")


@pytest.mark.parametrize("weights", [THREE, FOUR, FIVE], ids=["3 weeks", "4 weeks", "5 weeks"])
def test_a_release_through_every_week_then_a_rollback(weights: Any) -> None:
    """The plan is the decision the record takes: the last week of the table promotes the release."""
    last = len(weights)
    rec, live = PROMOTED_OLD, list(LIVE_OLD)
    for n in range(1, last + 1):
        plan = plan_run(rec, live, inputs(weights, str(n), image=A if n == 1 else ""), rr.WEEK).as_dict()
        assert plan["allowed"], plan["message"]
        rec = rr.record_run(rec, plan, RUN)
        assert rec["state"] == (rr.PROMOTED if n == last else rr.IN_PROGRESS)
        live = [deployment("stable", plan["stable"]["image"], plan["stable"]["replicas"], plan["split"]["stable"])]
    assert (rec["release"], rec["previous_stable"], rec["highest_week_passed"]) == (2, OLD, last)
    back = plan_run(rec, live, inputs(weights, week=4), rr.ROLLBACK).as_dict()
    assert (back["allowed"], back["digest"], back["week"]) == (True, OLD, last)
    assert rr.record_run(rec, back, RUN, rr.ROLLBACK)["state"] == rr.ROLLED_BACK


@pytest.mark.parametrize(("changes", "action", "says"), [
    ({"replicas": 0, "hpa_min": 0}, rr.WEEK, "replicas 0 must be at least 1"),
    ({"replicas": 30}, rr.WEEK, "within the HPA bounds 10..25"),
    ({"hpa_min": 12, "hpa_max": 11}, rr.WEEK, "within the HPA bounds 12..11"),
    ({"replicas": "ten"}, rr.WEEK, "replicas must be an integer"),
    ({"week": 5}, rr.WEEK, "rollout_week must be one of 1, 2, 3, 4, got 5"),
    ({"weights": {1: 10, 2: 60}}, rr.WEEK, "the last week (2) must reach 100 %"),
    ({"service": "Finance_Service"}, rr.WEEK, "must be a DNS-1123 label"),
    ({"force": "maybe"}, rr.WEEK, "maybe"),
    ({"rollout_image": A}, rr.WEEK, "unknown ['rollout_image']"),
    ({}, "deploy", "action must be one of week, abort, rollback"),
])
def test_unusable_inputs_are_errors_before_anything_is_decided(changes: dict[str, Any], action: str, says: str) -> None:
    with pytest.raises(RunPlanError) as exc:
        plan_run(record(), [], {**inputs(image=A), **changes}, action)
    assert says in str(exc.value)


@pytest.mark.parametrize(("rec", "live", "says"), [
    ({"release": 0}, [], "parsed release record"),
    (record(), "finance-service-stable", "live must be a list"),
    (record(), [["not", "an", "object"]], "live must hold Kubernetes objects"),
])
def test_unusable_record_or_live_objects_are_errors(rec: Any, live: Any, says: str) -> None:
    with pytest.raises(RunPlanError, match=says):
        plan_run(rec, live, inputs(image=A))


def test_missing_inputs_are_named() -> None:
    with pytest.raises(RunPlanError, match=r"missing \['hpa_min', 'hpa_max'\]"):
        plan_run(record(), [], {"service": SVC, "replicas": 2, "weights": FOUR})


def test_typed_inputs_one_object_and_unrelated_objects() -> None:
    """RunInputs is checked like a mapping; one object is a list of one; other objects are ignored."""
    given = RunInputs(service=SVC, replicas=10, hpa_min=10, hpa_max=25, weights=FOUR, image=A)
    unrelated = [{"kind": "Deployment", "metadata": {"name": "other-stable"}},
                 {"kind": "ConfigMap", "metadata": {"name": f"{SVC}-stable"}}]
    assert plan_run(record(), unrelated, given).stable_image_now == ""
    assert plan_run(record(), deployment("stable", OLD, 10), given).stable_image_now == OLD
    with pytest.raises(RunPlanError, match="within the HPA bounds"):
        plan_run(record(), [], RunInputs(service=SVC, replicas=1, hpa_min=2, hpa_max=3, weights=FOUR))


def test_the_filter_returns_plain_data_and_ansible_errors() -> None:
    run_plan = FilterModule().filters()["run_plan"]
    plan = run_plan(record(), [], inputs(image=A))
    assert isinstance(plan, dict) and isinstance(plan["stable"], dict) and plan["warnings"] == []
    assert run_plan(record(rr.IN_PROGRESS, 1, A, 1), [], inputs(), "abort")["remove_canary"] is True
    with pytest.raises(AnsibleFilterError, match="rollout_week must be one of"):
        run_plan(record(), [], inputs(week=9, image=A))


def test_whether_a_canary_exists_when_the_run_starts() -> None:
    """What a canary removal deletes: the live canary, whatever the plan leaves."""
    rec = record(rr.IN_PROGRESS, 3, A, 2, previous_stable=OLD)
    assert plan_run(rec, in_progress(4, 6), inputs(week=4), rr.WEEK).canary_exists is True
    assert plan_run(rec, in_progress(4, 6), inputs(), rr.ABORT).canary_exists is True
    assert plan_run(rec, LIVE_OLD, inputs(week=4), rr.WEEK).canary_exists is False
    assert plan_run(record(), [], inputs(image=A)).canary_exists is False


# A week run again: the record's last run passed week 2 of A, its traffic analysis included.
ANALYSED = {**RUN, "analysed": True}


def _after_week_2(run: dict[str, Any], *later: tuple[dict[str, Any], str, str]) -> dict[str, Any]:
    rec = week_n(2)
    plan = plan_run(rec, in_progress(7, 3), inputs(week=2), rr.WEEK).as_dict()
    rec = rr.record_run(rec, plan, run)
    for more_run, action, week in later:
        rec = rr.record_run(rec, plan_run(rec, in_progress(7, 3), inputs(week=week), action).as_dict(), more_run, action)
    return rec


@pytest.mark.parametrize(("rec", "week", "image", "judged"), [
    (_after_week_2(ANALYSED), 2, "", "week 2 passed its traffic analysis with this digest (2026-11-26T10:05:00Z)"),
    # the analysis did not run (disabled), or did not pass
    (_after_week_2(RUN), 2, "", ""),
    (_after_week_2({**RUN, "analysed": "False"}), 2, "", ""),
    # the next week: new pods whatever the apply finds
    (_after_week_2(ANALYSED), 3, "", ""),
    # a run since: failed (an ERROR keeps the release going), then the week again
    (_after_week_2(ANALYSED, ({**RUN, "verdict": "ERROR", "cause": "gate"}, rr.WEEK, "2")), 2, "", ""),
    # an abort since: the week is refused, nothing judged
    (_after_week_2(ANALYSED, (RUN, rr.ABORT, "2")), 2, "", ""),
    # a run in progress (an interrupted one the chain has not recorded yet)
    ({**_after_week_2(ANALYSED), "running": {"action": "week", "week": 2, "digest": A}}, 2, "", ""),
    # another digest for the same week is a new release of week 1 only; week 1 of B judged nothing yet
    (_after_week_2(ANALYSED), 1, B, ""),
])
def test_a_week_run_again_knows_which_run_judged_its_pods(rec: dict[str, Any], week: int, image: str, judged: str) -> None:
    plan = plan_run(rec, in_progress(7, 3), inputs(week=week, image=image, force=week == 1), rr.WEEK)
    assert plan.judged == judged


APPLIED_NOTHING = {"resources": [{"kind": "Secret", "name": f"{SVC}-secrets", "changed": False},
                                 {"kind": "Deployment", "name": f"{SVC}-stable", "changed": False},
                                 {"kind": "Deployment", "name": f"{SVC}-canary", "changed": False}],
                   "replicas": [{"name": f"{SVC}-stable", "changed": False}, {"name": f"{SVC}-canary", "changed": False}]}


@pytest.mark.parametrize(("applied", "skip"), [
    (APPLIED_NOTHING, True),
    # another object changed: no new pods
    ({**APPLIED_NOTHING, "resources": [{"kind": "Service", "name": SVC, "changed": True}, *APPLIED_NOTHING["resources"]]}, True),
    # a Deployment changed (its template, or a label): new pods, or maybe; judged again
    ({**APPLIED_NOTHING, "resources": [{"kind": "Deployment", "name": f"{SVC}-canary", "changed": True}]}, False),
    # a track's replicas written (an operator's resize): new pods
    ({**APPLIED_NOTHING, "replicas": [{"name": f"{SVC}-canary", "changed": True}]}, False),
    # nothing applied (a first run that failed before the apply): judged again
    (None, False),
])
def test_the_analysis_is_skipped_only_for_the_judged_pods_left_as_they_were(applied: Any, skip: bool) -> None:
    plan = plan_run(_after_week_2(ANALYSED), in_progress(7, 3), inputs(week=2), rr.WEEK).as_dict()
    why = FilterModule().filters()["traffic_judged"](plan, applied)
    assert why == ("the pods are those week 2 passed its traffic analysis with this digest (2026-11-26T10:05:00Z); "
                   "this run changed no Deployment" if skip else "")
    unjudged = plan_run(_after_week_2(RUN), in_progress(7, 3), inputs(week=2), rr.WEEK).as_dict()
    assert FilterModule().filters()["traffic_judged"](unjudged, applied) == ""


def test_traffic_judged_wants_a_plan() -> None:
    with pytest.raises(AnsibleFilterError, match="expected a run plan"):
        FilterModule().filters()["traffic_judged"]({"week": 2}, APPLIED_NOTHING)
