"""The run lock's decisions (a table) and the drivers against a fake Lease API."""

import copy
import re
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.run_lease import (
    ACQUIRE,
    LOST,
    NONE,
    REFUSE,
    RELEASE,
    RENEW,
    TAKE_OVER,
    LeaseConflict,
    LeaseError,
    acquire,
    decide,
    expires_at,
    format_time,
    is_expired,
    keep_renewing,
    parse_time,
    release,
)

NOW = datetime(2026, 12, 3, 14, 0, 0, tzinfo=timezone.utc)
ME = "user ana on ctl pid 41 (run 2026-12-03T14:00:00Z)"
OTHER = "awx job 7 (bo)"


def lease(holder, renewed_ago=10, duration=300, acquired_ago=60, version="12"):
    spec = {"leaseDurationSeconds": duration, "leaseTransitions": 2}
    if holder is not None:
        spec["holderIdentity"] = holder
    if acquired_ago is not None:
        spec["acquireTime"] = format_time(NOW - timedelta(seconds=acquired_ago))
    if renewed_ago is not None:
        spec["renewTime"] = format_time(NOW - timedelta(seconds=renewed_ago))
    return {"metadata": {"name": "svc-rollout", "namespace": "ns", "resourceVersion": version,
                         "labels": {"keep": "me"}}, "spec": spec}


@pytest.mark.parametrize(
    "current, state, action, changed, writes, version",
    [
        # present: free, own, released, live other, expired other
        (None, "present", ACQUIRE, True, True, ""),
        (lease(ME), "present", RENEW, False, True, "12"),
        (lease(""), "present", ACQUIRE, True, True, "12"),
        (lease(None), "present", ACQUIRE, True, True, "12"),
        (lease(OTHER), "present", REFUSE, False, False, ""),
        (lease(OTHER, renewed_ago=299), "present", REFUSE, False, False, ""),
        (lease(OTHER, renewed_ago=300), "present", TAKE_OVER, True, True, "12"),
        (lease(OTHER, renewed_ago=900), "present", TAKE_OVER, True, True, "12"),
        (lease(OTHER, renewed_ago=None, acquired_ago=30), "present", REFUSE, False, False, ""),
        (lease(OTHER, renewed_ago=None, acquired_ago=400), "present", TAKE_OVER, True, True, "12"),
        (lease(OTHER, renewed_ago=None, acquired_ago=None), "present", TAKE_OVER, True, True, "12"),
        # renew: only one's own
        (lease(ME, renewed_ago=900), "renew", RENEW, False, True, "12"),
        (lease(OTHER), "renew", LOST, False, False, ""),
        (lease(""), "renew", LOST, False, False, ""),
        (None, "renew", LOST, False, False, ""),
        # absent: only one's own
        (lease(ME), "absent", RELEASE, True, False, "12"),
        (lease(OTHER), "absent", NONE, False, False, ""),
        (None, "absent", NONE, False, False, ""),
    ],
)
def test_decision_table(current, state, action, changed, writes, version):
    decision = decide(current, state, "svc-rollout", "ns", ME, 300, NOW)
    assert decision.action == action
    assert decision.changed is changed
    assert (decision.body is not None) is writes
    if decision.action in (RENEW, TAKE_OVER, RELEASE) or (current and decision.action == ACQUIRE):
        assert decision.resource_version == version
    if writes:
        body = decision.body
        assert body["kind"] == "Lease" and body["apiVersion"] == "coordination.k8s.io/v1"
        assert body["metadata"].get("resourceVersion", "") == version
        assert body["spec"]["holderIdentity"] == ME
        assert body["spec"]["renewTime"] == format_time(NOW)
        assert body["spec"]["leaseDurationSeconds"] == 300
        if current:
            assert body["metadata"]["labels"] == {"keep": "me"}


def test_renewal_keeps_the_acquire_time_a_take_over_starts_a_new_one():
    mine = lease(ME, acquired_ago=600)
    renewed = decide(mine, "renew", "svc-rollout", "ns", ME, 300, NOW).body["spec"]
    assert renewed["acquireTime"] == mine["spec"]["acquireTime"]
    assert renewed["leaseTransitions"] == 2
    taken = decide(lease(OTHER, renewed_ago=600), "present", "svc-rollout", "ns", ME, 300, NOW)
    assert taken.body["spec"]["acquireTime"] == format_time(NOW)
    assert taken.body["spec"]["leaseTransitions"] == 3
    assert taken.previous_holder == OTHER


def test_refusal_names_the_holder_and_since_when():
    held = lease(OTHER, acquired_ago=120, renewed_ago=20)
    message = decide(held, "present", "svc-rollout", "ns", ME, 300, NOW).message
    assert message.startswith(f"run lock held by {OTHER} since {held['spec']['acquireTime']}")
    assert format_time(NOW + timedelta(seconds=280)) in message
    assert "Nothing was written" in message and "ns/svc-rollout" in message


def test_take_over_warns_naming_the_run_it_replaces():
    decision = decide(lease(OTHER, renewed_ago=600), "present", "svc-rollout", "ns", ME, 300, NOW)
    assert decision.warnings == [decision.message]
    assert decision.message.startswith("took over the run lock ns/svc-rollout from awx job 7 (bo) since")


@pytest.mark.parametrize(
    "state, holder, ttl, expected",
    [("locked", ME, 300, "state must be one of"), ("present", "", 300, "holder identity is empty"),
     ("present", ME, 0, "at least 1 second")],
)
def test_bad_inputs(state, holder, ttl, expected):
    with pytest.raises(LeaseError, match=expected):
        decide(None, state, "svc-rollout", "ns", holder, ttl, NOW)


@pytest.mark.parametrize(
    "value, expected",
    [("2026-12-03T14:00:00.000001Z", NOW + timedelta(microseconds=1)), ("2026-12-03T14:00:00Z", NOW),
     ("2026-12-03T15:00:00+01:00", NOW), (NOW.replace(tzinfo=None), NOW), ("", None), ("yesterday", None), (None, None)],
)
def test_parse_time(value, expected):
    assert parse_time(value) == expected


def test_expiry():
    assert expires_at(lease(OTHER, renewed_ago=10)) == NOW + timedelta(seconds=290)
    assert not is_expired(lease(OTHER, renewed_ago=10), NOW)
    assert is_expired(lease(OTHER, renewed_ago=10), NOW + timedelta(seconds=290))
    assert is_expired({"spec": {"holderIdentity": OTHER}}, NOW)


class FakeLeaseApi:
    """One Lease in memory with the API server's optimistic concurrency; ``race`` lets another
    writer in right after the next read."""

    def __init__(self, current=None):
        self.current = copy.deepcopy(current)
        self.version = int((current or {}).get("metadata", {}).get("resourceVersion", 0) or 0)
        self.race = None
        self.writes = []

    def read(self):
        found = copy.deepcopy(self.current)
        if self.race:
            race, self.race = self.race, None
            race(self)
        return found

    def _store(self, body):
        self.version += 1
        self.current = copy.deepcopy(body)
        self.current["metadata"]["resourceVersion"] = str(self.version)
        self.writes.append(body["spec"]["holderIdentity"])
        return copy.deepcopy(self.current)

    def create(self, body):
        if self.current is not None:
            raise LeaseConflict("exists")
        return self._store(body)

    def replace(self, body):
        if self.current is None or body["metadata"]["resourceVersion"] != self.current["metadata"]["resourceVersion"]:
            raise LeaseConflict("moved")
        return self._store(body)

    def delete(self, resource_version):
        if self.current is None or resource_version != self.current["metadata"]["resourceVersion"]:
            raise LeaseConflict("moved")
        self.current = None
        self.writes.append("deleted")


def _other_takes_it(api):
    api.current = None
    api._store(lease(OTHER, renewed_ago=0, acquired_ago=0))


@pytest.mark.parametrize("start", [None, lease(OTHER, renewed_ago=900)], ids=["free", "expired"])
def test_two_runs_racing_only_one_wins(start):
    api = FakeLeaseApi(start)
    api.race = _other_takes_it  # the other run writes between our read and our write
    with pytest.raises(LeaseError, match="^" + re.escape(f"run lock held by {OTHER} since")):
        acquire(api, "svc-rollout", "ns", ME, 300, lambda: NOW)
    assert api.current["spec"]["holderIdentity"] == OTHER
    assert api.writes == [OTHER]


def test_acquire_renew_release_cycle():
    api = FakeLeaseApi()
    decision, written = acquire(api, "svc-rollout", "ns", ME, 300, lambda: NOW)
    assert (decision.action, decision.changed, written["spec"]["holderIdentity"]) == (ACQUIRE, True, ME)
    again, _written = acquire(api, "svc-rollout", "ns", ME, 300, lambda: NOW + timedelta(seconds=5))
    assert (again.action, again.changed) == (RENEW, False)
    with pytest.raises(LeaseError, match="^" + re.escape(f"run lock held by {ME}")):
        acquire(api, "svc-rollout", "ns", OTHER, 300, lambda: NOW)
    assert release(api, "svc-rollout", "ns", OTHER, 300, lambda: NOW).action == NONE
    assert api.current is not None
    assert release(api, "svc-rollout", "ns", ME, 300, lambda: NOW).action == RELEASE
    assert api.current is None
    assert release(api, "svc-rollout", "ns", ME, 300, lambda: NOW).action == NONE
    assert api.writes == [ME, ME, "deleted"]


def test_check_mode_writes_nothing_and_still_refuses():
    api = FakeLeaseApi()
    decision, would = acquire(api, "svc-rollout", "ns", ME, 300, lambda: NOW, check_mode=True)
    assert decision.action == ACQUIRE and would["spec"]["holderIdentity"] == ME and api.current is None
    held = FakeLeaseApi(lease(OTHER))
    with pytest.raises(LeaseError, match="^run lock held"):
        acquire(held, "svc-rollout", "ns", ME, 300, lambda: NOW, check_mode=True)
    mine = FakeLeaseApi(lease(ME))
    assert release(mine, "svc-rollout", "ns", ME, 300, lambda: NOW, check_mode=True).action == RELEASE
    assert mine.current is not None and mine.writes == [] and held.writes == [] and api.writes == []


def test_release_reads_again_when_renewed_meanwhile():
    api = FakeLeaseApi(lease(ME))

    def renewed(fake):
        fake.current["metadata"]["resourceVersion"] = "13"

    api.race = renewed
    assert release(api, "svc-rollout", "ns", ME, 300, lambda: NOW).action == RELEASE
    assert api.current is None


def test_acquire_gives_up_when_every_attempt_loses():
    api = FakeLeaseApi()

    class Racing(FakeLeaseApi):
        def create(self, body):
            raise LeaseConflict("exists")

        def read(self):
            return None

    with pytest.raises(LeaseError, match="changed under every one of 3 attempts"):
        acquire(Racing(), "svc-rollout", "ns", ME, 300, lambda: NOW)
    assert api.writes == []


class Clock:
    def __init__(self):
        self.now = NOW
        self.slept = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept += seconds
        self.now += timedelta(seconds=seconds)


@pytest.mark.parametrize(
    "event_at, event, stopped, renewals",
    [
        (250, "release", "lost", 2),  # renewed at 100 and 200, released at 250
        (150, "take_over", "lost", 1),
        (None, None, "deadline", 5),  # until 600 s: renewals at 100..500
        (330, "gone", "gone", 3),
    ],
)
def test_keep_renewing_until_it_should_stop(event_at, event, stopped, renewals):
    clock = Clock()
    api = FakeLeaseApi()
    acquire(api, "svc-rollout", "ns", ME, 300, clock)
    alive = {"yes": True}

    def sleep(seconds):
        clock.sleep(seconds)
        if event_at is not None and clock.now >= NOW + timedelta(seconds=event_at) and alive["yes"]:
            if event == "release":
                release(api, "svc-rollout", "ns", ME, 300, clock)
            elif event == "take_over":
                _other_takes_it(api)
            alive["yes"] = event != "gone"

    result = keep_renewing(api, "svc-rollout", "ns", ME, 300, clock=clock, sleep=sleep,
                           until=NOW + timedelta(seconds=600), interval=100, alive=lambda: alive["yes"])
    assert (result.stopped, result.renewals) == (stopped, renewals)
    if event == "take_over":
        assert api.current["spec"]["holderIdentity"] == OTHER  # never renewed once it named another run
    # it never outlives its end time, and watches the run at least every second
    assert clock.now <= NOW + timedelta(seconds=601)


def test_keep_renewing_survives_api_blips():
    clock = Clock()
    api = FakeLeaseApi()
    acquire(api, "svc-rollout", "ns", ME, 300, clock)
    failing = {"left": 2}
    real_read = api.read

    def read():
        if failing["left"]:
            failing["left"] -= 1
            raise OSError("connection refused")
        return real_read()

    api.read = read
    result = keep_renewing(api, "svc-rollout", "ns", ME, 300, clock=clock, sleep=clock.sleep,
                           until=NOW + timedelta(seconds=400), interval=100)
    assert (result.stopped, result.renewals, result.failures) == ("deadline", 1, 2)
