"""The replicas a run writes apart from its apply: the run plan's counts while nothing moved, the plan's rule
again on what an HPA chose when a track moved after the plan read it, a take-over from an apply that alone owns
them, the growing track first, a conflict (the object changed since it was read) read and decided again."""

from __future__ import annotations

from typing import Any

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.vextrus.deploy.plugins.filter.dry_run import FilterModule
from ansible_collections.vextrus.deploy.plugins.module_utils import release_record as rr
from ansible_collections.vextrus.deploy.plugins.module_utils.run_plan import plan_run, replicas_owners, track_counts
from ansible_collections.vextrus.deploy.plugins.module_utils.track_replicas import (
    Conflict,
    ReplicasApi,
    TrackReplicasError,
    scale_definition,
    write_track_replicas,
)

SVC = "finance-service"
OLD = "registry.example.com/vextrus/finance@sha256:" + "0" * 64
A = "registry.example.com/vextrus/finance@sha256:" + "a" * 64
FOUR = {1: 10, 2: 30, 3: 60, 4: 100}


def deployment(track: str, image: str, replicas: int, owners: tuple[str, ...] = ("vextrus-deploy-replicas",),
               version: str = "1") -> dict[str, Any]:
    managed = [{"manager": owner, "operation": "Apply", "fieldsV1": {"f:spec": {"f:replicas": {}}}} for owner in owners]
    managed.append({"manager": "vextrus-deploy", "operation": "Apply", "fieldsV1": {"f:spec": {"f:template": {}}}})
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"{SVC}-{track}", "resourceVersion": version, "managedFields": managed,
                         "annotations": {"vextrus.io/inventory-replicas": "10"}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"name": SVC, "image": image}]}}}}


def plan(week: int, stable: int, canary: int, action: str = rr.WEEK, replicas: int = 10) -> dict[str, Any]:
    live = [deployment("stable", OLD, stable)] + ([deployment("canary", A, canary)] if canary else [])
    given = {"service": SVC, "replicas": replicas, "hpa_min": 10, "hpa_max": 25, "weights": FOUR, "week": week,
             "image": A, "force": True, "command": "ansible-playbook"}
    return plan_run(rr.empty_record(SVC), live, given, action).as_dict()


@pytest.mark.parametrize(("name", "the_plan", "live", "expected"), [
    ("nothing moved: the plan's split of 12 at 30 %", plan(2, 11, 1), {"stable": 11, "canary": 1},
     {"stable": 8, "canary": 4}),
    ("stable grew to 13 after the read: the split of 14", plan(2, 11, 1), {"stable": 13, "canary": 1},
     {"stable": 10, "canary": 4}),
    ("the canary's HPA took it to its new minimum 3: only the bounds the run applied, the plan's split of 12",
     plan(2, 11, 1), {"stable": 11, "canary": 3}, {"stable": 8, "canary": 4}),
    ("the canary's HPA scaled it to 5 for its load: 11 + 5 within the bounds and one pod of 30 % of 16, kept",
     plan(2, 11, 1), {"stable": 11, "canary": 5}, {"stable": 11, "canary": 5}),
    ("the HPAs made 9 + 3, within the bounds and one pod of 30 % of 12: kept", plan(2, 11, 1),
     {"stable": 9, "canary": 3}, {"stable": 9, "canary": 3}),
    ("a track scaled beyond the service's bounds: the split of 25", plan(2, 11, 1), {"stable": 30, "canary": 1},
     {"stable": 17, "canary": 8}),
    ("week 4: the canary is left for removal; stable takes both tracks' pods", plan(4, 5, 7),
     {"stable": 6, "canary": 7}, {"stable": 13}),
    ("week 4 at production numbers: stable's HPA lifted 4 to its new minimum 10; not a scale for load, the plan's 10",
     plan(4, 4, 6), {"stable": 10, "canary": 6}, {"stable": 10}),
    ("week 4: stable's HPA lifted 4 to 10, then scaled it to 12 for its load: decided again", plan(4, 4, 6),
     {"stable": 12, "canary": 6}, {"stable": 18}),
    ("week 2: the HPAs took stable 20 down to its new maximum 17 and the canary 1 up to its minimum 3: the plan's "
     "split of 21", plan(2, 20, 1), {"stable": 17, "canary": 3}, {"stable": 15, "canary": 6}),
    ("a canary this run created counts as planned", plan(1, 12, 0), {"stable": 14, "canary": 1},
     {"stable": 14, "canary": 1}),
    ("abort: stable takes the service's size, on what it runs now", plan(0, 7, 5, rr.ABORT),
     {"stable": 9, "canary": 5}, {"stable": 14}),
    ("an inventory change is written whatever the HPA did", plan(2, 11, 1, replicas=20), {"stable": 13, "canary": 1},
     {"stable": 14, "canary": 6}),
])
def test_track_counts(name: str, the_plan: dict[str, Any], live: dict[str, int], expected: dict[str, int]) -> None:
    assert track_counts(the_plan, live) == expected


def test_the_plan_keeps_its_basis_and_the_owners_of_the_replicas() -> None:
    the_plan = plan(2, 11, 1)
    assert the_plan["basis"] == {
        "stable": {"name": f"{SVC}-stable", "replicas": 11, "owners": ["vextrus-deploy-replicas"]},
        "canary": {"name": f"{SVC}-canary", "replicas": 1, "owners": ["vextrus-deploy-replicas"]}}
    assert the_plan["size_bounds"] == {"min": 10, "max": 25}
    assert replicas_owners(deployment("stable", OLD, 3, ("kube-controller-manager", "b", "a"))) == [
        "a", "b", "kube-controller-manager"]
    assert replicas_owners(None) == []


class FakeApi:
    """Deployments by name; ``moves`` are scales another writer makes right after the given read number."""

    def __init__(self, objects: dict[str, dict[str, Any]], moves: dict[int, tuple[str, int]] | None = None) -> None:
        self.objects = objects
        self.moves = moves or {}
        self.reads = 0
        self.writes: list[tuple[str, int]] = []

    def get(self, name: str) -> dict[str, Any] | None:
        found = self.objects.get(name)
        self.reads += 1
        if self.reads in self.moves:
            moved, count = self.moves[self.reads]
            self._set(moved, count, "kube-controller-manager")
        return found and {**found, "metadata": dict(found["metadata"]), "spec": dict(found["spec"])}

    def apply(self, name: str, replicas: int, version: str) -> dict[str, Any]:
        if self.objects[name]["metadata"]["resourceVersion"] != version:
            raise Conflict(name)
        self.writes.append((name, replicas))
        return self._set(name, replicas, "vextrus-deploy-replicas")

    def _set(self, name: str, replicas: int, manager: str) -> dict[str, Any]:
        obj = self.objects[name]
        obj["spec"]["replicas"] = replicas
        obj["metadata"]["resourceVersion"] = str(int(obj["metadata"]["resourceVersion"]) + 1)
        obj["metadata"]["managedFields"] = [{"manager": manager, "fieldsV1": {"f:spec": {"f:replicas": {}}}}]
        return obj

    def bind(self) -> ReplicasApi:
        return ReplicasApi(get=self.get, apply=self.apply)


def objects(stable: int, canary: int, owners: tuple[str, ...] = ("vextrus-deploy-replicas",)) -> dict[str, Any]:
    return {f"{SVC}-stable": deployment("stable", OLD, stable, owners), f"{SVC}-canary": deployment("canary", A, canary, owners)}


def test_the_growing_track_is_written_first_and_nothing_is_written_twice() -> None:
    api = FakeApi(objects(11, 1))
    result = write_track_replicas(plan(2, 11, 1), api.bind())
    assert api.writes == [(f"{SVC}-canary", 4), (f"{SVC}-stable", 8)]
    assert [(t["before"], t["after"], t["changed"]) for t in result["tracks"]] == [(11, 8, True), (1, 4, True)]
    assert result["decided_again"] is False
    again = write_track_replicas(plan(2, 8, 4), api.bind())
    assert api.writes == [(f"{SVC}-canary", 4), (f"{SVC}-stable", 8)], "a second run wrote again"
    assert not any(t["changed"] for t in again["tracks"])


def test_a_scale_between_read_and_write_is_refused_and_decided_again() -> None:
    # the stable HPA scales 11 -> 13 right after the first read of the canary (read 2): the canary's write
    # goes through, stable's is refused (409), both are read again and 13 + 4 is split again (30 % of 17:
    # canary 5, stable 12), the canary first
    api = FakeApi(objects(11, 1), moves={2: (f"{SVC}-stable", 13)})
    result = write_track_replicas(plan(2, 11, 1), api.bind())
    assert api.writes == [(f"{SVC}-canary", 4), (f"{SVC}-canary", 5), (f"{SVC}-stable", 12)]
    assert [(t["before"], t["after"]) for t in result["tracks"]] == [(13, 12), (1, 5)]  # before: as written over
    assert result["decided_again"] is True
    final = {name: obj["spec"]["replicas"] for name, obj in api.objects.items()}
    assert sum(final.values()) >= 15, f"the HPA's scale to 13 was written back: {final}"
    assert (f"{SVC}-stable", 8) not in api.writes, "the plan's stale 8 was written over the HPA's 13"


def test_an_hpa_that_only_applies_the_new_minimum_between_read_and_write_is_not_a_scale_for_load() -> None:
    # week 4 at production numbers: the plan read stable 4 + canary 6 and gives stable 10 (HPA 10-25); stable's
    # HPA syncs after the apply and lifts 4 to its new minimum 10 right after the module's reads: the write is
    # refused, both are read again, and 10 is what the plan decided, not a load that asks for 10 + 6 pods
    api = FakeApi(objects(4, 6), moves={2: (f"{SVC}-stable", 10)})
    result = write_track_replicas(plan(4, 4, 6), api.bind())
    assert api.writes == [], "the HPA's 10 (the plan's own count) was written over"
    assert result["decided_again"] is False
    assert api.objects[f"{SVC}-stable"]["spec"]["replicas"] == 10
    assert [(t["before"], t["after"], t["changed"]) for t in result["tracks"]][0] == (10, 10, False)


def test_a_take_over_writes_the_same_count_only_where_the_apply_alone_owns_it() -> None:
    api = FakeApi({f"{SVC}-stable": deployment("stable", OLD, 11, ("vextrus-deploy",)),
                   f"{SVC}-canary": deployment("canary", A, 1, ("vextrus-deploy", "kube-controller-manager"))})
    result = write_track_replicas(plan(2, 11, 1), api.bind(), counts=False, take_over_from="vextrus-deploy")
    assert api.writes == [(f"{SVC}-stable", 11)]
    assert [(t["taken_over"], t["changed"]) for t in result["tracks"]] == [(True, True), (False, False)]


def test_missing_deployments_are_left_to_the_apply_and_shown_in_check_mode() -> None:
    api = FakeApi({})
    first = plan(1, 0, 0)
    assert [t["exists"] for t in write_track_replicas(first, api.bind())["tracks"]] == [False, False]
    checked = write_track_replicas(first, api.bind(), check_mode=True)["tracks"]
    assert [(t["after"], t["changed"]) for t in checked] == [(9, True), (1, True)]
    assert api.writes == []


def test_a_writer_that_never_stops_is_an_error_that_names_the_deployments() -> None:
    class Restless(FakeApi):
        def apply(self, name: str, replicas: int, version: str) -> dict[str, Any]:
            raise Conflict(name)

    with pytest.raises(TrackReplicasError, match=f"{SVC}-stable and {SVC}-canary changed on every one of 3 attempts"):
        write_track_replicas(plan(2, 11, 1), Restless(objects(11, 1)).bind(), attempts=3)


@pytest.mark.parametrize("bad", [None, [], {"stable": {}}])
def test_a_plan_that_is_not_a_run_plan_is_refused(bad: Any) -> None:
    with pytest.raises(TrackReplicasError, match="run plan"):
        write_track_replicas(bad, FakeApi({}).bind())


def test_the_scale_definition_is_conditional_on_the_version_read() -> None:
    assert scale_definition("a", "ns", 3, "42") == {"apiVersion": "apps/v1", "kind": "Deployment",
                                                    "metadata": {"name": "a", "namespace": "ns", "resourceVersion": "42"},
                                                    "spec": {"replicas": 3}}
    assert "resourceVersion" not in scale_definition("a", "ns", 3, "")["metadata"]


def test_without_replicas_leaves_other_kinds_and_fields_alone() -> None:
    without = FilterModule().filters()["without_replicas"]
    manifests = [{"kind": "HorizontalPodAutoscaler", "spec": {"minReplicas": 2}},
                 {"kind": "Deployment", "metadata": {"name": "a"}, "spec": {"replicas": 3, "template": {}}}]
    assert without(manifests) == [manifests[0], {"kind": "Deployment", "metadata": {"name": "a"}, "spec": {"template": {}}}]
    assert manifests[1]["spec"]["replicas"] == 3, "the rendered manifests (linted) were changed"
    with pytest.raises(AnsibleFilterError, match="list of manifests"):
        without({"kind": "Deployment"})
