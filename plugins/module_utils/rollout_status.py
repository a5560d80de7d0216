# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decide the state of a Deployment rollout from API objects (pure functions, no I/O).

Inputs are dicts exactly as the API returns them (``kubectl get -o json``). The verdict is
``failed`` as soon as a pod of the NEW ReplicaSet shows evidence that the release cannot work;
pods of older ReplicaSets (the version being replaced) never fail the rollout.

Time is an input, not something read here: how long each pod has been waiting for a node
(``unschedulable_for``) is measured by the caller, so the decision stays a pure function. So are the
Nodes of the new pods (``nodes``): the caller reads them when its credentials may.

A new pod that is not ready because its node is lost is not the release's fault: it is reported with
the reason ``NodeNotReady`` (the node stopped reporting) or ``NodeLost`` (the node is gone), which
the report classes as ERROR (node-lost), so the digest is not burnt. The evidence, from the pod alone
or from its Node when the caller read it:

- the Node object is gone (read as None), or its pod is being deleted by the pod garbage collector
  (condition DisruptionTarget, reason DeletionByPodGC): ``NodeLost``;
- the Node's Ready condition is not True (False, or Unknown when its kubelet stopped posting status),
  or its pod is being evicted by the node lifecycle controller (DisruptionTarget, reason
  DeletionByTaintManager): ``NodeNotReady``;
- the pod's Ready condition is False while ContainersReady is True and the pod has no readiness
  gates: only the node lifecycle controller sets that (its kubelet would have set both):
  ``NodeNotReady``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

PROGRESSING = "progressing"
SUCCEEDED = "succeeded"
FAILED = "failed"

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
POD_TEMPLATE_HASH = "pod-template-hash"
UNSCHEDULABLE = "Unschedulable"
NODE_NOT_READY = "NodeNotReady"
NODE_LOST = "NodeLost"
# DisruptionTarget reasons of a pod deleted because of its node (not because of the release)
NODE_DISRUPTIONS = {
    "DeletionByPodGC": (NODE_LOST, "is gone"),
    "DeletionByTaintManager": (NODE_NOT_READY, "is unreachable or not ready"),
}
FAILING_WAITING_REASONS = frozenset(
    {
        "CrashLoopBackOff",
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "CreateContainerConfigError",
        "CreateContainerError",
        "RunContainerError",
    }
)
# The kubelet's own waits behind a failing reason, which it retries by itself: its watch of the pod's
# Secrets and ConfigMaps has not synced yet (a busy node or a restarted API server). Not the release's
# fault, and gone within seconds; a Secret or key that is really missing says so instead.
KUBELET_RETRIED_MESSAGES = ("failed to sync secret cache", "failed to sync configmap cache")


@dataclass
class RolloutVerdict:
    deployment: str
    state: str
    reason: str
    message: str
    desired: int = 0
    updated: int = 0
    ready: int = 0
    available: int = 0
    old_pods: int = 0
    new_replicaset: str | None = None
    revision: str | None = None
    pod: str | None = None
    container: str | None = None
    exit_code: int | None = None
    restart_count: int | None = None

    @property
    def ready_ratio(self) -> str:
        return f"{self.ready}/{self.desired}"

    def as_dict(self) -> dict[str, Any]:
        result = asdict(self)
        result["ready_ratio"] = self.ready_ratio
        return result


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _owned_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    """True when ``obj`` has a controller ownerReference to ``owner`` (by uid, or by kind+name without uid)."""
    owner_meta = _meta(owner)
    for ref in _meta(obj).get("ownerReferences") or []:
        if owner_meta.get("uid") and ref.get("uid"):
            if ref["uid"] == owner_meta["uid"]:
                return True
        elif ref.get("kind") == owner.get("kind") and ref.get("name") == owner_meta.get("name"):
            return True
    return False


def _without_hash(template: Mapping[str, Any]) -> dict[str, Any]:
    metadata = dict(template.get("metadata") or {})
    labels = dict(metadata.get("labels") or {})
    labels.pop(POD_TEMPLATE_HASH, None)
    metadata["labels"] = labels
    metadata.pop("creationTimestamp", None)
    return {"metadata": metadata, "spec": template.get("spec") or {}}


def _revision(obj: Mapping[str, Any]) -> str | None:
    return (_meta(obj).get("annotations") or {}).get(REVISION_ANNOTATION)


def owned_replicasets(deployment: Mapping[str, Any], replicasets: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [rs for rs in replicasets if _owned_by(rs, deployment)]


def find_new_replicaset(
    deployment: Mapping[str, Any], replicasets: Iterable[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """Find the ReplicaSet of the Deployment's current pod template, as the deployment controller does.

    The new ReplicaSet is the owned one whose pod template equals the Deployment's template (ignoring
    the ``pod-template-hash`` label); the oldest wins when several match. When no template matches
    (defaulting differences), the one whose revision annotation equals the Deployment's is used.
    """
    owned = sorted(
        owned_replicasets(deployment, replicasets),
        key=lambda rs: (_meta(rs).get("creationTimestamp") or "", _meta(rs).get("name") or ""),
    )
    template = _without_hash((deployment.get("spec") or {}).get("template") or {})
    for rs in owned:
        if _without_hash((rs.get("spec") or {}).get("template") or {}) == template:
            return rs
    revision = _revision(deployment)
    if revision is not None:
        for rs in owned:
            if _revision(rs) == revision:
                return rs
    return None


def _pod_belongs_to(pod: Mapping[str, Any], rs: Mapping[str, Any]) -> bool:
    if _meta(pod).get("ownerReferences"):
        return _owned_by(pod, rs)
    rs_hash = (_meta(rs).get("labels") or {}).get(POD_TEMPLATE_HASH)
    return rs_hash is not None and (_meta(pod).get("labels") or {}).get(POD_TEMPLATE_HASH) == rs_hash


def split_pods(
    new_rs: Mapping[str, Any] | None,
    old_rs: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]],
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """Return (pods of the new ReplicaSet, pods of old ReplicaSets); other pods are ignored."""
    new_pods: list[Mapping[str, Any]] = []
    old_pods: list[Mapping[str, Any]] = []
    old_rs = list(old_rs)
    for pod in pods:
        if new_rs is not None and _pod_belongs_to(pod, new_rs):
            new_pods.append(pod)
        elif any(_pod_belongs_to(pod, rs) for rs in old_rs):
            old_pods.append(pod)
    return new_pods, old_pods


def _kubelet_retries(waiting: Mapping[str, Any]) -> bool:
    message = waiting.get("message") or ""
    return any(text in message for text in KUBELET_RETRIED_MESSAGES)


def _container_failure(status: Mapping[str, Any], max_restarts: int) -> tuple[str, str, int | None] | None:
    """Return (reason, detail, exit_code) when a container status proves the release broken."""
    state = status.get("state") or {}
    last = (status.get("lastState") or {}).get("terminated") or {}
    terminated = state.get("terminated") or {}
    waiting = state.get("waiting") or {}
    restarts = int(status.get("restartCount") or 0)
    exit_code = terminated.get("exitCode", last.get("exitCode"))
    if terminated.get("reason") == "OOMKilled" or last.get("reason") == "OOMKilled":
        return "OOMKilled", "was killed for exceeding its memory limit", exit_code
    if waiting.get("reason") in FAILING_WAITING_REASONS and not _kubelet_retries(waiting):
        detail = waiting.get("message") or waiting["reason"]
        return waiting["reason"], detail, exit_code
    if restarts > max_restarts:
        detail = f"restarted {restarts} times, more than the allowed {max_restarts}"
        if last.get("reason"):
            detail += f" (last exit: {last['reason']})"
        return "RestartLimitExceeded", detail, exit_code
    return None


def find_pod_failure(
    pods: Iterable[Mapping[str, Any]], max_restarts: int = 1
) -> tuple[Mapping[str, Any], str, str, str, int | None, int] | None:
    """Return (pod, container, reason, detail, exit_code, restart_count) of the first failing container."""
    for pod in sorted(pods, key=lambda p: _meta(p).get("name") or ""):
        status = pod.get("status") or {}
        for key in ("initContainerStatuses", "containerStatuses"):
            for cstatus in status.get(key) or []:
                failure = _container_failure(cstatus, max_restarts)
                if failure is not None:
                    reason, detail, exit_code = failure
                    return pod, cstatus.get("name", ""), reason, detail, exit_code, int(cstatus.get("restartCount") or 0)
    return None


def unschedulable_condition(pod: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The pod's PodScheduled condition when the scheduler could not place it (status False, reason Unschedulable).

    A pod already bound to a node or being deleted is never reported.
    """
    if _meta(pod).get("deletionTimestamp") or (pod.get("spec") or {}).get("nodeName"):
        return None
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if (
            condition.get("type") == "PodScheduled"
            and condition.get("status") == "False"
            and condition.get("reason") == UNSCHEDULABLE
        ):
            return condition
    return None


def find_unschedulable(
    pods: Iterable[Mapping[str, Any]], unschedulable_for: Mapping[str, float] | None = None
) -> tuple[Mapping[str, Any], Mapping[str, Any], float] | None:
    """Return (pod, PodScheduled condition, seconds pending) of the pod waiting longest for a node.

    ``unschedulable_for`` maps pod names to the seconds the caller has seen them Unschedulable; a pod
    missing from it has just been seen (0 s).
    """
    waiting = []
    for pod in pods:
        condition = unschedulable_condition(pod)
        if condition is not None:
            name = str(_meta(pod).get("name") or "")
            waiting.append((float((unschedulable_for or {}).get(name, 0.0)), name, pod, condition))
    if not waiting:
        return None
    longest = min(waiting, key=lambda entry: (-entry[0], entry[1]))
    return longest[2], longest[3], longest[0]


def _condition(obj: Mapping[str, Any], ctype: str) -> Mapping[str, Any] | None:
    for condition in (obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == ctype:
            return condition
    return None


def _is_true(obj: Mapping[str, Any], ctype: str) -> bool:
    return (_condition(obj, ctype) or {}).get("status") == "True"


def node_loss(pod: Mapping[str, Any], nodes: Mapping[str, Mapping[str, Any] | None] | None = None) -> tuple[str, str] | None:
    """(NodeLost or NodeNotReady, what shows it) when a pod that is not ready is so because of its node.

    ``nodes`` maps node names to the Node as read (None: it does not exist); a node missing from it
    was not read. A ready pod, or one not bound to a node, is never reported.
    """
    node_name = (pod.get("spec") or {}).get("nodeName")
    if not node_name or _is_true(pod, "Ready"):
        return None
    disruption = _condition(pod, "DisruptionTarget") or {}
    if disruption.get("status") == "True" and disruption.get("reason") in NODE_DISRUPTIONS:
        reason, phrase = NODE_DISRUPTIONS[disruption["reason"]]
        return reason, f"node {node_name} {phrase} ({(disruption.get('message') or disruption['reason']).rstrip('.')})"
    if nodes and node_name in nodes:
        node = nodes[node_name]
        if node is None:
            return NODE_LOST, f"node {node_name} no longer exists"
        ready = _condition(node, "Ready") or {}
        if ready.get("status") != "True":
            since = f" since {ready['lastTransitionTime']}" if ready.get("lastTransitionTime") else ""
            why = f": {ready['message'].rstrip('.')}" if ready.get("message") else ""
            return NODE_NOT_READY, f"node {node_name} reports Ready={ready.get('status') or 'nothing'}{since}{why}"
    ready = _condition(pod, "Ready") or {}
    if (
        ready.get("status") == "False"
        and _is_true(pod, "ContainersReady")
        and not (pod.get("spec") or {}).get("readinessGates")
    ):
        return NODE_NOT_READY, f"node {node_name} stopped reporting (the node lifecycle controller marked the pod not ready)"
    return None


def find_node_loss(
    pods: Iterable[Mapping[str, Any]], nodes: Mapping[str, Mapping[str, Any] | None] | None = None
) -> tuple[Mapping[str, Any], str, str] | None:
    """(pod, reason, detail) of the first pod (by name) not ready because of its node, else None."""
    for pod in sorted(pods, key=lambda p: _meta(p).get("name") or ""):
        loss = node_loss(pod, nodes)
        if loss is not None:
            return pod, loss[0], loss[1]
    return None


def nodes_to_check(pods: Iterable[Mapping[str, Any]]) -> list[str]:
    """The nodes of the bound pods that are not ready (the Nodes worth reading for node_loss)."""
    return sorted({
        str(pod["spec"]["nodeName"]) for pod in pods
        if (pod.get("spec") or {}).get("nodeName") and not _is_true(pod, "Ready")
    })


def _partition(
    pods: Iterable[Mapping[str, Any]], test: Callable[[Mapping[str, Any]], bool]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """(the pods ``test`` holds for, the others), each in the given order."""
    held: list[Mapping[str, Any]] = []
    others: list[Mapping[str, Any]] = []
    for pod in pods:
        (held if test(pod) else others).append(pod)
    return held, others


def _pod_failed(verdict: RolloutVerdict, pod: Mapping[str, Any], reason: str, what: str) -> RolloutVerdict:
    """The verdict failed by a pod of the new ReplicaSet with no failing container: ``what`` it is."""
    verdict.state = FAILED
    verdict.reason = reason
    verdict.pod = _meta(pod).get("name")
    verdict.message = f'Deployment "{verdict.deployment}" failed: pod {verdict.pod} (ReplicaSet {verdict.new_replicaset}) {what}'
    return verdict


def evaluate_rollout(
    deployment: Mapping[str, Any],
    replicasets: Iterable[Mapping[str, Any]],
    pods: Iterable[Mapping[str, Any]],
    max_restarts: int = 1,
    unschedulable_grace: float | None = None,
    unschedulable_for: Mapping[str, float] | None = None,
    nodes: Mapping[str, Mapping[str, Any] | None] | None = None,
    node_lost_grace: float | None = None,
    node_lost_for: Mapping[str, float] | None = None,
) -> RolloutVerdict:
    """Decide whether the rollout of ``deployment`` is progressing, succeeded or failed.

    A new pod not ready because its node is lost (``node_loss``; ``nodes`` are the Nodes the caller
    read) fails the rollout with the reason NodeNotReady or NodeLost, after a failing container's
    evidence and before an Unschedulable pod's, once that evidence has lasted ``node_lost_grace``
    seconds (``node_lost_for`` maps pod names to the seconds the caller has seen it; None: at once).
    A control plane back from an outage marks every node not ready for a few seconds, hence the
    grace. An old pod being deleted on a node lost as long is not waited for: it goes away only once
    the Node object is deleted.

    A pod of the new ReplicaSet that the scheduler cannot place fails the rollout once it has been
    Unschedulable for ``unschedulable_grace`` seconds or more (``unschedulable_for`` maps pod names to
    those seconds; 0 s when missing). ``unschedulable_grace=None`` never fails on it.
    """
    meta = _meta(deployment)
    name = str(meta.get("name"))
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    desired = int(spec.get("replicas", 1))
    verdict = RolloutVerdict(
        deployment=name,
        state=PROGRESSING,
        reason="",
        message="",
        desired=desired,
        updated=int(status.get("updatedReplicas") or 0),
        ready=int(status.get("readyReplicas") or 0),
        available=int(status.get("availableReplicas") or 0),
        revision=_revision(deployment),
    )
    generation = int(meta.get("generation") or 0)
    observed = int(status.get("observedGeneration") or 0)
    if observed < generation:
        verdict.reason = "GenerationNotObserved"
        verdict.message = (
            f'Waiting for deployment "{name}" spec update to be observed '
            f"(generation {generation}, observed {observed})"
        )
        return verdict

    replicasets = list(replicasets)
    owned = owned_replicasets(deployment, replicasets)
    new_rs = find_new_replicaset(deployment, owned)
    old_rs = [rs for rs in owned if rs is not new_rs]
    new_pods, old_pods = split_pods(new_rs, old_rs, pods)
    verdict.new_replicaset = _meta(new_rs).get("name") if new_rs is not None else None
    verdict.old_pods = len(old_pods)

    failure = find_pod_failure(new_pods, max_restarts)
    if failure is not None:
        pod, container, reason, detail, exit_code, restarts = failure
        pod_name = _meta(pod).get("name")
        verdict.state = FAILED
        verdict.reason = reason
        verdict.pod = pod_name
        verdict.container = container
        verdict.exit_code = exit_code
        verdict.restart_count = restarts
        code = f", exit code {exit_code}" if exit_code is not None else ""
        verdict.message = (
            f'Deployment "{name}" failed: pod {pod_name} (ReplicaSet {verdict.new_replicaset}) '
            f"container {container} is {reason}{code}, {restarts} restarts: {detail}"
        )
        return verdict

    def lasted(pod: Mapping[str, Any]) -> bool:
        return node_lost_grace is None or (node_lost_for or {}).get(str(_meta(pod).get("name")), 0.0) >= node_lost_grace

    lost = find_node_loss([pod for pod in new_pods if lasted(pod)], nodes)
    if lost is not None:
        pod, reason, detail = lost
        return _pod_failed(verdict, pod, reason, (
            f"is not ready because its {detail}; not the release's fault: run the week again once the node is "
            "back or replaced"
        ))

    unschedulable = find_unschedulable(new_pods, unschedulable_for)
    if unschedulable is not None and unschedulable_grace is not None and unschedulable[2] >= unschedulable_grace:
        pod, condition, pending = unschedulable
        return _pod_failed(verdict, pod, UNSCHEDULABLE, (
            f"is Unschedulable for {pending:.0f} s (grace {unschedulable_grace:g} s): "
            f"{condition.get('message') or 'no message from the scheduler'}"
        ))

    progressing = _condition(deployment, "Progressing")
    if progressing and progressing.get("reason") == "ProgressDeadlineExceeded":
        verdict.state = FAILED
        verdict.reason = "ProgressDeadlineExceeded"
        verdict.message = (
            f'Deployment "{name}" exceeded its progress deadline: {progressing.get("message") or ""}'.rstrip(": ")
            + f" ({verdict.ready_ratio} ready, {verdict.updated} updated)"
        )
        return verdict

    # A pod being deleted on a lost node never goes away by itself (no kubelet confirms it; the pod
    # garbage collector removes it once the Node object is gone): not waited for.
    stranded, old_pods = _partition(
        old_pods, lambda pod: bool(_meta(pod).get("deletionTimestamp")) and lasted(pod) and node_loss(pod, nodes) is not None
    )
    total = int(status.get("replicas") or 0)
    if verdict.updated < desired:
        verdict.reason = "UpdatingReplicas"
        verdict.message = (
            f'Waiting for deployment "{name}" rollout to finish: {verdict.updated} out of {desired} '
            "new replicas have been updated"
        )
    elif total > verdict.updated or old_pods:
        remaining = max(total - verdict.updated, len(old_pods))
        verdict.reason = "OldReplicasPending"
        verdict.message = (
            f'Waiting for deployment "{name}" rollout to finish: {remaining} old replicas are pending termination'
        )
    elif verdict.ready < desired or verdict.available < desired:
        verdict.reason = "WaitingForAvailable"
        verdict.message = (
            f'Waiting for deployment "{name}" rollout to finish: {verdict.available} of {desired} updated '
            f"replicas are available ({verdict.ready} ready)"
        )
    else:
        verdict.state = SUCCEEDED
        verdict.reason = "RolloutComplete"
        verdict.message = f'deployment "{name}" successfully rolled out ({verdict.ready_ratio} ready)'
    if stranded:
        lost_nodes = sorted({str((pod.get("spec") or {}).get("nodeName")) for pod in stranded})
        verdict.message += (
            f"; {len(stranded)} old pod(s) being deleted on lost node(s) {', '.join(lost_nodes)} not waited for"
        )
    if unschedulable is not None and verdict.state == PROGRESSING:
        pod, condition, pending = unschedulable
        grace = f", fails after {unschedulable_grace:g} s" if unschedulable_grace is not None else ""
        verdict.message += (
            f"; pod {_meta(pod).get('name')} is Unschedulable for {pending:.0f} s{grace}: "
            f"{(condition.get('message') or 'no message from the scheduler').rstrip('.')}"
        )
    return verdict
