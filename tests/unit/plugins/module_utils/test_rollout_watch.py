"""The rollout gate's pure parts: one event applied to the gate state, the loop over recorded event
streams, and the result built from the final state.

The event streams replay the recorded `kubectl get deploy,rs,pods -o json` Lists of fixtures/rollout
in the order a rollout produces them: the gate starts from the Deployment whose new generation the
controller has not observed yet, then the ReplicaSets and pods arrive (ADDED), and the Deployment's
recorded status comes last (MODIFIED)."""

from __future__ import annotations

import base64
import copy
import json
import queue
import re
import threading
import time
from dataclasses import replace
from pathlib import Path
from unittest import mock

import pytest
from kubernetes.client import ApiClient, Configuration
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError

from ansible_collections.vextrus.deploy.plugins.module_utils import rollout_watch
from ansible_collections.vextrus.deploy.plugins.module_utils.api_retry import Outage, OutageLog

from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import K8sConnectionError
from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_status import FAILED, PROGRESSING, SUCCEEDED
from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_watch import (
    GateRules,
    GateState,
    RolloutGateError,
    RolloutState,
    WatchEvent,
    apply_event,
    first_error_line,
    gate_result,
    judge_all,
    label_selector,
    next_wakeup,
    run_rollout_gate,
    watch_loop,
)

FIXTURES = Path(__file__).parent / "fixtures" / "rollout"
NAMESPACE = "vextrus-production"
RULES = GateRules(max_restarts=1, unschedulable_grace=60)

SEED_LOG = [
    "node:internal/modules/cjs/loader:1143",
    "  throw err;",
    "  ^",
    "",
    "Error: Cannot find module '@nestjs/core'",
    "Require stack:",
    "- /app/dist/main.js",
]


def _items(case: str) -> list[dict]:
    return json.loads((FIXTURES / f"{case}.json").read_text())["items"]


def _selected(deployment: dict, obj: dict) -> bool:
    labels = obj["metadata"].get("labels") or {}
    return all(labels.get(k) == v for k, v in deployment["spec"]["selector"]["matchLabels"].items())


def _unobserved(deployment: dict) -> dict:
    """The Deployment as the gate first sees it: its new generation not yet observed by the controller."""
    before = copy.deepcopy(deployment)
    before["status"]["observedGeneration"] = before["metadata"]["generation"] - 1
    return before


def recorded(case: str, name: str = "finance-service") -> tuple[GateState, list[WatchEvent]]:
    """The gate's start and the event stream that brings it to the recorded List of ``case``."""
    items = _items(case)
    deployment = next(i for i in items if i["kind"] == "Deployment" and i["metadata"]["name"] == name)
    owned = [i for i in items if i["kind"] != "Deployment" and _selected(deployment, i)]
    start = GateState(NAMESPACE, {name: RolloutState(_unobserved(deployment), label_selector(deployment))})
    events = [WatchEvent(name, "replicasets", "ADDED", i) for i in owned if i["kind"] == "ReplicaSet"]
    events += [WatchEvent(name, "pods", "ADDED", i) for i in owned if i["kind"] == "Pod"]
    events.append(WatchEvent(name, "deployments", "MODIFIED", deployment))
    return judge_all(start, 0.0, RULES), events


class Replay:
    """An event source on a fake monotonic clock: each event comes ``gap`` seconds after the last;
    once the stream has run dry, every wait lasts as long as the loop asked for."""

    def __init__(self, events: list[WatchEvent], gap: float = 0.5) -> None:
        self.events = list(events)
        self.gap = gap
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def next_event(self, seconds: float) -> WatchEvent | None:
        self.waits.append(seconds)
        if self.events and self.gap <= seconds:
            self.now += self.gap
            return self.events.pop(0)
        self.now += seconds
        return None


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


# -- the step: one event applied to the state -------------------------------------------------------

# fixture, Deployment, verdict (state, reason) once the whole recorded stream has been applied
STREAMS = [
    ("healthy", "finance-service", SUCCEEDED, "RolloutComplete"),
    ("canary_beside_stable", "finance-service", SUCCEEDED, "RolloutComplete"),
    ("canary_beside_stable", "finance-service-canary", SUCCEEDED, "RolloutComplete"),
    ("crashloop", "finance-service", FAILED, "CrashLoopBackOff"),
    ("image_pull_backoff", "finance-service", FAILED, "ImagePullBackOff"),
    ("err_image_pull", "finance-service", FAILED, "ErrImagePull"),
    ("invalid_image_name", "finance-service", FAILED, "InvalidImageName"),
    ("create_container_config_error", "finance-service", FAILED, "CreateContainerConfigError"),
    ("create_container_error", "finance-service", FAILED, "CreateContainerError"),
    ("run_container_error", "finance-service", FAILED, "RunContainerError"),
    ("oom_killed", "finance-service", FAILED, "OOMKilled"),
    ("restart_limit", "finance-service", FAILED, "RestartLimitExceeded"),
    ("init_crashloop", "finance-service", FAILED, "CrashLoopBackOff"),
    ("deadline_exceeded", "finance-service", FAILED, "ProgressDeadlineExceeded"),
    ("slow_healthy", "finance-service", PROGRESSING, "OldReplicasPending"),
    ("old_rs_crash", "finance-service", PROGRESSING, "OldReplicasPending"),
    ("old_pod_terminating", "finance-service", PROGRESSING, "OldReplicasPending"),
    ("generation_not_observed", "finance-service", PROGRESSING, "GenerationNotObserved"),
    ("unschedulable", "finance-service", PROGRESSING, "UpdatingReplicas"),
]


def test_every_fixture_is_replayed():
    replayed = {stream[0] for stream in STREAMS} | {"scaled_to_zero"}  # allow_missing: never watched
    assert replayed == {p.stem for p in FIXTURES.glob("*.json")}


@pytest.mark.parametrize(("case", "name", "state", "reason"), STREAMS)
def test_each_event_updates_the_verdict_so_far(case, name, state, reason):
    gate, events = recorded(case, name)
    assert gate.verdicts[name].reason == "GenerationNotObserved"
    for number, event in enumerate(events, 1):
        before = gate
        gate = apply_event(gate, event, float(number), RULES)
        assert before.rollouts[name].pods.keys() <= gate.rollouts[name].pods.keys()  # the old state is kept as it was
        if number < len(events):
            assert gate.verdicts[name].reason == "GenerationNotObserved"
            assert not gate.settled
    assert (gate.verdicts[name].state, gate.verdicts[name].reason) == (state, reason)
    assert gate.settled == (state != PROGRESSING)
    assert set(gate.rollouts[name].pods) == {e.obj["metadata"]["name"] for e in events if e.kind == "pods"}


def _pod(case: str, prefix: str) -> dict:
    return next(i for i in _items(case) if i["kind"] == "Pod" and i["metadata"]["name"].startswith(prefix))


def _settled_state(case: str) -> GateState:
    gate, events = recorded(case)
    for event in events:
        gate = apply_event(gate, event, 0.0, RULES)
    return gate


OLD_POD = "finance-service-854cf098d9-b5r7t"

# fixture the stream played, one more event, the verdict after it
ONE_MORE = [
    ("old_pod_terminating", WatchEvent("finance-service", "pods", "DELETED", _pod("old_pod_terminating", OLD_POD)),
     SUCCEEDED, "RolloutComplete"),
    ("old_pod_terminating", WatchEvent("finance-service", "pods", "RELIST",
                                       {"items": [i for i in _items("healthy") if i["kind"] == "Pod"]}),
     SUCCEEDED, "RolloutComplete"),
    ("healthy", WatchEvent("finance-service", "pods", "MODIFIED", _pod("crashloop", "finance-service-02c75acd7e")),
     FAILED, "CrashLoopBackOff"),
    ("crashloop", WatchEvent("finance-service", "deployments", "RELIST", {"items": []}), FAILED, "CrashLoopBackOff"),
    ("generation_not_observed", WatchEvent("finance-service", "deployments", "RELIST",
                                           {"items": [i for i in _items("healthy") if i["kind"] == "Deployment"]}),
     PROGRESSING, "OldReplicasPending"),
]


@pytest.mark.parametrize(("case", "event", "state", "reason"), ONE_MORE)
def test_one_more_event(case, event, state, reason):
    verdict = apply_event(_settled_state(case), event, 1.0, RULES).verdicts["finance-service"]
    assert (verdict.state, verdict.reason) == (state, reason)


def test_a_retry_is_recorded_and_judges_nothing():
    gate = _settled_state("slow_healthy")
    after = apply_event(gate, WatchEvent("finance-service", "pods", "RETRY", {"message": "ProtocolError: reset"}), 5.0, RULES)
    assert after.watch_retries == ("pods of finance-service: ProtocolError: reset",)
    assert after.verdicts == gate.verdicts and after.rollouts == gate.rollouts


@pytest.mark.parametrize(
    ("event", "message"),
    [
        (WatchEvent("finance-service", "deployments", "DELETED", {}),
         "Deployment vextrus-production/finance-service was deleted during the rollout"),
        (WatchEvent("finance-service", "pods", "FAILURE", {"message": "(403) Forbidden"}),
         r"watching pods of Deployment vextrus-production/finance-service failed: \(403\) Forbidden"),
    ],
)
def test_events_that_end_the_gate(event, message):
    with pytest.raises(RolloutGateError, match=message):
        apply_event(_settled_state("slow_healthy"), event, 1.0, RULES)


def _unschedulable_state(now: float = 0.0, rules: GateRules = RULES) -> GateState:
    items = _items("unschedulable")
    dep = next(i for i in items if i["kind"] == "Deployment")
    rollout = RolloutState(
        dep,
        label_selector(dep),
        {i["metadata"]["name"]: i for i in items if i["kind"] == "ReplicaSet"},
        {i["metadata"]["name"]: i for i in items if i["kind"] == "Pod"},
    )
    return judge_all(GateState(NAMESPACE, {"finance-service": rollout}), now, rules)


def test_the_grace_runs_from_the_first_sighting():
    gate = _unschedulable_state(now=100.0)
    assert gate.verdicts["finance-service"].state == PROGRESSING
    rollout = gate.rollouts["finance-service"]
    (pending,) = [n for n, p in rollout.pods.items() if p["status"]["phase"] == "Pending"]
    assert rollout.unschedulable_since == {pending: 100.0}  # only the pod waiting for a node is timed
    assert next_wakeup(gate, 100.0, RULES) == 60.0
    gate = judge_all(gate, 130.0, RULES)
    assert gate.rollouts["finance-service"].unschedulable_since == {pending: 100.0}  # re-judging keeps the first sighting
    assert next_wakeup(gate, 130.0, RULES) == 30.0
    verdict = judge_all(gate, 161.0, RULES).verdicts["finance-service"]
    assert (verdict.state, verdict.reason, verdict.pod) == (FAILED, "Unschedulable", pending)
    scheduled = copy.deepcopy(rollout.pods[pending])
    scheduled["spec"]["nodeName"] = "kwok-node-0"
    scheduled["status"]["conditions"] = [{"type": "PodScheduled", "status": "True"}]
    gate = apply_event(gate, WatchEvent("finance-service", "pods", "MODIFIED", scheduled), 140.0, RULES)
    assert gate.rollouts["finance-service"].unschedulable_since == {}  # scheduled at last: no longer timed
    assert next_wakeup(gate, 140.0, RULES) is None


def test_grace_zero_fails_at_first_sight():
    verdict = _unschedulable_state(rules=GateRules(1, 0)).verdicts["finance-service"]
    assert (verdict.state, verdict.reason) == (FAILED, "Unschedulable")


# -- the loop over recorded streams -----------------------------------------------------------------


@pytest.mark.parametrize(("case", "name", "state", "reason"), [s for s in STREAMS if s[0] != "unschedulable"])
def test_the_loop_replays_a_recorded_stream(case, name, state, reason):
    gate, events = recorded(case, name)
    replay = Replay(events)
    final = watch_loop(gate, replay.next_event, deadline=300.0, rules=RULES, clock=replay.clock)
    assert (final.verdicts[name].state, final.verdicts[name].reason) == (state, reason)
    assert replay.events == []
    # a settled gate returns after the last event; an unsettled one waits until the deadline
    assert replay.now == (len(events) * 0.5 if state != PROGRESSING else 300.0)


# events after the verdict, how many of them the loop leaves unread
LOOP_ENDINGS = [
    ("crashloop", [WatchEvent("finance-service", "pods", "DELETED", _pod("crashloop", "finance-service-02c75acd7e"))], 1),
    ("healthy", [WatchEvent("finance-service", "pods", "RETRY", {"message": "ProtocolError: reset"})], 1),
    ("old_pod_terminating", [WatchEvent("finance-service", "pods", "RETRY", {"message": "ProtocolError: reset"}),
                             WatchEvent("finance-service", "pods", "DELETED", _pod("old_pod_terminating", OLD_POD)),
                             WatchEvent("finance-service", "pods", "MODIFIED", _pod("old_pod_terminating", OLD_POD))], 1),
]


@pytest.mark.parametrize(("case", "more", "unread"), LOOP_ENDINGS)
def test_the_loop_stops_at_the_first_settled_state(case, more, unread):
    gate, events = recorded(case)
    replay = Replay(events + more)
    final = watch_loop(gate, replay.next_event, deadline=300.0, rules=RULES, clock=replay.clock)
    assert final.settled
    assert len(replay.events) == unread


def test_the_loop_keeps_the_retries():
    gate, events = recorded("old_pod_terminating")
    retry = WatchEvent("finance-service", "pods", "RETRY", {"message": "ProtocolError: reset"})
    deleted = WatchEvent("finance-service", "pods", "DELETED", _pod("old_pod_terminating", OLD_POD))
    replay = Replay([*events, retry, deleted])
    final = watch_loop(gate, replay.next_event, deadline=300.0, rules=RULES, clock=replay.clock)
    assert final.verdicts["finance-service"].state == SUCCEEDED
    assert final.watch_retries == ("pods of finance-service: ProtocolError: reset",)


@pytest.mark.parametrize(
    ("grace", "deadline", "state", "reason", "now", "words"),
    [
        # the scheduler sends no event: the loop wakes up when the grace runs out
        (60, 300.0, FAILED, "Unschedulable", 60.0, "is Unschedulable for 60 s (grace 60 s)"),
        (0, 300.0, FAILED, "Unschedulable", 0.0, "is Unschedulable for 0 s (grace 0 s)"),
        # a grace beyond the deadline: judged once more at the deadline, the pod named in the message
        (120, 30.0, PROGRESSING, "UpdatingReplicas", 30.0, "is Unschedulable for 30 s, fails after 120 s"),
    ],
)
def test_the_loop_wakes_up_for_an_unschedulable_pod(grace, deadline, state, reason, now, words):
    rules = GateRules(1, grace)
    replay = Replay([])
    final = watch_loop(_unschedulable_state(rules=rules), replay.next_event, deadline, rules, clock=replay.clock)
    verdict = final.verdicts["finance-service"]
    assert (verdict.state, verdict.reason, replay.now) == (state, reason, now)
    assert words in verdict.message


def test_the_loop_fails_a_recorded_unschedulable_rollout_when_the_grace_ends():
    gate, events = recorded("unschedulable")
    replay = Replay(events)
    final = watch_loop(gate, replay.next_event, deadline=300.0, rules=RULES, clock=replay.clock)
    verdict = final.verdicts["finance-service"]
    (pending,) = final.rollouts["finance-service"].unschedulable_since.items()
    assert (verdict.state, verdict.reason, verdict.pod) == (FAILED, "Unschedulable", pending[0])
    assert replay.events == [] and replay.now == pending[1] + 60


def test_the_loop_lets_a_deleted_deployment_end_the_gate():
    gate, events = recorded("slow_healthy")
    replay = Replay([*events, WatchEvent("finance-service", "deployments", "DELETED", {})])
    with pytest.raises(RolloutGateError, match="was deleted during the rollout"):
        watch_loop(gate, replay.next_event, deadline=300.0, rules=RULES, clock=replay.clock)


def test_the_loop_does_not_wait_past_the_deadline():
    gate, events = recorded("healthy")
    replay = Replay(events, gap=2.0)
    final = watch_loop(gate, replay.next_event, deadline=3.0, rules=RULES, clock=replay.clock)
    assert final.verdicts["finance-service"].reason == "GenerationNotObserved"
    assert replay.waits == [3.0, 1.0] and replay.now == 3.0


# -- the result builder -----------------------------------------------------------------------------

IGNORED = {"finance-service-canary": {"state": "missing", "ready": "0/0"}}


@pytest.mark.parametrize(
    ("case", "logs", "expected"),
    [
        ("crashloop", SEED_LOG,
         "rollout of Deployment vextrus-production/finance-service failed: pod finance-service-02c75acd7e-h8d2k "
         "container finance is CrashLoopBackOff (exit code 1, 3 restarts); log: \"Error: Cannot find module "
         "'@nestjs/core'\"; ready 2/2 after 4.6 s"),
        ("image_pull_backoff", [],
         "rollout of Deployment vextrus-production/finance-service failed: pod finance-service-02c75acd7e-p4f6g "
         "container finance is ImagePullBackOff (0 restarts); ready 2/2 after 4.6 s"),
        ("deadline_exceeded", [],
         "rollout of Deployment vextrus-production/finance-service failed: Deployment \"finance-service\" exceeded "
         "its progress deadline"),
    ],
)
def test_the_result_of_a_failed_rollout(case, logs, expected):
    gate = _settled_state(case)
    result = gate_result(gate, {}, timeout=300, elapsed=4.6, logs=logs, log_source="previous")
    verdict = gate.failure
    assert result["failed"] is True
    assert result["msg"].startswith(expected)
    assert {k: result[k] for k in ("deployment", "pod", "container", "reason", "exit_code", "restart_count")} == {
        "deployment": "finance-service",
        "pod": verdict.pod,
        "container": verdict.container,
        "reason": verdict.reason,
        "exit_code": verdict.exit_code,
        "restart_count": verdict.restart_count,
    }
    assert (result["logs"], result["log_source"], result["message"]) == (logs, "previous", verdict.message)
    assert result["deployments"]["finance-service"]["state"] == FAILED


def test_the_result_of_an_unschedulable_pod_names_the_scheduler():
    gate = _unschedulable_state(rules=GateRules(1, 0))
    result = gate_result(gate, {}, timeout=300, elapsed=0.4)
    assert result["container"] is None and result["logs"] == [] and result["log_source"] == ""
    assert result["msg"].startswith(f"rollout of Deployment vextrus-production/finance-service failed: pod {result['pod']} ")
    assert "didn't match Pod's node affinity/selector" in result["msg"]


@pytest.mark.parametrize(
    ("case", "check_mode", "failed", "msg"),
    [
        ("healthy", False, False, "rollouts complete: finance-service-canary 0/0, finance-service 2/2"),
        ("slow_healthy", False, True,
         "rollout of Deployment vextrus-production/finance-service did not complete within 300 s: Waiting for "
         "deployment \"finance-service\" rollout to finish: 2 old replicas are pending termination. Look at "
         "'kubectl -n vextrus-production describe deployment finance-service', or raise timeout if the rollout is only slow."),
        ("slow_healthy", True, False,
         "check mode: Waiting for deployment \"finance-service\" rollout to finish: 2 old replicas are pending termination"),
    ],
)
def test_the_result_of_a_rollout_that_did_not_fail(case, check_mode, failed, msg):
    result = gate_result(_settled_state(case), IGNORED, timeout=300, elapsed=1.25, check_mode=check_mode)
    assert result["msg"] == msg
    assert result.get("failed", False) is failed
    assert list(result["deployments"]) == ["finance-service-canary", "finance-service"]
    assert result["ready"]["finance-service-canary"] == "0/0"
    assert (result["changed"], result["elapsed"]) == (False, 1.25)
    assert "watch_retries" not in result and "logs" not in result
    if failed:
        assert (result["reason"], result["deployment"]) == ("Timeout", "finance-service")


def test_the_result_lists_the_watch_retries():
    gate = replace(_settled_state("healthy"), watch_retries=("pods of finance-service: ProtocolError: reset",))
    assert gate_result(gate, {}, timeout=300, elapsed=1.0)["watch_retries"] == ["pods of finance-service: ProtocolError: reset"]


def test_negative_grace_is_refused_before_any_api_call():
    with pytest.raises(RolloutGateError, match="unschedulable_grace must be 0 or more seconds, got -1"):
        run_rollout_gate(None, "ns", ["d"], unschedulable_grace=-1)


def test_an_unreachable_api_server_is_named_with_what_the_gate_tried():
    configuration = Configuration(host="https://127.0.0.1:1")
    configuration.retries = 0
    started = time.monotonic()
    with pytest.raises(K8sConnectionError) as raised:
        run_rollout_gate(ApiClient(configuration), "ns", ["web"], timeout=2)
    # connection refused is retried with backoff until the gate's timeout, not longer
    assert 2.0 <= time.monotonic() - started < 4.0
    assert re.fullmatch(
        r"cannot reach the Kubernetes API at https://127.0.0.1:1 to read Deployment ns/web: MaxRetryError "
        r"\(still failing after \d+ attempts in [0-2] s\): \[Errno 111\] Connection refused; check the kubeconfig/context "
        r"and that the cluster is up",
        str(raised.value),
    )


SECRET = "Zq8vN3kLm0pQr5sT7uVw9xYz1aBcDeFg"
DB_URL = "postgresql://finance:Pg5ecretPassw0rd@postgres:5432/finance"


@pytest.mark.parametrize(
    "line",
    [
        f"Error: JWT_SECRET {SECRET} rejected",
        f"Error: token {base64.b64encode(SECRET.encode()).decode()}",
        "Error: connect ECONNREFUSED postgres://finance:Pg5ecretPassw0rd@10.0.0.5:5432",
    ],
    ids=["value", "base64", "url-password"],
)
def test_the_result_masks_the_secrets_in_the_quoted_log_and_messages(line):
    gate = _settled_state("crashloop")
    result = gate_result(gate, {}, timeout=300, elapsed=4.6, logs=["starting", line], secrets=[SECRET, DB_URL])
    assert '; log: "Error: ' in result["msg"] and "********" in result["msg"]
    assert result["logs"][1].startswith("Error: ") and "********" in result["logs"][1]
    text = json.dumps(result)
    assert SECRET not in text and "Pg5ecretPassw0rd" not in text and base64.b64encode(SECRET.encode()).decode() not in text


# -- outages of the API --------------------------------------------------------------------------

RESTART = Outage(1_796_306_400.0, 11.04, "MaxRetryError (NewConnectionError)")


def test_the_result_lists_the_api_outages():
    result = gate_result(_settled_state("healthy"), {}, timeout=300, elapsed=20.0, outages=[RESTART])
    assert "failed" not in result
    assert result["api_outages"] == [
        {"started": "2026-12-03T14:00:00Z", "seconds": 11.0, "error": "MaxRetryError (NewConnectionError)", "ended": True}
    ]


def test_no_outage_no_key():
    assert "api_outages" not in gate_result(_settled_state("healthy"), {}, timeout=300, elapsed=1.0)


def test_a_gate_that_ran_out_of_time_while_the_api_was_down_says_so():
    down = Outage(1_796_306_400.0, 280.0, "503 Service Unavailable", ended=False)
    result = gate_result(_settled_state("slow_healthy"), {}, timeout=300, elapsed=300.0, outages=[RESTART, down])
    assert result["failed"] is True and result["reason"] == "ApiUnavailable"
    assert result["msg"] == (
        "the Kubernetes API has been unavailable since 2026-12-03T14:00:00Z (503 Service Unavailable, 280 s) and the "
        "rollout of Deployment vextrus-production/finance-service could not be followed to its end within 300 s; "
        "the rollout itself may be fine: check the API server, then run the week again"
    )
    assert [o["ended"] for o in result["api_outages"]] == [True, False]


def test_a_timeout_after_the_api_came_back_stays_a_timeout():
    result = gate_result(_settled_state("slow_healthy"), {}, timeout=300, elapsed=300.0, outages=[RESTART])
    assert result["reason"] == "Timeout" and len(result["api_outages"]) == 1


def test_a_failed_rollout_keeps_its_reason_beside_an_outage():
    down = Outage(1_796_306_400.0, 3.0, "503 Service Unavailable", ended=False)
    result = gate_result(_settled_state("crashloop"), {}, timeout=300, elapsed=4.0, outages=[down])
    assert result["reason"] == "CrashLoopBackOff" and result["api_outages"][0]["ended"] is False


LISTING = {"metadata": {"resourceVersion": "42"}, "items": []}


def _refused() -> MaxRetryError:
    return MaxRetryError(None, "/api/v1/pods", NewConnectionError(None, "Connection refused"))


class _FakeWatch:
    """kubernetes' Watch, playing ``script``: each stream() raises the next error or yields the next
    events; when the script has run out the gate is stopped (``stop``)."""

    script: list = []
    stop: threading.Event = threading.Event()
    versions: list = []

    def stream(self, _list_fn, _namespace, resource_version, **_kwargs):
        _FakeWatch.versions.append(resource_version)
        if not _FakeWatch.script:
            _FakeWatch.stop.set()
            return
        step = _FakeWatch.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        yield from step

    def stop(self):
        pass


class _FakeApi:
    namespace = "ns"

    def __init__(self, *listings) -> None:
        self.listings = list(listings)
        self.lists = 0

    def list_fn(self, _kind):
        return None

    def list_objects(self, _kind, **_selectors):
        self.lists += 1
        step = self.listings.pop(0)
        if isinstance(step, BaseException):
            raise step
        return step


def _watch(monkeypatch, script, api, seconds=30.0) -> tuple[list[WatchEvent], OutageLog]:
    stop = threading.Event()
    monkeypatch.setattr(_FakeWatch, "script", list(script))
    monkeypatch.setattr(_FakeWatch, "stop", stop)
    monkeypatch.setattr(_FakeWatch, "versions", [])
    monkeypatch.setattr(rollout_watch.k8s_watch, "Watch", _FakeWatch)
    events: queue.Queue = queue.Queue()
    outages = OutageLog()
    rollout_watch._watch_thread(api, "pods", {"label_selector": "app=web"}, "7", events, stop, time.monotonic() + seconds, "web", outages)
    return list(events.queue), outages


@pytest.mark.parametrize(
    "error",
    [_refused(), ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")),
     ApiException(status=503, reason="Service Unavailable"), ApiException(status=429, reason="Too Many Requests")],
    ids=["refused", "reset", "503", "429"],
)
def test_a_watch_broken_by_a_transient_error_lists_again_and_keeps_the_outage(monkeypatch, error):
    api = _FakeApi(_refused(), LISTING)
    events, outages = _watch(monkeypatch, [[{"type": "ADDED", "raw_object": {"metadata": {"resourceVersion": "8"}}}], error], api)
    assert [e.type for e in events] == ["ADDED", "RELIST"]
    assert events[1].obj is LISTING and api.lists == 2
    assert _FakeWatch.versions == ["7", "8", "42"]  # resumed from the new listing's version
    (outage,) = outages.merged()
    assert outage.ended and 1.0 <= outage.seconds < 2.0  # backoff 0.5 s after the stream, 1 s after the first list


def test_a_watch_lists_again_after_410_gone(monkeypatch):
    events, outages = _watch(monkeypatch, [[{"type": "ERROR", "raw_object": {"code": 410}}]], _FakeApi(LISTING))
    assert [e.type for e in events] == ["RELIST"] and outages.merged() == []


@pytest.mark.parametrize(
    ("listing", "message"),
    [
        (ApiException(status=403, reason="Forbidden"), "listing again after 410 Gone failed: 403 Forbidden"),
        (KeyError("items"), "listing again after 410 Gone failed: KeyError"),
    ],
)
def test_a_relist_that_fails_ends_the_watch_with_a_failure(monkeypatch, listing, message):
    events, _outages = _watch(monkeypatch, [ApiException(status=410, reason="Gone")], _FakeApi(listing))
    assert [(e.type, e.obj["message"]) for e in events] == [("FAILURE", message)]
    assert not _FakeWatch.stop.is_set()  # the thread ended by itself, the gate did not have to stop it


def test_a_relist_that_outlasts_the_deadline_ends_the_watch_quietly_at_the_deadline(monkeypatch):
    # no FAILURE racing the gate's own end at the deadline: the gate fails as ApiUnavailable, with the outage
    started = time.monotonic()
    events, outages = _watch(monkeypatch, [_refused()], _FakeApi(*[_refused()] * 20), seconds=1.2)
    assert 1.0 <= time.monotonic() - started < 2.0
    assert events == []
    assert [(o.ended, o.error) for o in outages.merged()] == [(False, "MaxRetryError (NewConnectionError)")]


def test_a_refusal_of_the_watch_ends_it_with_a_failure(monkeypatch):
    events, _outages = _watch(monkeypatch, [ApiException(status=403, reason="Forbidden")], _FakeApi())
    assert [(e.type, e.obj["message"]) for e in events] == [("FAILURE", "403 Forbidden")]


def test_a_watch_stopped_while_waiting_for_the_api_ends_quietly(monkeypatch):
    api = _FakeApi(*[_refused()] * 20)

    def stop_the_gate() -> None:  # the Event _watch puts in place, looked up when the timer fires
        _FakeWatch.stop.set()

    stopper = threading.Timer(0.3, stop_the_gate)
    stopper.start()
    started = time.monotonic()
    events, outages = _watch(monkeypatch, [_refused()], api, seconds=30.0)
    stopper.join()
    assert events == [] and time.monotonic() - started < 2.0


@pytest.mark.parametrize(
    ("deadline", "now", "expected"),
    [(300.0, 0.0, rollout_watch.LOG_RETRY_SECONDS), (1005.0, 1000.0, 1005.0), (50.0, 60.0, 50.0)],
    ids=["a verdict long before the deadline", "a verdict near the deadline", "past the deadline"],
)
def test_the_log_of_the_failed_container_has_a_short_budget_of_its_own(deadline, now, expected):
    # a node whose kubelet does not answer must not hold back a verdict until the gate's timeout
    retrier = rollout_watch.log_retrier(deadline, now)
    assert retrier.deadline == expected
    assert retrier.log.merged() == []


class Nodes:
    """read_nodes of watch_loop: answers in turn from ``answers`` (the last one again and again) and
    keeps the clock's time and the names of each call."""

    def __init__(self, replay: Replay, *answers) -> None:
        self.replay = replay
        self.answers = list(answers)
        self.calls: list[tuple[float, list[str]]] = []

    def __call__(self, names):
        self.calls.append((self.replay.now, list(names)))
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]


READY_NODE = {"metadata": {"name": "kwok-node-0"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}


UNKNOWN_NODE = {"metadata": {"name": "kwok-node-0"}, "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}}
NODE_RULES = GateRules(1, 60, node_check_seconds=10, node_lost_grace=15)


@pytest.mark.parametrize(
    ("answers", "state", "reason", "checks", "end"),
    [
        # the node is there and ready at the first check, gone at the second: NodeLost once that has
        # lasted the grace (seen at 20 s, 15 s of grace)
        (({"kwok-node-0": READY_NODE}, {"kwok-node-0": None}), FAILED, "NodeLost", [10.0, 20.0, 30.0], 35.0),
        # the node stopped reporting: its Ready condition is Unknown from the first check on
        (({"kwok-node-0": UNKNOWN_NODE},), FAILED, "NodeNotReady", [10.0, 20.0], 25.0),
        # Unknown for one check only, as every node is right after a control plane outage: no failure
        (({"kwok-node-0": UNKNOWN_NODE}, {"kwok-node-0": READY_NODE}), PROGRESSING, "OldReplicasPending",
         [10.0, 20.0, 30.0, 40.0, 50.0], 55.0),
        # Nodes cannot be read (forbidden, or the API away): judged from the pods until the deadline
        ((None,), PROGRESSING, "OldReplicasPending", [10.0, 20.0, 30.0, 40.0, 50.0], 55.0),
        # the node is ready all along: the pod is just slow; read every 10 s, nothing changes
        (({"kwok-node-0": READY_NODE},), PROGRESSING, "OldReplicasPending", [10.0, 20.0, 30.0, 40.0, 50.0], 55.0),
    ],
    ids=["node-gone", "node-unknown", "unknown-for-a-moment", "cannot-read", "node-ready"],
)
def test_the_loop_reads_the_nodes_of_the_pods_that_are_not_ready(answers, state, reason, checks, end):
    gate, events = recorded("slow_healthy")
    replay = Replay(events)
    nodes = Nodes(replay, *answers)
    final = watch_loop(gate, replay.next_event, deadline=55.0, rules=NODE_RULES, clock=replay.clock, read_nodes=nodes)
    verdict = final.verdicts["finance-service"]
    assert (verdict.state, verdict.reason) == (state, reason), verdict.message
    assert nodes.calls == [(at, ["kwok-node-0"]) for at in checks]
    assert replay.now == end
    if state == FAILED:
        assert verdict.pod == "finance-service-02c75acd7e-m3c8z" and verdict.container is None


def test_the_loop_reads_no_node_while_every_pod_is_ready():
    gate, events = recorded("healthy")
    replay = Replay(events)
    nodes = Nodes(replay, {})
    final = watch_loop(gate, replay.next_event, deadline=300.0, rules=RULES, clock=replay.clock, read_nodes=nodes)
    assert final.verdicts["finance-service"].state == SUCCEEDED
    assert nodes.calls == []


def test_the_node_reader_stops_after_a_refusal_and_tries_again_after_an_outage():
    api = mock.Mock()
    reader = rollout_watch._NodeReader(api)
    api.read_node.side_effect = [ApiException(status=503), {"metadata": {"name": "n"}}, None]
    assert reader(["n"]) is None and reader.allowed  # the API away: next time again
    assert reader(["n", "gone"]) == {"n": {"metadata": {"name": "n"}}, "gone": None}
    api.read_node.side_effect = ApiException(status=403, reason="Forbidden")
    assert reader(["n"]) is None and not reader.allowed
    api.read_node.side_effect = AssertionError("read after a refusal")
    assert reader(["n"]) is None
