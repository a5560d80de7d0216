import json
import time
from pathlib import Path

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_status import FAILED, PROGRESSING
from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_watch import (
    RolloutGateError,
    _Tracked,
    first_error_line,
    label_selector,
    run_rollout_gate,
)

SEED_LOG = [
    "node:internal/modules/cjs/loader:1143",
    "  throw err;",
    "  ^",
    "",
    "Error: Cannot find module '@nestjs/core'",
    "Require stack:",
    "- /app/dist/main.js",
]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (SEED_LOG, "Error: Cannot find module '@nestjs/core'"),
        (["starting", "FATAL: database unreachable", "bye"], "FATAL: database unreachable"),
        (["[Nest] 1 - ERROR [ExceptionHandler] Nest can't resolve dependencies"], "[Nest] 1 - ERROR [ExceptionHandler] Nest can't resolve dependencies"),
        (["connect ECONNREFUSED 10.0.0.1:5432 refused"], "connect ECONNREFUSED 10.0.0.1:5432 refused"),
        (["warn: x", "  TypeError: Cannot read properties of undefined"], "TypeError: Cannot read properties of undefined"),
        (["listening on 3014", "all good"], None),
        ([], None),
    ],
)
def test_first_error_line(lines, expected):
    assert first_error_line(lines) == expected


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ({"matchLabels": {"track": "stable", "app.kubernetes.io/name": "finance"}}, "app.kubernetes.io/name=finance,track=stable"),
        ({"matchExpressions": [{"key": "track", "operator": "In", "values": ["stable", "canary"]}]}, "track in (stable,canary)"),
        ({"matchExpressions": [{"key": "track", "operator": "NotIn", "values": ["canary"]}]}, "track notin (canary)"),
        ({"matchLabels": {"app": "f"}, "matchExpressions": [{"key": "beta", "operator": "Exists"}]}, "app=f,beta"),
        ({"matchExpressions": [{"key": "legacy", "operator": "DoesNotExist"}]}, "!legacy"),
    ],
)
def test_label_selector(selector, expected):
    assert label_selector({"spec": {"selector": selector}}) == expected


def test_label_selector_empty():
    with pytest.raises(RolloutGateError, match="has an empty spec.selector"):
        label_selector({"metadata": {"name": "x"}, "spec": {"selector": {}}})


def _tracked_unschedulable() -> _Tracked:
    items = json.loads((Path(__file__).parent / "fixtures" / "rollout" / "unschedulable.json").read_text())["items"]
    dep = next(i for i in items if i["kind"] == "Deployment")
    item = _Tracked("finance-service", dep, label_selector(dep))
    item.replicasets = {i["metadata"]["name"]: i for i in items if i["kind"] == "ReplicaSet"}
    item.pods = {i["metadata"]["name"]: i for i in items if i["kind"] == "Pod"}
    return item


def test_the_grace_runs_from_the_first_sighting():
    item = _tracked_unschedulable()
    before = time.monotonic()
    verdict = item.verdict(max_restarts=1, unschedulable_grace=60)
    assert verdict.state == PROGRESSING
    (pending,) = [n for n, p in item.pods.items() if p["status"]["phase"] == "Pending"]
    assert list(item.unschedulable_since) == [pending]  # only the pod waiting for a node is timed
    since = item.unschedulable_since[pending]
    assert before <= since <= time.monotonic()
    assert item.grace_ends(60) == [since + 60]
    item.verdict(max_restarts=1, unschedulable_grace=60)
    assert item.unschedulable_since[pending] == since  # re-evaluating keeps the first sighting
    item.unschedulable_since[pending] -= 61  # as if seen 61 s earlier
    verdict = item.verdict(max_restarts=1, unschedulable_grace=60)
    assert (verdict.state, verdict.reason, verdict.pod) == (FAILED, "Unschedulable", pending)
    item.pods[pending]["spec"]["nodeName"] = "kwok-node-0"  # scheduled at last: no longer timed
    item.verdict(max_restarts=1, unschedulable_grace=60)
    assert item.unschedulable_since == {}


def test_grace_zero_fails_at_first_sight():
    verdict = _tracked_unschedulable().verdict(max_restarts=1, unschedulable_grace=0)
    assert (verdict.state, verdict.reason) == (FAILED, "Unschedulable")


def test_negative_grace_is_refused_before_any_api_call():
    with pytest.raises(RolloutGateError, match="unschedulable_grace must be 0 or more seconds, got -1"):
        run_rollout_gate(None, "ns", ["d"], unschedulable_grace=-1)
