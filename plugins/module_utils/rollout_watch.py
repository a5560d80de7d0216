# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Follow Deployment rollouts through the API's watch and judge them with rollout_status.

Three parts:

- the watch (I/O): one thread per watch (the Deployment, its ReplicaSets and its pods, label
  selector from the Deployment) feeds a queue of WatchEvents; watches carry the list's
  resourceVersion and a server-side timeout; on 410 Gone the objects are listed again, and so they
  are after a transient error (API server restarting, 429, 5xx), the list retried with backoff until
  the gate's deadline (``api_retry``); every read does the same, and the outages go into the result
  (``api_outages``);
- the step (pure): ``apply_event`` turns the GateState and one event into the next GateState, with
  the verdict so far of every Deployment; ``watch_loop`` feeds it events until the gate is settled
  or the deadline passes;
- the result (pure): ``gate_result`` builds the module's result and message from the final state.

A lost node produces no event on the pods for a while (its kubelet is gone; the node lifecycle
controller marks its pods not ready only after its grace period, and never a pod that was not ready
yet), so every ``node_check_seconds`` while the gate waits it reads the Nodes of the pods that are not
ready (``read_nodes``), when the credentials may read Nodes; without that right it judges from the
pods alone (rollout_status.node_loss).

A pod the scheduler cannot place produces no further events, so the loop also wakes up when the
unschedulable grace of a pending pod runs out. That grace is measured on this process's monotonic
clock from the moment the gate first saw the pod Unschedulable, not from the condition's
lastTransitionTime: that timestamp comes from the cluster's clock (one-second resolution), and any
skew between the controller and the cluster would shorten or stretch the grace.
"""

from __future__ import annotations

import json
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.api_retry import (
    Outage,
    OutageLog,
    Retrier,
    RetriesExhausted,
    describe,
    status_of,
    transient,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import (
    ApiException,
    api_call,
    path_client,
    request_json,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.redact import redact_value
from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_status import (
    FAILED,
    SUCCEEDED,
    RolloutVerdict,
    evaluate_rollout,
    node_loss,
    nodes_to_check,
    unschedulable_condition,
)

try:
    from kubernetes import watch as k8s_watch
except ImportError:  # the modules check for the library through k8s_connection.K8S_IMPORT_ERROR
    pass

ERROR_LINE = re.compile(r"\b(error|exception|fatal|panic|failed|cannot|refused|denied)\b", re.IGNORECASE)


class RolloutGateError(Exception):
    """The gate could not run (missing Deployment, API error); the message says what to do."""


def first_error_line(lines: list[str]) -> str | None:
    """The line a human looks for first: one containing 'Error:', else any error-looking line."""
    for line in lines:
        if "Error:" in line:
            return line.strip()
    for line in lines:
        if ERROR_LINE.search(line):
            return line.strip()
    return None


def label_selector(deployment: Mapping[str, Any]) -> str:
    """Render the Deployment's spec.selector as a label selector string."""
    selector = (deployment.get("spec") or {}).get("selector") or {}
    parts = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, operator = expr["key"], expr["operator"]
        if operator == "Exists":
            parts.append(key)
        elif operator == "DoesNotExist":
            parts.append(f"!{key}")
        else:
            parts.append(f"{key} {operator.lower()} ({','.join(expr.get('values') or [])})")
    if not parts:
        raise RolloutGateError(f"Deployment {deployment.get('metadata', {}).get('name')} has an empty spec.selector")
    return ",".join(parts)


def _raw(response: Any) -> dict[str, Any]:
    return json.loads(response.data)


@dataclass(frozen=True)
class GateRules:
    """What fails a rollout besides the pod states rollout_status judges."""

    max_restarts: int = 1
    unschedulable_grace: float = 60
    # how often the Nodes of the pods that are not ready are read while the gate waits
    node_check_seconds: float = 10
    # how long a pod's node must look lost before the gate fails on it: a control plane back from an
    # outage marks every node not ready for a few seconds (the node lifecycle controller's
    # "FullDisruption"), and its kubelets mark their pods ready again within seconds
    node_lost_grace: float = 60


@dataclass(frozen=True)
class WatchEvent:
    """One event of the watch on a Deployment, its ReplicaSets or its pods.

    ``type`` is the API's ADDED, MODIFIED or DELETED; RELIST after 410 Gone (``obj`` is then the new
    listing); RETRY when the stream broke and is resumed, FAILURE when the watch ended with an API
    error (both with ``obj["message"]``).
    """

    owner: str  # the Deployment the watch belongs to
    kind: str  # deployments, replicasets or pods
    type: str
    obj: Mapping[str, Any]


@dataclass(frozen=True)
class RolloutState:
    """What the gate knows of one Deployment's rollout."""

    deployment: Mapping[str, Any]
    selector: str
    replicasets: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    pods: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # pod name -> monotonic time at which the gate first saw the pod Unschedulable
    unschedulable_since: Mapping[str, float] = field(default_factory=dict)
    # pod name -> monotonic time at which the gate first saw the pod's node lost (rollout_status.node_loss)
    node_lost_since: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class GateState:
    """The gate after each event: the objects of every watched Deployment and its verdict so far."""

    namespace: str
    rollouts: Mapping[str, RolloutState]
    verdicts: Mapping[str, RolloutVerdict] = field(default_factory=dict)
    watch_retries: tuple[str, ...] = ()
    # node name -> the Node as last read (None: it does not exist), for the pods that are not ready
    nodes: Mapping[str, Mapping[str, Any] | None] = field(default_factory=dict)

    @property
    def unready_nodes(self) -> list[str]:
        """The nodes of every watched pod that is bound and not ready (rollout_status.nodes_to_check)."""
        return nodes_to_check(pod for rollout in self.rollouts.values() for pod in rollout.pods.values())

    @property
    def settled(self) -> bool:
        """A rollout failed, or every one succeeded: no further event can change the verdict."""
        states = [verdict.state for verdict in self.verdicts.values()]
        return FAILED in states or all(state == SUCCEEDED for state in states)

    @property
    def failure(self) -> RolloutVerdict | None:
        return next((verdict for verdict in self.verdicts.values() if verdict.state == FAILED), None)


def by_name(items: Iterable[Mapping[str, Any]] | None) -> dict[str, Mapping[str, Any]]:
    return {item["metadata"]["name"]: item for item in items or []}


def _judge(
    rollout: RolloutState, now: float, rules: GateRules, nodes: Mapping[str, Mapping[str, Any] | None]
) -> tuple[RolloutState, RolloutVerdict]:
    """The rollout's verdict at ``now``; pods Unschedulable since an earlier sighting keep that time."""
    since = {
        name: rollout.unschedulable_since.get(name, now)
        for name, pod in rollout.pods.items()
        if unschedulable_condition(pod) is not None
    }
    lost = {
        name: rollout.node_lost_since.get(name, now)
        for name, pod in rollout.pods.items()
        if node_loss(pod, nodes) is not None
    }
    verdict = evaluate_rollout(
        rollout.deployment,
        list(rollout.replicasets.values()),
        list(rollout.pods.values()),
        rules.max_restarts,
        rules.unschedulable_grace,
        {name: now - seen for name, seen in since.items()},
        nodes,
        rules.node_lost_grace,
        {name: now - seen for name, seen in lost.items()},
    )
    return replace(rollout, unschedulable_since=since, node_lost_since=lost), verdict


def judge_all(state: GateState, now: float, rules: GateRules) -> GateState:
    """Every rollout judged again at ``now`` (at the start, and when an unschedulable grace runs out)."""
    judged = {name: _judge(rollout, now, rules, state.nodes) for name, rollout in state.rollouts.items()}
    return replace(
        state,
        rollouts={name: rollout for name, (rollout, _verdict) in judged.items()},
        verdicts={name: verdict for name, (_rollout, verdict) in judged.items()},
    )


def apply_event(state: GateState, event: WatchEvent, now: float, rules: GateRules) -> GateState:
    """The gate after one watch event, with the event's Deployment judged again at ``now``.

    Raises RolloutGateError when the watch failed or the Deployment was deleted.
    """
    if event.type == "FAILURE":
        raise RolloutGateError(
            f"watching {event.kind} of Deployment {state.namespace}/{event.owner} failed: {event.obj['message']}"
        )
    if event.type == "RETRY":
        return replace(state, watch_retries=(*state.watch_retries, f"{event.kind} of {event.owner}: {event.obj['message']}"))
    rollout = state.rollouts[event.owner]
    if event.kind == "deployments":
        if event.type == "DELETED":
            raise RolloutGateError(f"Deployment {state.namespace}/{event.owner} was deleted during the rollout")
        if event.type != "RELIST":
            rollout = replace(rollout, deployment=event.obj)
        elif event.obj.get("items"):
            rollout = replace(rollout, deployment=event.obj["items"][0])
    else:
        store = dict(rollout.replicasets if event.kind == "replicasets" else rollout.pods)
        if event.type == "RELIST":
            store = by_name(event.obj.get("items"))
        elif event.type == "DELETED":
            store.pop(event.obj["metadata"]["name"], None)
        else:
            store[event.obj["metadata"]["name"]] = event.obj
        rollout = replace(rollout, **{event.kind: store})
    rollout, verdict = _judge(rollout, now, rules, state.nodes)
    return replace(
        state,
        rollouts={**state.rollouts, event.owner: rollout},
        verdicts={**state.verdicts, event.owner: verdict},
    )


def next_wakeup(state: GateState, now: float, rules: GateRules) -> float | None:
    """Seconds until the next pending pod, or pod on a lost node, reaches its grace (no event comes then)."""
    ends = [
        seen + grace
        for rollout in state.rollouts.values()
        for since, grace in ((rollout.unschedulable_since, rules.unschedulable_grace),
                             (rollout.node_lost_since, rules.node_lost_grace))
        for seen in since.values()
        if seen + grace > now
    ]
    return min(ends) - now if ends else None


NodeReader = Callable[[Sequence[str]], "Mapping[str, Mapping[str, Any] | None] | None"]


def watch_loop(
    state: GateState,
    next_event: Callable[[float], WatchEvent | None],
    deadline: float,
    rules: GateRules,
    clock: Callable[[], float] = time.monotonic,
    read_nodes: NodeReader | None = None,
) -> GateState:
    """Apply events until the gate is settled or ``deadline`` (on ``clock``) has passed.

    ``next_event(seconds)`` returns the next event, or None when none came within ``seconds``. The
    loop also wakes up when a pending pod's unschedulable grace runs out, and every
    ``rules.node_check_seconds`` while a pod is not ready, to read the Nodes of such pods with
    ``read_nodes(names)`` (it returns the Nodes read, None for one that does not exist, or None when
    they cannot be read this time). An unsettled gate is judged once more at the end, so a timeout's
    message tells how long a pod has been waiting by then.
    """
    node_check = clock() + rules.node_check_seconds if read_nodes is not None else 0.0
    while not state.settled:
        now = clock()
        remaining = deadline - now
        if remaining <= 0:
            break
        wakeups = [w for w in (next_wakeup(state, now, rules), node_check - now if read_nodes else None) if w is not None]
        wakeup = max(0.0, min(wakeups)) if wakeups else None
        event = next_event(remaining if wakeup is None else min(remaining, wakeup))
        if event is not None:
            state = apply_event(state, event, clock(), rules)
        elif wakeup is None or wakeup >= remaining:
            break
        if read_nodes is not None and clock() >= node_check and not state.settled:
            node_check = clock() + rules.node_check_seconds
            state = judge_all(_with_nodes(state, read_nodes), clock(), rules)
        elif event is None:
            state = judge_all(state, clock(), rules)
    return state if state.settled else judge_all(state, clock(), rules)


def _with_nodes(state: GateState, read_nodes: NodeReader) -> GateState:
    """The state with the Nodes of its pods that are not ready read again (kept as they were when
    they cannot be read this time)."""
    names = state.unready_nodes
    if not names:
        return replace(state, nodes={})
    nodes = read_nodes(names)
    return state if nodes is None else replace(state, nodes=dict(nodes))


def _rollout_report(verdict: RolloutVerdict) -> dict[str, Any]:
    return {
        "state": verdict.state,
        "reason": verdict.reason,
        "message": verdict.message,
        "ready": verdict.ready_ratio,
        "updated": verdict.updated,
        "available": verdict.available,
        "old_pods": verdict.old_pods,
        "new_replicaset": verdict.new_replicaset,
        "revision": verdict.revision,
    }


def _failure_message(failed: RolloutVerdict, namespace: str, quote: str | None, elapsed: float) -> str:
    if failed.container is None:  # an Unschedulable pod or the Deployment's own condition
        what = failed.message.removeprefix(f'Deployment "{failed.deployment}" failed: ')
    else:
        counts = (
            f"exit code {failed.exit_code}, {failed.restart_count} restarts"
            if failed.exit_code is not None
            else f"{failed.restart_count} restarts"
        )
        what = f"pod {failed.pod} container {failed.container} is {failed.reason} ({counts})"
    return (
        f"rollout of Deployment {namespace}/{failed.deployment} failed: {what}"
        + (f'; log: "{quote}"' if quote else "")
        + f"; ready {failed.ready_ratio} after {elapsed:g} s"
    )


def gate_result(
    state: GateState,
    ignored: Mapping[str, Mapping[str, str]],
    *,
    timeout: int,
    elapsed: float,
    check_mode: bool = False,
    logs: list[str] | None = None,
    log_source: str = "",
    secrets: Sequence[str] = (),
    outages: Sequence[Outage] = (),
) -> dict[str, Any]:
    """The module result for the gate's final state; ``failed`` is set when a rollout failed or did
    not complete in time. ``ignored`` holds the missing or scaled-to-zero Deployments allow_missing
    let pass; ``logs`` and ``log_source`` are those of the failed container, if any; ``outages`` the
    times the API could not be used (``api_outages``; a gate that ran out of time while the API was
    still unavailable fails with the reason ``ApiUnavailable``). Every string of the result (the
    quoted log, the messages) has ``secrets`` masked (``redact.redact_value``)."""
    result = _gate_result(
        state, ignored, timeout=timeout, elapsed=elapsed, check_mode=check_mode, logs=logs, log_source=log_source
    )
    if outages:
        result["api_outages"] = [outage.as_dict() for outage in outages]
        if result.get("reason") == "Timeout" and not outages[-1].ended:
            last = result["api_outages"][-1]
            result.update(
                reason="ApiUnavailable",
                msg=(
                    f"the Kubernetes API has been unavailable since {last['started']} ({last['error']}, "
                    f"{last['seconds']:g} s) and the rollout of Deployment {state.namespace}/{result['deployment']} "
                    f"could not be followed to its end within {timeout} s; the rollout itself may be fine: "
                    "check the API server, then run the week again"
                ),
            )
    return redact_value(result, secrets)


def _gate_result(
    state: GateState,
    ignored: Mapping[str, Mapping[str, str]],
    *,
    timeout: int,
    elapsed: float,
    check_mode: bool,
    logs: list[str] | None,
    log_source: str,
) -> dict[str, Any]:
    report = {**ignored, **{name: _rollout_report(verdict) for name, verdict in state.verdicts.items()}}
    result: dict[str, Any] = {
        "changed": False,
        "elapsed": elapsed,
        "ready": {name: data["ready"] for name, data in report.items()},
        "deployments": report,
    }
    if state.watch_retries:
        result["watch_retries"] = list(state.watch_retries)
    failed = state.failure
    if failed is not None:
        logs = logs or []
        result.update(
            failed=True,
            msg=_failure_message(failed, state.namespace, first_error_line(logs), elapsed),
            deployment=failed.deployment,
            pod=failed.pod,
            container=failed.container,
            reason=failed.reason,
            message=failed.message,
            exit_code=failed.exit_code,
            restart_count=failed.restart_count,
            logs=logs,
            log_source=log_source,
        )
        return result
    pending = [verdict for verdict in state.verdicts.values() if verdict.state != SUCCEEDED]
    if pending and not check_mode:
        worst = pending[0]
        result.update(
            failed=True,
            reason="Timeout",
            deployment=worst.deployment,
            message=worst.message,
            msg=(
                f"rollout of Deployment {state.namespace}/{worst.deployment} did not complete within {timeout} s: "
                f"{worst.message}. Look at 'kubectl -n {state.namespace} describe deployment {worst.deployment}', "
                "or raise timeout if the rollout is only slow."
            ),
        )
        return result
    result["msg"] = (
        "rollouts complete: " + ", ".join(f"{name} {data['ready']}" for name, data in report.items())
        if not pending
        else "check mode: " + "; ".join(verdict.message for verdict in pending)
    )
    return result


# where each kind the gate lists and watches lives
_LIST_PATHS = {
    "pods": "/api/v1/namespaces/{namespace}/pods",
    "replicasets": "/apis/apps/v1/namespaces/{namespace}/replicasets",
    "deployments": "/apis/apps/v1/namespaces/{namespace}/deployments",
}


class _Api:
    """The gate's reads, by API path: no typed API class, whose import and models cost more than the
    gate's own work (``k8s_connection.path_client``). A list function answers the Watch with the raw
    stream, and the Watch leaves each event's object as the dict it is."""

    def __init__(self, api_client: Any, namespace: str) -> None:
        self.client = api_client
        self.dynamic = path_client(api_client)
        self.namespace = namespace

    def _read(self, path: str) -> dict[str, Any] | None:
        try:
            return request_json(self.dynamic, "GET", path)
        except ApiException as exc:
            if getattr(exc, "status", None) == 404:
                return None
            raise

    def read_deployment(self, name: str) -> dict[str, Any] | None:
        return self._read(f"/apis/apps/v1/namespaces/{self.namespace}/deployments/{name}")

    def list_fn(self, kind: str) -> Callable[..., Any]:
        path = _LIST_PATHS[kind]

        def list_kind(namespace: str, **params: Any):
            return self.dynamic.request("GET", path.format(namespace=namespace), serialize=False, **params)

        return list_kind

    def list_objects(self, kind: str, **selectors: str) -> dict[str, Any]:
        return _raw(self.list_fn(kind)(self.namespace, **selectors))

    def read_node(self, name: str) -> dict[str, Any] | None:
        return self._read(f"/api/v1/nodes/{name}")

    def log(self, pod: str, container: str, lines: int, previous: bool) -> list[str]:
        query = [("container", container), ("previous", "true" if previous else "false"), ("tailLines", str(lines))]
        answer = self.dynamic.request("GET", f"/api/v1/namespaces/{self.namespace}/pods/{pod}/log", serialize=False,
                                      query_params=query, header_params={"Accept": "*/*"})
        return answer.data.decode("utf-8", "replace").splitlines()


# How long reading a failed container's log is tried again after transient errors.
LOG_RETRY_SECONDS = 10.0


def log_retrier(deadline: float, now: float) -> Retrier:
    """The retries of the failed container's log: LOG_RETRY_SECONDS from ``now``, never past the
    gate's ``deadline``; its outages are the kubelet's, not the API's, and stay out of the result."""
    return Retrier(min(deadline, now + LOG_RETRY_SECONDS))


class _Stopped(Exception):
    """The gate ended while a watch waited to try the API again."""


def _sleep_unless(stop: threading.Event) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise _Stopped()

    return sleep


def _relist_failure(error: BaseException, after: str) -> str:
    return f"listing again after {after} failed: {describe(error)}"


def _watch_thread(
    api: _Api,
    kind: str,
    selectors: dict[str, str],
    resource_version: str,
    events: "queue.Queue[WatchEvent]",
    stop: threading.Event,
    deadline: float,
    owner: str,
    outages: OutageLog,
) -> None:
    """Stream events of one kind into ``events``; end at ``deadline`` or ``stop``.

    After 410 Gone, or a transient error of the stream (the API server restarting or overloaded),
    the objects are listed again (RELIST), the list retried with backoff until ``deadline`` and the
    outage kept in ``outages`` (an outage that lasts until the deadline ends the watch quietly: the
    gate then fails as ApiUnavailable); a list that fails otherwise ends the watch with a FAILURE, so
    the gate ends at once instead of waiting for its timeout. Another API error is a FAILURE; any
    other break of the stream is resumed from the last version (RETRY)."""
    version = resource_version
    retrier = Retrier(deadline, outages, sleep=_sleep_unless(stop))
    while not stop.is_set():
        remaining = int(deadline - time.monotonic())
        if remaining <= 0:
            return
        watcher = k8s_watch.Watch()
        try:
            for event in watcher.stream(
                api.list_fn(kind),
                api.namespace,
                resource_version=version,
                timeout_seconds=max(1, min(remaining, 60)),
                allow_watch_bookmarks=True,
                **selectors,
            ):
                if stop.is_set():
                    watcher.stop()
                    return
                raw = event.get("raw_object") or {}
                if event["type"] == "ERROR":
                    if raw.get("code") == 410:
                        raise ApiException(status=410, reason="Gone")
                    continue
                version = (raw.get("metadata") or {}).get("resourceVersion") or version
                if event["type"] != "BOOKMARK":
                    events.put(WatchEvent(owner, kind, event["type"], raw))
        except Exception as exc:
            if stop.is_set():
                return
            gone = status_of(exc) == 410
            if not gone and not transient(exc):
                if isinstance(exc, ApiException):
                    events.put(WatchEvent(owner, kind, "FAILURE", {"message": describe(exc)}))
                    return
                # the stream broke otherwise: try again with the last version
                events.put(WatchEvent(owner, kind, "RETRY", {"message": f"{type(exc).__name__}: {exc}"}))
                time.sleep(0.2)
                continue
            try:
                if not gone:
                    retrier.failed(exc)
                listing = retrier.call(lambda: api.list_objects(kind, **selectors))
            except (_Stopped, RetriesExhausted):
                # stopped, or the deadline came with the API still away: the gate ends as ApiUnavailable
                # (the outage is in ``outages``, not ended)
                return
            except Exception as failure:
                if not stop.is_set():
                    events.put(WatchEvent(owner, kind, "FAILURE", {"message": _relist_failure(failure, describe(exc))}))
                return
            version = listing["metadata"].get("resourceVersion", "")
            events.put(WatchEvent(owner, kind, "RELIST", listing))


def _collect_logs(api: _Api, verdict: RolloutVerdict, lines: int, retrier: Retrier) -> tuple[list[str], str]:
    """Previous log of the failed container, falling back to the current one (each read retried while
    ``retrier`` allows); never raises."""
    notes = []
    for previous in (True, False):
        try:
            logs = retrier.call(lambda: api.log(verdict.pod or "", verdict.container or "", lines, previous))
        except Exception as exc:  # both 400 (no previous instance) and transport errors are tolerated
            notes.append(f"{'previous' if previous else 'current'} log unavailable: {getattr(exc, 'reason', exc)}")
            continue
        if logs or not previous:
            return logs, "previous" if previous else "current"
    return [], "; ".join(notes)


def _read_rollouts(
    api: _Api, namespace: str, names: list[str], allow_missing: bool, retrier: Retrier
) -> tuple[dict[str, RolloutState], dict[str, dict[str, str]], dict[tuple[str, str], str]]:
    """Each named Deployment with its ReplicaSets and pods as listed now (each read retried while
    ``retrier`` allows); the missing or scaled-to-zero ones allow_missing lets pass; the
    resourceVersion each watch starts from."""
    rollouts: dict[str, RolloutState] = {}
    ignored: dict[str, dict[str, str]] = {}
    versions: dict[tuple[str, str], str] = {}
    for name in dict.fromkeys(names):
        deployment = api_call(
            f"read Deployment {namespace}/{name}", lambda name=name: api.read_deployment(name), api.client, retrier
        )
        replicas = None if deployment is None else int((deployment.get("spec") or {}).get("replicas", 1))
        if deployment is None or replicas == 0:
            state = "missing" if deployment is None else "scaled to 0 replicas"
            if not allow_missing:
                raise RolloutGateError(
                    f"Deployment {namespace}/{name} is {state}; the gate needs a running rollout. "
                    "Apply it first, remove it from 'deployments', or set allow_missing: true to ignore it."
                )
            ignored[name] = {"state": "missing" if deployment is None else "scaled_to_zero", "ready": "0/0"}
            continue
        selector = label_selector(deployment)
        listed = {}
        for kind in ("replicasets", "pods"):
            listing = api_call(
                f"list the {kind} of Deployment {namespace}/{name}",
                lambda kind=kind: api.list_objects(kind, label_selector=selector),
                api.client,
                retrier,
            )
            versions[(name, kind)] = listing["metadata"].get("resourceVersion", "")
            listed[kind] = by_name(listing.get("items"))
        versions[(name, "deployments")] = deployment["metadata"].get("resourceVersion", "")
        rollouts[name] = RolloutState(deployment, selector, listed["replicasets"], listed["pods"])
    return rollouts, ignored, versions


def _start_watches(
    api: _Api,
    state: GateState,
    versions: Mapping[tuple[str, str], str],
    events: "queue.Queue[WatchEvent]",
    stop: threading.Event,
    deadline: float,
    outages: OutageLog,
) -> None:
    """One thread per watch: each Deployment by name, its ReplicaSets and its pods by its selector."""
    for name, rollout in state.rollouts.items():
        for kind, selectors in (
            ("deployments", {"field_selector": f"metadata.name={name}"}),
            ("replicasets", {"label_selector": rollout.selector}),
            ("pods", {"label_selector": rollout.selector}),
        ):
            threading.Thread(
                target=_watch_thread,
                args=(api, kind, selectors, versions[(name, kind)], events, stop, deadline, name, outages),
                name=f"watch {kind} of {name}",
                daemon=True,
            ).start()


class _NodeReader:
    """read_nodes of watch_loop: one try per check (the next check tries again); once the API says
    the credentials may not read Nodes (403), it stops reading them and the gate judges from the pods."""

    def __init__(self, api: _Api) -> None:
        self.api = api
        self.allowed = True

    def __call__(self, names: Sequence[str]) -> dict[str, Mapping[str, Any] | None] | None:
        if not self.allowed:
            return None
        nodes: dict[str, Mapping[str, Any] | None] = {}
        for name in names:
            try:
                nodes[name] = self.api.read_node(name)
            except ApiException as exc:
                self.allowed = status_of(exc) != 403
                return None
            except Exception as exc:  # the connection itself: tried again at the next check
                if transient(exc):
                    return None
                raise
        return nodes


def _queue_reader(events: "queue.Queue[WatchEvent]") -> Callable[[float], WatchEvent | None]:
    def next_event(seconds: float) -> WatchEvent | None:
        try:
            return events.get(timeout=seconds)
        except queue.Empty:
            return None

    return next_event


def run_rollout_gate(
    api_client: Any,
    namespace: str,
    deployments: list[str],
    timeout: int = 300,
    max_restarts: int = 1,
    log_lines: int = 20,
    allow_missing: bool = False,
    check_mode: bool = False,
    unschedulable_grace: int = 60,
    secrets: Sequence[str] = (),
) -> dict[str, Any]:
    """Wait for every named Deployment to complete its rollout; return the module result.

    The result has ``failed`` set when a rollout failed or the timeout passed; ``secrets`` are masked
    in all of it. Transient API errors are retried within ``timeout``; ``api_outages`` lists them.
    """
    if unschedulable_grace < 0:
        raise RolloutGateError(f"unschedulable_grace must be 0 or more seconds, got {unschedulable_grace}")
    start = time.monotonic()
    deadline = start + timeout
    rules = GateRules(max_restarts, unschedulable_grace)
    api = _Api(api_client, namespace)
    outages = OutageLog()
    retrier = Retrier(deadline, outages)
    rollouts, ignored, versions = _read_rollouts(api, namespace, deployments, allow_missing, retrier)
    state = judge_all(GateState(namespace, rollouts), time.monotonic(), rules)
    if not check_mode and rollouts and not state.settled:
        events: "queue.Queue[WatchEvent]" = queue.Queue()
        stop = threading.Event()
        try:
            _start_watches(api, state, versions, events, stop, deadline, outages)
            state = watch_loop(state, _queue_reader(events), deadline, rules, read_nodes=_NodeReader(api))
        finally:
            stop.set()
    elapsed = round(time.monotonic() - start, 3)
    failed = state.failure
    # an Unschedulable pod has no container, hence no log
    # The log comes through the node's kubelet, which may not answer at all (a node that is lost or
    # simulated): a short budget of its own, so that a verdict already reached is not held back.
    logs, source = (
        ([], "")
        if failed is None or failed.container is None
        else _collect_logs(api, failed, log_lines, log_retrier(deadline, time.monotonic()))
    )
    return gate_result(
        state,
        ignored,
        timeout=timeout,
        elapsed=elapsed,
        check_mode=check_mode,
        logs=logs,
        log_source=source,
        secrets=secrets,
        outages=outages.merged(),
    )
