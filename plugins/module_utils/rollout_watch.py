# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Follow Deployment rollouts through the API's watch and judge them with rollout_status.

One thread per watch (the Deployment, its ReplicaSets and its pods, label selector from the
Deployment) feeds a queue; every event updates a cache and the rollout is re-evaluated. Watches
carry the list's resourceVersion and a server-side timeout; on 410 Gone the objects are listed again.

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
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_status import (
    FAILED,
    SUCCEEDED,
    RolloutVerdict,
    evaluate_rollout,
    unschedulable_condition,
)

try:
    from kubernetes import client as k8s_client
    from kubernetes import watch as k8s_watch
    from kubernetes.client.exceptions import ApiException

    HAS_KUBERNETES = True
except ImportError:
    HAS_KUBERNETES = False

    class ApiException(Exception):  # type: ignore[no-redef]
        """Stands in for the client's ApiException when the kubernetes library is missing."""

        status: int | None = None
        reason: str | None = None

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


@dataclass
class _Tracked:
    name: str
    deployment: dict[str, Any]
    selector: str
    replicasets: dict[str, dict[str, Any]] = field(default_factory=dict)
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    # pod name -> time.monotonic() when the gate first saw the pod Unschedulable
    unschedulable_since: dict[str, float] = field(default_factory=dict)

    def verdict(self, max_restarts: int, unschedulable_grace: float | None = None) -> RolloutVerdict:
        now = time.monotonic()
        pending = {name for name, pod in self.pods.items() if unschedulable_condition(pod) is not None}
        self.unschedulable_since = {name: self.unschedulable_since.get(name, now) for name in pending}
        return evaluate_rollout(
            self.deployment,
            list(self.replicasets.values()),
            list(self.pods.values()),
            max_restarts,
            unschedulable_grace,
            {name: now - since for name, since in self.unschedulable_since.items()},
        )

    def grace_ends(self, unschedulable_grace: float) -> list[float]:
        """Monotonic times at which pending pods reach the unschedulable grace."""
        return [since + unschedulable_grace for since in self.unschedulable_since.values()]


class _Api:
    def __init__(self, api_client: Any, namespace: str) -> None:
        self.core = k8s_client.CoreV1Api(api_client)
        self.apps = k8s_client.AppsV1Api(api_client)
        self.namespace = namespace

    def read_deployment(self, name: str) -> dict[str, Any] | None:
        try:
            return _raw(self.apps.read_namespaced_deployment(name, self.namespace, _preload_content=False))
        except ApiException as exc:
            if getattr(exc, "status", None) == 404:
                return None
            raise

    def list_objects(self, kind: str, **selectors: str) -> dict[str, Any]:
        fn = {
            "pods": self.core.list_namespaced_pod,
            "replicasets": self.apps.list_namespaced_replica_set,
            "deployments": self.apps.list_namespaced_deployment,
        }[kind]
        return _raw(fn(self.namespace, _preload_content=False, **selectors))

    def list_fn(self, kind: str) -> Callable[..., Any]:
        return {
            "pods": self.core.list_namespaced_pod,
            "replicasets": self.apps.list_namespaced_replica_set,
            "deployments": self.apps.list_namespaced_deployment,
        }[kind]

    def log(self, pod: str, container: str, lines: int, previous: bool) -> list[str]:
        text = self.core.read_namespaced_pod_log(
            pod, self.namespace, container=container, previous=previous, tail_lines=lines, _preload_content=False
        ).data.decode("utf-8", "replace")
        return text.splitlines()


def _watch_thread(
    api: _Api,
    kind: str,
    selectors: dict[str, str],
    resource_version: str,
    events: "queue.Queue[tuple[str, str, str, dict[str, Any]]]",
    stop: threading.Event,
    deadline: float,
    owner: str,
) -> None:
    """Stream events of one kind into ``events``; re-list on 410 Gone; end at ``deadline`` or ``stop``."""
    version = resource_version
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
                    events.put((owner, kind, event["type"], raw))
        except ApiException as exc:
            if getattr(exc, "status", None) != 410:
                events.put((owner, kind, "FAILURE", {"message": str(exc)}))
                return
            listing = api.list_objects(kind, **selectors)
            version = listing["metadata"].get("resourceVersion", "")
            events.put((owner, kind, "RELIST", listing))
        except Exception as exc:  # the stream broke (connection reset): try again with the last version
            if stop.is_set():
                return
            events.put((owner, kind, "RETRY", {"message": f"{type(exc).__name__}: {exc}"}))
            time.sleep(0.2)


def _collect_logs(api: _Api, verdict: RolloutVerdict, lines: int) -> tuple[list[str], str]:
    """Previous log of the failed container, falling back to the current one; never raises."""
    notes = []
    for previous in (True, False):
        try:
            logs = api.log(verdict.pod or "", verdict.container or "", lines, previous)
        except Exception as exc:  # both 400 (no previous instance) and transport errors are tolerated
            notes.append(f"{'previous' if previous else 'current'} log unavailable: {getattr(exc, 'reason', exc)}")
            continue
        if logs or not previous:
            return logs, "previous" if previous else "current"
    return [], "; ".join(notes)


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
) -> dict[str, Any]:
    """Wait for every named Deployment to complete its rollout; return the module result.

    The result has ``failed`` set when a rollout failed or the timeout passed.
    """
    if unschedulable_grace < 0:
        raise RolloutGateError(f"unschedulable_grace must be 0 or more seconds, got {unschedulable_grace}")
    start = time.monotonic()
    deadline = start + timeout
    api = _Api(api_client, namespace)
    tracked: dict[str, _Tracked] = {}
    report: dict[str, dict[str, Any]] = {}
    versions: dict[tuple[str, str], str] = {}
    for name in dict.fromkeys(deployments):
        try:
            deployment = api.read_deployment(name)
        except ApiException as exc:
            raise RolloutGateError(f"cannot read Deployment {namespace}/{name}: {exc.status} {exc.reason}") from exc
        except Exception as exc:  # urllib3 connection errors: the API server is not reachable
            host = getattr(getattr(api_client, "configuration", None), "host", "the API server")
            raise RolloutGateError(
                f"cannot reach the Kubernetes API at {host} to read Deployment {namespace}/{name}: "
                f"{type(exc).__name__}; check the kubeconfig/context and that the cluster is up"
            ) from exc
        replicas = None if deployment is None else int((deployment.get("spec") or {}).get("replicas", 1))
        if deployment is None or replicas == 0:
            state = "missing" if deployment is None else "scaled to 0 replicas"
            if not allow_missing:
                raise RolloutGateError(
                    f"Deployment {namespace}/{name} is {state}; the gate needs a running rollout. "
                    "Apply it first, remove it from 'deployments', or set allow_missing: true to ignore it."
                )
            report[name] = {"state": "missing" if deployment is None else "scaled_to_zero", "ready": "0/0"}
            continue
        selector = label_selector(deployment)
        item = _Tracked(name, deployment, selector)
        for kind, store in (("replicasets", item.replicasets), ("pods", item.pods)):
            listing = api.list_objects(kind, label_selector=selector)
            versions[(name, kind)] = listing["metadata"].get("resourceVersion", "")
            store.update({o["metadata"]["name"]: o for o in listing.get("items") or []})
        versions[(name, "deployments")] = deployment["metadata"].get("resourceVersion", "")
        tracked[name] = item

    def evaluate() -> dict[str, RolloutVerdict]:
        return {name: item.verdict(max_restarts, unschedulable_grace) for name, item in tracked.items()}

    def next_wakeup(now: float) -> float | None:
        """Seconds until the next pending pod reaches its grace (the scheduler sends no event then)."""
        ends = [end for item in tracked.values() for end in item.grace_ends(unschedulable_grace) if end > now]
        return min(ends) - now if ends else None

    verdicts = evaluate()
    events: "queue.Queue[tuple[str, str, str, dict[str, Any]]]" = queue.Queue()
    stop = threading.Event()
    threads = []
    waiting = not check_mode and tracked and not _settled(verdicts)
    if waiting:
        for name, item in tracked.items():
            for kind, selectors in (
                ("deployments", {"field_selector": f"metadata.name={name}"}),
                ("replicasets", {"label_selector": item.selector}),
                ("pods", {"label_selector": item.selector}),
            ):
                thread = threading.Thread(
                    target=_watch_thread,
                    args=(api, kind, selectors, versions[(name, kind)], events, stop, deadline, name),
                    name=f"watch {kind} of {name}",
                    daemon=True,
                )
                thread.start()
                threads.append(thread)
    watch_problems: list[str] = []
    try:
        while waiting and not _settled(verdicts):
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                break
            wakeup = next_wakeup(now)
            try:
                owner, kind, etype, obj = events.get(timeout=remaining if wakeup is None else min(remaining, wakeup))
            except queue.Empty:
                if wakeup is not None and wakeup < remaining:
                    verdicts = evaluate()
                    continue
                break
            item = tracked[owner]
            if etype in ("FAILURE", "RETRY"):
                watch_problems.append(f"{kind} of {owner}: {obj['message']}")
                if etype == "FAILURE":
                    raise RolloutGateError(f"watching {kind} of Deployment {namespace}/{owner} failed: {obj['message']}")
                continue
            if kind == "deployments":
                if etype == "DELETED":
                    raise RolloutGateError(f"Deployment {namespace}/{owner} was deleted during the rollout")
                if etype != "RELIST":
                    item.deployment = obj
                elif obj.get("items"):
                    item.deployment = obj["items"][0]
            else:
                store = item.replicasets if kind == "replicasets" else item.pods
                if etype == "RELIST":
                    store.clear()
                    store.update({o["metadata"]["name"]: o for o in obj.get("items") or []})
                elif etype == "DELETED":
                    store.pop(obj["metadata"]["name"], None)
                else:
                    store[obj["metadata"]["name"]] = obj
            verdicts[owner] = item.verdict(max_restarts, unschedulable_grace)
    finally:
        stop.set()
    if waiting and not _settled(verdicts):
        verdicts = evaluate()  # the timeout's message tells how long a pod has been waiting for a node by now

    elapsed = round(time.monotonic() - start, 3)
    for name, verdict in verdicts.items():
        report[name] = {
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
    result: dict[str, Any] = {
        "changed": False,
        "elapsed": elapsed,
        "ready": {name: data["ready"] for name, data in report.items()},
        "deployments": report,
    }
    if watch_problems:
        result["watch_retries"] = watch_problems
    failed = next((v for v in verdicts.values() if v.state == FAILED), None)
    if failed is not None:
        # an Unschedulable pod has no container, hence no log
        logs, source = ([], "") if failed.container is None else _collect_logs(api, failed, log_lines)
        quote = first_error_line(logs)
        msg = (
            f"rollout of Deployment {namespace}/{failed.deployment} failed: "
            + (
                f"pod {failed.pod} container {failed.container} is {failed.reason}"
                + (
                    f" (exit code {failed.exit_code}, {failed.restart_count} restarts)"
                    if failed.exit_code is not None
                    else f" ({failed.restart_count} restarts)"
                )
                if failed.container is not None
                else failed.message.removeprefix(f'Deployment "{failed.deployment}" failed: ')
            )
            + (f'; log: "{quote}"' if quote else "")
            + f"; ready {failed.ready_ratio} after {elapsed:g} s"
        )
        result.update(
            failed=True,
            msg=msg,
            deployment=failed.deployment,
            pod=failed.pod,
            container=failed.container,
            reason=failed.reason,
            message=failed.message,
            exit_code=failed.exit_code,
            restart_count=failed.restart_count,
            logs=logs,
            log_source=source,
        )
        return result
    pending = [v for v in verdicts.values() if v.state != SUCCEEDED]
    if pending and not check_mode:
        worst = pending[0]
        result.update(
            failed=True,
            reason="Timeout",
            deployment=worst.deployment,
            message=worst.message,
            msg=(
                f"rollout of Deployment {namespace}/{worst.deployment} did not complete within {timeout} s: "
                f"{worst.message}. Look at 'kubectl -n {namespace} describe deployment {worst.deployment}', "
                "or raise timeout if the rollout is only slow."
            ),
        )
        return result
    result["msg"] = (
        "rollouts complete: " + ", ".join(f"{n} {d['ready']}" for n, d in report.items())
        if not pending
        else "check mode: " + "; ".join(v.message for v in pending)
    )
    return result


def _settled(verdicts: Mapping[str, RolloutVerdict]) -> bool:
    states = [v.state for v in verdicts.values()]
    return FAILED in states or all(s == SUCCEEDED for s in states)
