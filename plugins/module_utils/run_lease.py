# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run lock of a service: a ``coordination.k8s.io/v1`` Lease ``<service>-rollout``.

``decide`` is pure: from the Lease as read (a dict, or None when there is none), the state asked
for, the run's holder identity and the time it says what to do - acquire, refuse, take over an
expired lease, renew, release, or nothing - and the Lease object to write. Writes carry the
resourceVersion they were decided on, so of two runs racing for a free or expired lease one wins
and the other gets a conflict, reads again and is refused (``acquire``).

``acquire``, ``release`` and ``keep_renewing`` drive a ``LeaseApi`` (read, create, replace, delete);
the module gives them the Kubernetes API, the unit tests a fake.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

ACQUIRE = "acquire"
REFUSE = "refuse"
TAKE_OVER = "take_over"
RENEW = "renew"
RELEASE = "release"
NONE = "none"
LOST = "lost"

WRITES = (ACQUIRE, TAKE_OVER, RENEW)
STATES = ("present", "absent", "renew")

# How many times acquire reads again after losing a race before it gives up.
CONFLICT_RETRIES = 3


class LeaseError(Exception):
    """The lease cannot be taken, kept or given back; the message says why and by whom it is held."""


class LeaseConflict(Exception):
    """A write lost against another writer (HTTP 409: the resourceVersion moved, or the Lease exists)."""


class LeaseApi(Protocol):
    """The four calls on one Lease; read returns None when there is none."""

    def read(self) -> dict[str, Any] | None: ...

    def create(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def replace(self, body: dict[str, Any]) -> dict[str, Any]: ...

    def delete(self, resource_version: str) -> None: ...


@dataclass(frozen=True)
class Decision:
    """What to do with the lease; ``body`` is the Lease to create (no resourceVersion) or replace."""

    action: str
    message: str
    holder: str = ""
    previous_holder: str = ""
    body: dict[str, Any] | None = None
    resource_version: str = ""
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """A renewal of one's own lease is bookkeeping, not a change of who holds it."""
        return self.action in (ACQUIRE, TAKE_OVER, RELEASE)


def format_time(moment: datetime) -> str:
    """A Lease's MicroTime: UTC with microseconds, e.g. 2026-12-03T14:05:09.000123Z."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(value: Any) -> datetime | None:
    """A MicroTime or RFC 3339 time (or a datetime) as an aware datetime; None when absent or unreadable."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _spec(lease: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return (lease or {}).get("spec") or {}


def holder_of(lease: Mapping[str, Any] | None) -> str:
    return str(_spec(lease).get("holderIdentity") or "")


def expires_at(lease: Mapping[str, Any] | None) -> datetime | None:
    """renewTime (else acquireTime) + leaseDurationSeconds; None when the lease has no usable time."""
    spec = _spec(lease)
    last = parse_time(spec.get("renewTime")) or parse_time(spec.get("acquireTime"))
    try:
        duration = int(spec.get("leaseDurationSeconds") or 0)
    except (TypeError, ValueError):
        duration = 0
    if last is None:
        return None
    return last + timedelta(seconds=max(duration, 0))


def is_expired(lease: Mapping[str, Any] | None, now: datetime) -> bool:
    """A lease nobody renewed within its duration (or without times at all) holds nothing."""
    end = expires_at(lease)
    return end is None or end <= now


def describe_holding(lease: Mapping[str, Any] | None) -> str:
    """``<holder> since <acquireTime> (renewed <renewTime>, expires <time> unless renewed)``."""
    spec = _spec(lease)
    since = spec.get("acquireTime") or "an unknown time"
    end = expires_at(lease)
    until = format_time(end) if end else "unknown"
    return f"{holder_of(lease)} since {since} (last renewed {spec.get('renewTime') or 'never'}, expires {until} unless renewed)"


def lease_body(name: str, namespace: str, holder: str, ttl: int, now: datetime,
               current: Mapping[str, Any] | None = None, keep_acquire_time: bool = False) -> dict[str, Any]:
    """The Lease naming ``holder``; an update of ``current`` keeps its labels and resourceVersion."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if current:
        old = current.get("metadata") or {}
        metadata.update({k: old[k] for k in ("labels", "annotations", "resourceVersion") if old.get(k)})
    stamp = format_time(now)
    acquired = _spec(current).get("acquireTime") if keep_acquire_time else None
    transitions = int(_spec(current).get("leaseTransitions") or 0)
    if current and not keep_acquire_time and holder_of(current):
        transitions += 1
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {
            "holderIdentity": holder,
            "acquireTime": acquired or stamp,
            "renewTime": stamp,
            "leaseDurationSeconds": int(ttl),
            "leaseTransitions": transitions,
        },
    }


def decide(current: Mapping[str, Any] | None, state: str, name: str, namespace: str,
           holder: str, ttl: int, now: datetime) -> Decision:
    """What ``holder`` does with the Lease ``current`` (None: there is none) to reach ``state``.

    present: acquire a free lease, renew one's own, take over an expired one, refuse a live one;
    renew: renew one's own, else ``lost`` (the renewer stops); absent: release one's own only.
    """
    if state not in STATES:
        raise LeaseError(f"state must be one of {', '.join(STATES)}, got {state!r}")
    if not holder:
        raise LeaseError("the holder identity is empty: expected who runs (the AWX job, or user, host and pid)")
    if int(ttl) < 1:
        raise LeaseError(f"the lease's TTL must be at least 1 second, got {ttl}")
    where = f"{namespace}/{name}"
    version = str(((current or {}).get("metadata") or {}).get("resourceVersion") or "")
    held_by = holder_of(current)
    mine = current is not None and held_by == holder
    if state == "absent":
        if mine:
            return Decision(RELEASE, f"released the run lock {where}", holder, held_by, resource_version=version)
        if current is None:
            return Decision(NONE, f"the run lock {where} is not held", holder)
        return Decision(NONE, f"the run lock {where} is held by {held_by or 'nobody'}, not by {holder}: left as it is",
                        holder, held_by)
    if state == "renew":
        if mine:
            return Decision(RENEW, f"renewed the run lock {where}", holder, held_by,
                            lease_body(name, namespace, holder, ttl, now, current, keep_acquire_time=True), version)
        return Decision(LOST, f"the run lock {where} no longer names {holder}"
                        + (f": held by {held_by}" if held_by else ": released"), holder, held_by)
    if current is None:
        return Decision(ACQUIRE, f"took the run lock {where} for {holder}", holder,
                        body=lease_body(name, namespace, holder, ttl, now))
    if mine:
        return Decision(RENEW, f"the run lock {where} is held by {holder} already: renewed", holder, held_by,
                        lease_body(name, namespace, holder, ttl, now, current, keep_acquire_time=True), version)
    if not held_by:
        return Decision(ACQUIRE, f"took the run lock {where} for {holder}", holder,
                        body=lease_body(name, namespace, holder, ttl, now, current), resource_version=version)
    if not is_expired(current, now):
        return Decision(REFUSE, f"run lock held by {describe_holding(current)}: another run of this service is in "
                        f"progress (Lease {where}). Nothing was written. Run again when it has ended; if that run "
                        f"is gone, the lock expires by itself at the time above", holder, held_by)
    warning = (f"took over the run lock {where} from {describe_holding(current)}: that run ended without "
               "releasing it (killed or interrupted); check what it left")
    return Decision(TAKE_OVER, warning, holder, held_by, lease_body(name, namespace, holder, ttl, now, current),
                    version, [warning])


def _apply(api: LeaseApi, decision: Decision) -> dict[str, Any] | None:
    if decision.action == RELEASE:
        api.delete(decision.resource_version)
        return None
    if decision.body is None:
        return None
    if decision.body["metadata"].get("resourceVersion"):
        return api.replace(decision.body)
    return api.create(decision.body)


def acquire(api: LeaseApi, name: str, namespace: str, holder: str, ttl: int, now: Callable[[], datetime],
            check_mode: bool = False) -> tuple[Decision, dict[str, Any] | None]:
    """Take (or renew, or take over) the lease for ``holder``; LeaseError when another run holds it.

    A lost race (409) is read again and decided again, so the loser is refused naming the winner.
    Returns the decision and the Lease as written (as read in check mode).
    """
    for _attempt in range(CONFLICT_RETRIES):
        current = api.read()
        decision = decide(current, "present", name, namespace, holder, ttl, now())
        if decision.action == REFUSE:
            raise LeaseError(decision.message)
        if check_mode:
            return decision, decision.body or current
        try:
            return decision, _apply(api, decision)
        except LeaseConflict:
            continue
    raise LeaseError(f"the run lock {namespace}/{name} changed under every one of {CONFLICT_RETRIES} attempts to "
                     "take it: other runs are racing for it; run again")


def release(api: LeaseApi, name: str, namespace: str, holder: str, ttl: int, now: Callable[[], datetime],
            check_mode: bool = False) -> Decision:
    """Give the lease back when ``holder`` holds it; a lease held by another run is left alone."""
    for _attempt in range(CONFLICT_RETRIES):
        decision = decide(api.read(), "absent", name, namespace, holder, ttl, now())
        if check_mode or decision.action != RELEASE:
            return decision
        try:
            _apply(api, decision)
            return decision
        except LeaseConflict:
            continue  # renewed between the read and the delete: read again
    raise LeaseError(f"the run lock {namespace}/{name} changed under every attempt to release it")


@dataclass(frozen=True)
class RenewResult:
    renewals: int
    stopped: str
    message: str
    failures: int = 0


def keep_renewing(api: LeaseApi, name: str, namespace: str, holder: str, ttl: int, *,
                  clock: Callable[[], datetime], sleep: Callable[[float], None], until: datetime,
                  interval: float, alive: Callable[[], bool] = lambda: True, tick: float = 1.0) -> RenewResult:
    """Renew the lease every ``interval`` seconds while it names ``holder``.

    Stops - and never renews again - when the lease no longer names the holder (released, taken
    over, deleted: ``lost``), when ``until`` has passed (``deadline``) or when ``alive()`` turns
    false (``gone``: the run that took it has ended; checked every ``tick`` seconds). A failed
    renewal is retried at the next interval; the lease expires by itself if they keep failing.
    """
    renewals = failures = 0
    next_renewal = clock() + timedelta(seconds=interval)
    while True:
        now = clock()
        if now >= until:
            return RenewResult(renewals, "deadline", f"stopped renewing at its end time {format_time(until)}", failures)
        if not alive():
            return RenewResult(renewals, "gone", "the run that took the lock has ended: stopped renewing", failures)
        if now >= next_renewal:
            next_renewal = now + timedelta(seconds=interval)
            try:
                decision = decide(api.read(), "renew", name, namespace, holder, ttl, now)
                if decision.action == LOST:
                    return RenewResult(renewals, "lost", decision.message, failures)
                _apply(api, decision)
                renewals += 1
            except LeaseConflict:
                next_renewal = now  # changed between read and write: decide again at once
            except LeaseError:
                raise
            except Exception:  # an API blip: the next interval tries again, within the TTL
                failures += 1
        wait = min(tick, max((next_renewal - clock()).total_seconds(), 0.0), max((until - clock()).total_seconds(), 0.0))
        sleep(max(wait, 0.01))
