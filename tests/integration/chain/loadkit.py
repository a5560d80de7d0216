"""What the tests that send load through the Service share: the load and ready-pod helpers of
bench/zero_downtime (transitions.py), the profile of pods the HPAs scale under that load, and a week that
must pass."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from kubernetes import client

from chainkit import REAL_NODE, ROOT, WeekRun, run_week

sys.path.insert(0, str(ROOT / "bench" / "zero_downtime"))
import transitions  # the benchmark's load-through-a-transition helpers

VEGETA = str(ROOT / ".local" / "bin" / "vegeta")
# Pods that ask for 40m CPU: the load puts them far above the HPAs' 65 % target, while an idle pod's own
# 7-8m stays far enough below it for the HPA to come back to one pod (with 20m two idle pods are 37 % each,
# still two pods' worth); enough memory that the 75 % memory target stays out of the way.
BUSY = {**REAL_NODE, "rollout_analysis_enabled": False,
        "resource_apply_resources": {"requests": {"cpu": "40m", "memory": "192Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}}


def service_load(k8s: client.ApiClient, namespace: str, rate: int, keepalive: bool = True) -> Any:
    """The load through the Service's ClusterIP (an API call with a token and /health); with keepalive false
    every request opens its own connection, so the Service spreads them over every ready pod."""
    return replace(transitions.load_spec(k8s, namespace, rate, VEGETA), keepalive=keepalive)


def week_passes(week: int, namespace: str, out: Path, vault: Path, extra: dict[str, Any], playbook: str = "") -> WeekRun:
    """run_week, asserting that it ended PASS."""
    done = run_week(week, namespace, out, vault, extra, playbook=playbook)
    assert done.rc == 0 and done.report and done.report["verdict"] == "PASS", done.tail()
    return done
