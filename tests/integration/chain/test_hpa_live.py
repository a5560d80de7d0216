"""The service's HPA live on the real node: metrics-server (started by `make cluster-up`) measures the pods,
the HPA scales the stable Deployment up under load and down after it, by the local inventory's behaviour
(the service's own policies scaled to 2-6 pods and to seconds: up by 50 % or 1 pod every 15 s, whichever is
more; down by 1 pod every 15 s after a 30 s window).

Week 1 of the local profile: stable 1 pod + canary 1, the stable HPA's bounds 1..5. The pods are loadkit's
BUSY ones (40m CPU), so the load (new connections through the Service, spread over both pods) puts stable
far above the 65 % target and an idle stable pod far below it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

from kubernetes import client

from chainkit import SERVICE, STABLE
from loadkit import BUSY, service_load, transitions, week_passes

UP_GOAL = 3            # stop the load once the HPA has made stable this big
SCALE_DOWN_WINDOW = 30  # the local behaviour's scaleDown.stabilizationWindowSeconds
DOWN_PERIOD = 15        # ... and its one pod per period


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
        time.sleep(1)
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

    with transitions.LoadRun(service_load(k8s_client, ns, 120, keepalive=False)) as load:
        _follow(apps, ns, lambda n: n >= UP_GOAL, 240, seen)
    stopped = time.monotonic()
    assert load.summary["requests"] > 0 and load.summary["unanswered"] == 0, load.summary
    _follow(apps, ns, lambda n: n == 1, 300, seen)

    history = [(round(t - seen[0][0], 1), n) for t, n in seen]
    steps = list(zip(seen, seen[1:]))
    ups = [(a, b) for a, b in steps if b[1] > a[1]]
    downs = [(a, b) for a, b in steps if b[1] < a[1]]
    assert ups and max(n for _t, n in seen) <= 5, history
    for (_t0, before), (_t1, after) in ups:
        # the larger of 50 % and one pod, within any 15 s
        assert after <= max(math.ceil(before * 1.5), before + 1), history
    assert downs and downs[0][1][0] - stopped >= SCALE_DOWN_WINDOW, history
    for (_t0, before), (_t1, after) in downs:
        assert after == before - 1, history
    for (_a, first), (_b, second) in zip(downs, downs[1:]):
        assert second[0] - first[0] >= DOWN_PERIOD - 1, history
    print(f"\nstable replicas over time (s, replicas): {history}; load stopped at {round(stopped - seen[0][0], 1)} s")
