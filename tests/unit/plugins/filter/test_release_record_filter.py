"""The release record filters: registered, errors as AnsibleFilterError, force given as extra-var text."""

from typing import Any

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.vextrus.deploy.plugins.filter.release_record import (
    FilterModule,
    release_guard,
    release_record,
    release_record_configmap,
    release_record_update,
    release_status,
)

A = "registry.example.com/vextrus/finance@sha256:" + "a" * 64


def test_filters_registered() -> None:
    assert set(FilterModule().filters()) == {
        "release_guard", "release_record", "release_record_configmap", "release_record_update", "release_status",
        "release_record_start", "release_record_interrupted"}


@pytest.mark.parametrize(("force", "forced"), [("true", True), ("True", True), ("yes", True), (True, True),
                                               ("false", False), ("", False), (False, False), (None, False)])
def test_force_as_extra_vars_give_it(force: Any, forced: bool) -> None:
    rec = release_record([], "finance-service")
    rec = release_record_update(rec, release_guard(rec, "week", 1, A), {"verdict": "PASS"})
    decision = release_guard(rec, "week", "3", "", force)
    assert decision["allowed"] is forced and decision["forced"] is forced


def test_a_round_trip_through_the_filters() -> None:
    rec = release_record([], "finance-service")
    decision = release_guard(rec, week=1, digest=A)
    rec = release_record_update(rec, decision, {"verdict": "PASS", "by": "user ops"})
    cm = release_record_configmap(rec, "finance-service-release", "ns")
    assert release_record([cm], "finance-service") == rec
    assert release_status(rec, [])["highest_week_passed"] == 1


def test_the_guard_takes_the_length_of_the_week_table() -> None:
    rec = release_record([], "finance-service")
    for week in range(1, 6):
        decision = release_guard(rec, week=week, digest=A if week == 1 else "", last_week=5)
        assert decision["allowed"], decision["message"]
        rec = release_record_update(rec, decision, {"verdict": "PASS"})
    assert (rec["state"], rec["highest_week_passed"]) == ("PROMOTED", 5)
    with pytest.raises(AnsibleFilterError, match="week must be 1 to 4"):
        release_guard(rec, week=5)


@pytest.mark.parametrize(
    "call",
    [
        lambda: release_record([{"metadata": {"name": "x"}, "data": {}}], "finance-service"),
        lambda: release_guard({"no": "record"}),
        lambda: release_guard(release_record([], "s"), "week", 1, A, "maybe"),
        lambda: release_guard(release_record([], "s"), "week", "two", A),
        lambda: release_guard(release_record([], "s"), "deploy", 1, A),
        lambda: release_record_update(release_record([], "s"), {"allowed": False, "digest": A, "week": 1}, {"verdict": "PASS"}),
        lambda: release_record_update(release_record([], "s"), "decision", {}),
        lambda: release_record_configmap("record", "n", "ns"),
        lambda: release_status(None),
    ],
)
def test_filter_errors(call: Any) -> None:
    with pytest.raises(AnsibleFilterError):
        call()
