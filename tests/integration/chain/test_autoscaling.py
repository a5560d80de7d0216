"""The HPAs live on the real node, under load through the Service (new connections, spread over every ready
pod), one test after the other in this module so that their loads do not share the node's two cores.
metrics-server (started by `make cluster-up`) measures the pods; the pods are loadkit's BUSY ones (40m CPU):
the load puts them far above the 65 % target, an idle pod far below it.

- The stable HPA scales up under load and down after it, by the local inventory's behaviour (the service's
  own policies scaled to 2-6 pods and to seconds: up by 50 % or 1 pod every 15 s, whichever is more; down by
  1 pod every 15 s after a 30 s window). Week 1 of the local profile: stable 1 + canary 1, stable's HPA 1..5.
- The week's split under the HPAs (docs/run-plan.md, "The split under autoscaling"): each track has its own
  HPA with the week's split of the service's bounds (local 2..6). At week 2 (30 %) both tracks scale up and,
  once the HPAs are done, the canary's share of the ready pods is within one pod of 30 %; week 3 (60 %)
  gives the HPAs the week's bounds and splits the size they chose, and the share is within a pod of 60 %.
- The chain's writes never fight the HPAs: week 2 run again under load, once they settled, writes no replicas
  (the apply leaves them out; track_replicas keeps the counts they chose), and the apply never owns them.
- Every request of both loads is answered."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kubernetes import client

from chainkit import CANARY, SERVICE, STABLE
from loadkit import BUSY, service_load, transitions, week_passes

# requests a second: at about 4m CPU per request a second, far above 65 % of 40m on the pods there are
RATE = 60

UP_GOAL = 3            # stop the load once the HPA has made stable this big
SCALE_DOWN_WINDOW = 30  # the local behaviour's scaleDown.stabilizationWindowSeconds
DOWN_PERIOD = 15        # ... and its one pod per period
POLL = 1                # seconds between two reads of the replicas (_follow)


def _replicas(apps: client.AppsV1Api, ns: str) -> int:
    return int(apps.read_namespaced_deployment(STABLE, ns).spec.replicas)


def _follow(apps: client.AppsV1Api, ns: str, until: Callable[[int], bool], timeout: float,
            seen: list[tuple[float, int]]) -> None:
    """Appends (time, replicas) to seen at every change of the stable Deployment's replicas until until(replicas)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        now = _replicas(apps, ns)
        if now != seen[-1][1]:
            seen.append((time.monotonic(), now))
        if until(now):
            return
        time.sleep(POLL)
    raise AssertionError(f"the stable Deployment's replicas over time: {[(round(t - seen[0][0]), n) for t, n in seen]}")


def test_the_hpa_scales_stable_up_under_load_and_down_after_it_by_its_policies(
    good_image: str, new_namespace: Callable[[str], str], chain_vault: Path, tmp_path: Path,
    k8s_client: client.ApiClient,
) -> None:
    ns = new_namespace("hpa")
    week_passes(1, ns, tmp_path / "week1", chain_vault, {**BUSY, "rollout_image": good_image})
    hpa = client.AutoscalingV2Api(k8s_client).read_namespaced_horizontal_pod_autoscaler(SERVICE, ns)
    assert (hpa.spec.scale_target_ref.name, hpa.spec.min_replicas, hpa.spec.max_replicas) == (STABLE, 1, 5)
    assert hpa.spec.behavior.scale_down.stabilization_window_seconds == SCALE_DOWN_WINDOW
    apps = client.AppsV1Api(k8s_client)
    seen = [(time.monotonic(), _replicas(apps, ns))]
    assert seen[0][1] == 1

    with transitions.LoadRun(service_load(k8s_client, ns, RATE, keepalive=False)) as load:
        _follow(apps, ns, lambda n: n >= UP_GOAL, 240, seen)
    stopped = time.monotonic()
    assert load.summary["requests"] > 0 and load.summary["unanswered"] == 0, (load.summary, load.summary["errors"])
    _follow(apps, ns, lambda n: n == 1, 300, seen)

    history = [(round(t - seen[0][0], 1), n) for t, n in seen]
    steps = list(zip(seen, seen[1:]))
    ups = [(a, b) for a, b in steps if b[1] > a[1]]
    downs = [(a, b) for a, b in steps if b[1] < a[1]]
    assert ups and max(n for _t, n in seen) <= 5, history
    for (_t0, before), (_t1, after) in ups:
        # the larger of 50 % and one pod, within any 15 s
        assert after <= max(math.ceil(before * 1.5), before + 1), history
    # the window counts from the HPA's last recommendation under load, which was at the last scale-up at the
    # latest; that step is seen up to one poll (1 s) after it happened, and the load stops right after it
    assert downs and downs[0][1][0] - ups[-1][1][0] >= SCALE_DOWN_WINDOW - POLL, (history, round(stopped - seen[0][0], 1))
    for (_t0, before), (_t1, after) in downs:
        assert after == before - 1, history
    for (_a, first), (_b, second) in zip(downs, downs[1:]):
        assert second[0] - first[0] >= DOWN_PERIOD - POLL, history
    print(f"\nstable replicas over time (s, replicas): {history}; load stopped at {round(stopped - seen[0][0], 1)} s")


def _hpas(k8s: client.ApiClient, ns: str) -> dict[str, Any]:
    """Each HPA of the namespace by name: its target, bounds, current and desired replicas."""
    found = client.AutoscalingV2Api(k8s).list_namespaced_horizontal_pod_autoscaler(ns).items
    return {h.metadata.name: {"target": h.spec.scale_target_ref.name, "bounds": (h.spec.min_replicas, h.spec.max_replicas),
                              "current": h.status.current_replicas, "desired": h.status.desired_replicas} for h in found}


def _tracks(k8s: client.ApiClient, ns: str) -> dict[str, dict[str, int]]:
    """Per track: the Deployment's replicas and its ready pods (not being deleted)."""
    apps, core = client.AppsV1Api(k8s), client.CoreV1Api(k8s)
    out = {}
    for track, name in (("stable", STABLE), ("canary", CANARY)):
        dep = apps.read_namespaced_deployment(name, ns)
        pods = core.list_namespaced_pod(ns, label_selector=f"app.kubernetes.io/name={SERVICE},vextrus.io/track={track}").items
        ready = sum(1 for p in pods if p.metadata.deletion_timestamp is None
                    and any(c.type == "Ready" and c.status == "True" for c in (p.status.conditions or [])))
        out[track] = {"replicas": dep.spec.replicas, "ready": ready}
    return out


def _scaling_events(k8s: client.ApiClient, ns: str) -> list[str]:
    """The HPAs' and the Deployments' scaling events, oldest first, for a failure's message."""
    events = client.CoreV1Api(k8s).list_namespaced_event(ns).items
    return [f"{e.last_timestamp or e.event_time} {e.involved_object.kind}/{e.involved_object.name}: {e.reason} {e.message}"
            for e in sorted(events, key=lambda e: str(e.last_timestamp or e.event_time))
            if e.reason in ("SuccessfulRescale", "ScalingReplicaSet")]


def _settled(k8s: client.ApiClient, ns: str, timeout: float) -> dict[str, dict[str, int]]:
    """The tracks once both HPAs have scaled up, are done (desired = current) and every pod is ready, twice
    in a row 5 s apart."""
    deadline, last, seen = time.monotonic() + timeout, None, []
    while time.monotonic() < deadline:
        hpas, tracks = _hpas(k8s, ns), _tracks(k8s, ns)
        seen.append((round(time.monotonic() - deadline + timeout), {t: v["ready"] for t, v in tracks.items()}))
        done = (sum(t["replicas"] for t in tracks.values()) > 2
                and all(h["desired"] == h["current"] for h in hpas.values())
                and all(t["ready"] == t["replicas"] for t in tracks.values()))
        if done and last == tracks:
            return tracks
        last = tracks if done else None
        time.sleep(5)
    raise AssertionError(f"the HPAs did not settle under load: ready pods over time {seen}; HPAs {_hpas(k8s, ns)}; "
                         f"scaling {_scaling_events(k8s, ns)}")


def _replicas_writes(k8s: client.ApiClient, ns: str, since: datetime) -> list[str]:
    """The chain's field managers that own a Deployment's replicas: every one with the time of its last write
    (a write at or after ``since``, to the second, is one the chain made since)."""
    found = []
    for name in (STABLE, CANARY):
        for entry in client.AppsV1Api(k8s).read_namespaced_deployment(name, ns).metadata.managed_fields or []:
            owns = "f:replicas" in ((entry.fields_v1 or {}).get("f:spec") or {})
            if owns and entry.manager.startswith("vextrus-deploy") and (entry.manager == "vextrus-deploy" or entry.time >= since):
                found.append(f"{name}: {entry.manager} {entry.operation} at {entry.time}")
    return found


def _share_holds(tracks: dict[str, dict[str, int]], weight: int) -> None:
    total = tracks["stable"]["ready"] + tracks["canary"]["ready"]
    assert total > 2, tracks
    assert abs(tracks["canary"]["ready"] - weight * total / 100) <= 1, f"the canary's share of {total} ready pods at {weight} %: {tracks}"


def test_the_canary_keeps_the_weeks_share_as_the_hpas_scale(
    good_image: str, new_namespace: Callable[[str], str], chain_vault: Path, tmp_path: Path,
    k8s_client: client.ApiClient,
) -> None:
    ns = new_namespace("hpa-split")
    week_passes(1, ns, tmp_path / "week1", chain_vault, {**BUSY, "rollout_image": good_image})
    week_passes(2, ns, tmp_path / "week2", chain_vault, BUSY)
    # week 2 of 2..6 at 30 %: stable 1..4, canary 1..2 (the split of 2 and of 6)
    hpas = _hpas(k8s_client, ns)
    assert {name: (h["target"], h["bounds"]) for name, h in hpas.items()} == {
        SERVICE: (STABLE, (1, 4)), f"{SERVICE}-canary": (CANARY, (1, 2))}, hpas

    with transitions.LoadRun(service_load(k8s_client, ns, RATE, keepalive=False)) as load:
        week2 = _settled(k8s_client, ns, 300)
        _share_holds(week2, 30)

        # week 2 again, as the HPAs left it: the counts they chose are kept, and not one replicas write is made
        # that an HPA would have to undo (a rescale during the run is read, never written over)
        again = datetime.now(timezone.utc).replace(microsecond=0)
        week_passes(2, ns, tmp_path / "week2-again", chain_vault, BUSY)
        assert _replicas_writes(k8s_client, ns, again) == [], f"scaling {_scaling_events(k8s_client, ns)}"

        # week 3 (60 %) under load: the HPAs get the week's split of 2..6 (stable 1..2, canary 1..4), the week
        # splits the size the HPAs chose, and once they settle the canary's share is within a pod of 60 %
        week_passes(3, ns, tmp_path / "week3", chain_vault, BUSY)
        hpas = _hpas(k8s_client, ns)
        assert {name: h["bounds"] for name, h in hpas.items()} == {SERVICE: (1, 2), f"{SERVICE}-canary": (1, 4)}, hpas
        week3 = _settled(k8s_client, ns, 300)
        _share_holds(week3, 60)
    assert load.summary["unanswered"] == 0, (load.summary, load.summary["errors"])
    print(f"\nready pods once the HPAs settled under load: week 2 { {t: week2[t]['ready'] for t in week2} }, "
          f"week 3 { {t: week3[t]['ready'] for t in week3} }")
