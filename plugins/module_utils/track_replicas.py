# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each track's replicas, written apart from the week's apply so that the run never fights an HPA.

The apply leaves ``spec.replicas`` out of the Deployments (the HPAs own it between runs). This writes
it, under a field manager of its own, only where the run plan changes a count
(run_plan.track_counts), and only on the object as just read: the apply carries the resourceVersion it
was decided on, so a scale an HPA made in between is refused (409) and the counts are decided again on
what the HPA chose. The tracks that grow are written first, so a week that moves pods from stable to
the canary never has fewer pods than the service runs.

``take_over_from`` names the apply's field manager: a Deployment whose replicas it alone owns (an
apply by an earlier version of the chain, or a rollback restoring its snapshot) would lose them to the
default of 1 on the next apply that leaves them out, so this manager takes them over at the same
count first. Pure but for ``ReplicasApi``, which the module binds to the API server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.run_plan import replicas_owners, scaled_for_load, track_counts

TRACKS = ("stable", "canary")
DEFAULT_ATTEMPTS = 5


class TrackReplicasError(ValueError):
    """The replicas could not be written; the message says why and what to do."""


class Conflict(Exception):
    """The Deployment changed since it was read (the API server answered 409)."""


@dataclass(frozen=True)
class ReplicasApi:
    """``get(name)`` a Deployment or None; ``apply(name, replicas, resource_version)`` the count, refused with
    Conflict when the Deployment changed since that resourceVersion; returns the object as written."""

    get: Callable[[str], Mapping[str, Any] | None]
    apply: Callable[[str, int, str], Mapping[str, Any]]


def check_plan(plan: Any) -> Mapping[str, Any]:
    """The plan, checked for the keys this needs; TrackReplicasError names what is missing."""
    needed = ("action", "weight", "stable", "canary", "hpa", "canary_hpa", "basis", "size_bounds")
    if not isinstance(plan, Mapping):
        raise TrackReplicasError(f"plan must be the run plan (the vextrus.deploy.run_plan filter), got {type(plan).__name__}")
    missing = [key for key in needed if key not in plan]
    if missing:
        raise TrackReplicasError(f"plan lacks {', '.join(missing)}: pass the whole run plan (the vextrus.deploy.run_plan "
                                 f"filter's result), not a part of it")
    return plan


def write_track_replicas(plan: Mapping[str, Any], api: ReplicasApi, *, counts: bool = True, take_over_from: str = "",
                         check_mode: bool = False, attempts: int = DEFAULT_ATTEMPTS) -> dict[str, Any]:
    """Write each existing track's replicas as the plan decides them (``counts``) and take the replicas over
    from ``take_over_from`` where it alone owns them. Returns ``tracks`` (one entry per track of the plan:
    name, before, after, changed, taken_over, exists) and ``decided_again`` (an HPA moved a track after the
    plan read it, and the counts were decided on what it chose)."""
    check_plan(plan)
    names = {track: str(plan[track]["name"]) for track in TRACKS}
    expected = {track: int(seen["replicas"]) for track, seen in plan["basis"].items()}
    done: dict[str, dict[str, Any]] = {}
    decided_again = False
    for _attempt in range(max(1, attempts)):
        found = {track: api.get(names[track]) for track in TRACKS}
        live = {track: _replicas(obj) for track, obj in found.items() if obj is not None}
        wanted = track_counts(plan, live, expected) if counts else {}
        decided_again = decided_again or (counts and not plan.get("resize") and scaled_for_load(plan, live, expected))
        # the tracks that grow first: pods are added before others go
        order = sorted(live, key=lambda track: live[track] - wanted.get(track, live[track]))
        try:
            for track in order:
                count = wanted.get(track, live[track])
                take_over = bool(take_over_from) and replicas_owners(found[track]) == [take_over_from]
                if count == live[track] and not take_over:
                    done.setdefault(track, _entry(names[track], live[track], live[track], False, False))
                    continue
                api.apply(names[track], count, str((found[track].get("metadata") or {}).get("resourceVersion") or ""))
                first = done.get(track)
                done[track] = _entry(names[track], first["before"] if first else live[track], count, True,
                                     take_over or bool(first and first["taken_over"]))
                expected[track] = count
        except Conflict:
            continue  # a Deployment changed since it was read: read both again and decide again
        return {"tracks": [_result(plan, track, done, found, counts, check_mode) for track in TRACKS],
                "decided_again": decided_again}
    raise TrackReplicasError(
        f"the replicas of {names['stable']} and {names['canary']} changed on every one of {attempts} attempts to write "
        f"them (another writer keeps scaling them); nothing was overwritten. Look for a second autoscaler or "
        f"controller on these Deployments, then run the week again.")


def _result(plan: Mapping[str, Any], track: str, done: Mapping[str, dict[str, Any]], found: Mapping[str, Any],
            counts: bool, check_mode: bool) -> dict[str, Any]:
    if track in done:
        return {**done[track], "exists": True}
    planned = int(plan[track]["replicas"])
    # in check mode the apply did not create the Deployment: say what it will have
    if check_mode and counts and found[track] is None and planned > 0:
        return {**_entry(str(plan[track]["name"]), 0, planned, True, False), "exists": False}
    return {**_entry(str(plan[track]["name"]), 0, 0, False, False), "exists": False}


def _entry(name: str, before: int, after: int, changed: bool, taken_over: bool) -> dict[str, Any]:
    return {"name": name, "before": before, "after": after, "changed": changed, "taken_over": taken_over}


def _replicas(deployment: Mapping[str, Any]) -> int:
    replicas = (deployment.get("spec") or {}).get("replicas")
    return 1 if replicas is None else int(replicas)


def scale_definition(name: str, namespace: str, replicas: int, resource_version: str) -> dict[str, Any]:
    """The server-side apply body that sets only ``spec.replicas``, conditional on ``resource_version``."""
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": {"replicas": int(replicas)}}
