import copy
import json
from pathlib import Path

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_status import (
    FAILED,
    PROGRESSING,
    SUCCEEDED,
    evaluate_rollout,
    find_new_replicaset,
    find_pod_failure,
    find_unschedulable,
    split_pods,
    unschedulable_condition,
)

FIXTURES = Path(__file__).parent / "fixtures" / "rollout"


def load(case: str, deployment: str = "finance-service") -> tuple[dict, list[dict], list[dict]]:
    """Read a `kubectl get deploy,rs,pods -o json` List and return (deployment, replicasets, pods)."""
    items = json.loads((FIXTURES / f"{case}.json").read_text())["items"]
    dep = next(i for i in items if i["kind"] == "Deployment" and i["metadata"]["name"] == deployment)
    return dep, [i for i in items if i["kind"] == "ReplicaSet"], [i for i in items if i["kind"] == "Pod"]


def verdict_of(case: str, deployment: str = "finance-service", max_restarts: int = 1):
    return evaluate_rollout(*load(case, deployment), max_restarts=max_restarts)


def test_every_fixture_is_covered():
    covered = {entry[0] for entry in FAILURES} | {entry[0] for entry in PROGRESS} | {
        "healthy", "canary_beside_stable", "scaled_to_zero", "unschedulable"}
    assert covered == {p.stem for p in FIXTURES.glob("*.json")}


def test_healthy():
    verdict = verdict_of("healthy")
    assert verdict.state == SUCCEEDED
    assert verdict.reason == "RolloutComplete"
    assert (verdict.desired, verdict.updated, verdict.ready, verdict.available, verdict.old_pods) == (2, 2, 2, 2, 0)
    assert verdict.ready_ratio == "2/2"
    assert verdict.message == 'deployment "finance-service" successfully rolled out (2/2 ready)'
    assert verdict.revision == "5"
    assert verdict.new_replicaset.startswith("finance-service-")
    assert verdict.pod is None and verdict.exit_code is None
    result = verdict.as_dict()
    assert result["ready_ratio"] == "2/2" and result["state"] == "succeeded"


FAILURES = [
    # case, reason, container, exit_code, restart_count, words in the message
    ("crashloop", "CrashLoopBackOff", "finance", 1, 3, "back-off 40s restarting failed container=finance"),
    ("image_pull_backoff", "ImagePullBackOff", "finance", None, 0, "Back-off pulling image"),
    ("err_image_pull", "ErrImagePull", "finance", None, 0, "failed to pull and unpack image"),
    ("invalid_image_name", "InvalidImageName", "finance", None, 0, "couldn't parse image name"),
    ("create_container_config_error", "CreateContainerConfigError", "finance", None, 0, 'secret "finance-service-secrets" not found'),
    ("create_container_error", "CreateContainerError", "finance", None, 0, "failed to create containerd container"),
    ("run_container_error", "RunContainerError", "finance", 128, 1, "executable file not found"),
    ("oom_killed", "OOMKilled", "finance", 137, 1, "exceeding its memory limit"),
    ("restart_limit", "RestartLimitExceeded", "finance", 1, 2, "restarted 2 times, more than the allowed 1 (last exit: Error)"),
    ("init_crashloop", "CrashLoopBackOff", "migrate", 1, 2, "restarting failed container=migrate"),
]


@pytest.mark.parametrize(("case", "reason", "container", "exit_code", "restarts", "words"), FAILURES)
def test_failures_of_the_new_replicaset(case, reason, container, exit_code, restarts, words):
    dep, replicasets, pods = load(case)
    verdict = evaluate_rollout(dep, replicasets, pods)
    new_rs = find_new_replicaset(dep, replicasets)
    assert verdict.state == FAILED
    assert verdict.reason == reason
    assert verdict.container == container
    assert verdict.exit_code == exit_code
    assert verdict.restart_count == restarts
    assert verdict.pod.startswith(new_rs["metadata"]["name"] + "-")
    assert verdict.new_replicaset == new_rs["metadata"]["name"]
    assert words in verdict.message
    assert verdict.message.startswith(f'Deployment "finance-service" failed: pod {verdict.pod} ')
    assert f"container {container} is {reason}" in verdict.message


PROGRESS = [
    ("slow_healthy", "OldReplicasPending", "2 old replicas are pending termination"),
    ("old_rs_crash", "OldReplicasPending", "1 old replicas are pending termination"),
    ("old_pod_terminating", "OldReplicasPending", "1 old replicas are pending termination"),
    ("generation_not_observed", "GenerationNotObserved", "(generation 5, observed 4)"),
    ("deadline_exceeded", "ProgressDeadlineExceeded", "has timed out progressing"),
]


@pytest.mark.parametrize(("case", "reason", "words"), PROGRESS)
def test_progress_and_deadline(case, reason, words):
    verdict = verdict_of(case)
    assert verdict.reason == reason
    assert words in verdict.message
    assert verdict.state == (FAILED if reason == "ProgressDeadlineExceeded" else PROGRESSING)
    assert verdict.pod is None


def test_old_replicaset_crash_never_fails_the_gate():
    dep, replicasets, pods = load("old_rs_crash")
    assert find_pod_failure(pods) is not None  # the evidence is there ...
    verdict = evaluate_rollout(dep, replicasets, pods, max_restarts=0)
    assert verdict.state == PROGRESSING  # ... but it belongs to the version being replaced
    assert verdict.old_pods == 1


def test_old_replicaset_gone_after_crash_completes():
    dep, replicasets, pods = load("old_rs_crash")
    new_rs = find_new_replicaset(dep, replicasets)
    new_pods, old_pods = split_pods(new_rs, [rs for rs in replicasets if rs is not new_rs], pods)
    dep = copy.deepcopy(dep)
    dep["status"].update(replicas=2, readyReplicas=2, availableReplicas=2, updatedReplicas=2)
    assert evaluate_rollout(dep, replicasets, new_pods).state == SUCCEEDED
    assert evaluate_rollout(dep, replicasets, new_pods + old_pods).reason == "OldReplicasPending"


def test_deadline_details():
    verdict = verdict_of("deadline_exceeded")
    assert verdict.message.endswith("(2/2 ready, 1 updated)")
    assert verdict.old_pods == 2


def test_pod_failure_beats_the_deadline():
    dep, replicasets, pods = load("crashloop")
    deadline = load("deadline_exceeded")[0]
    dep = copy.deepcopy(dep)
    dep["status"]["conditions"] = deadline["status"]["conditions"]
    verdict = evaluate_rollout(dep, replicasets, pods)
    assert verdict.reason == "CrashLoopBackOff"


def test_generation_not_observed_ignores_crashing_current_pods():
    dep, replicasets, pods = load("generation_not_observed")
    assert find_pod_failure(pods) is not None
    verdict = evaluate_rollout(dep, replicasets, pods)
    assert verdict.state == PROGRESSING
    assert verdict.new_replicaset is None
    dep = copy.deepcopy(dep)
    # once observed, the controller bumps the revision; until the new ReplicaSet exists nothing is judged
    dep["status"]["observedGeneration"] = 5
    dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "5"
    verdict = evaluate_rollout(dep, replicasets, pods)
    assert verdict.new_replicaset is None
    assert (verdict.state, verdict.reason) == (PROGRESSING, "OldReplicasPending")


@pytest.mark.parametrize(("max_restarts", "state"), [(0, FAILED), (1, FAILED), (2, SUCCEEDED), (5, SUCCEEDED)])
def test_restart_threshold(max_restarts, state):
    verdict = verdict_of("restart_limit", max_restarts=max_restarts)
    assert verdict.state == state
    assert verdict.reason == ("RestartLimitExceeded" if state == FAILED else "RolloutComplete")


def test_oom_is_reported_before_restarts():
    verdict = verdict_of("oom_killed", max_restarts=0)
    assert verdict.reason == "OOMKilled"


@pytest.mark.parametrize(
    ("deployment", "state", "ready"),
    [("finance-service", SUCCEEDED, "1/1"), ("finance-service-canary", SUCCEEDED, "1/1")],
)
def test_canary_beside_stable(deployment, state, ready):
    verdict = verdict_of("canary_beside_stable", deployment)
    assert verdict.state == state
    assert verdict.ready_ratio == ready
    assert verdict.old_pods == 0


def test_canary_crash_is_not_blamed_on_stable():
    dep, replicasets, pods = load("canary_beside_stable", "finance-service")
    crashing = copy.deepcopy(pods)
    canary_pod = next(p for p in crashing if p["metadata"]["labels"]["track"] == "canary")
    canary_pod["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
    canary_pod["status"]["containerStatuses"][0]["restartCount"] = 4
    assert evaluate_rollout(dep, replicasets, crashing).state == SUCCEEDED
    canary_dep = load("canary_beside_stable", "finance-service-canary")[0]
    verdict = evaluate_rollout(canary_dep, replicasets, crashing)
    assert verdict.state == FAILED and verdict.pod == canary_pod["metadata"]["name"]


def test_scaled_to_zero():
    verdict = verdict_of("scaled_to_zero", "finance-service-canary")
    assert verdict.state == SUCCEEDED
    assert verdict.ready_ratio == "0/0"


def test_new_replicaset_by_template_and_revision():
    dep, replicasets = load("slow_healthy")[:2]
    new_rs = find_new_replicaset(dep, replicasets)
    assert new_rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "5"
    # defaulting differences: template no longer equal, the revision annotation decides
    dep = copy.deepcopy(dep)
    dep["spec"]["template"]["spec"]["dnsPolicy"] = "Default"
    assert find_new_replicaset(dep, replicasets)["metadata"]["name"] == new_rs["metadata"]["name"]
    dep["metadata"]["annotations"]["deployment.kubernetes.io/revision"] = "9"
    assert find_new_replicaset(dep, replicasets) is None


def test_replicasets_of_other_deployments_are_ignored():
    dep, replicasets = load("healthy")[:2]
    foreign = copy.deepcopy(replicasets)
    for rs in foreign:
        rs["metadata"]["ownerReferences"][0]["uid"] = "00000000-0000-0000-0000-000000000000"
    assert find_new_replicaset(dep, foreign) is None


def test_pods_without_owner_references_use_the_template_hash():
    dep, replicasets, pods = load("crashloop")
    bare = copy.deepcopy(pods)
    for pod in bare:
        del pod["metadata"]["ownerReferences"]
    assert evaluate_rollout(dep, replicasets, bare).reason == "CrashLoopBackOff"


@pytest.mark.parametrize(
    ("waiting", "message", "failed"),
    [
        ("CrashLoopBackOff", "", True),
        ("ImagePullBackOff", "", True),
        ("ErrImagePull", "", True),
        ("InvalidImageName", "", True),
        ("CreateContainerConfigError", "", True),
        ("CreateContainerConfigError", "couldn't find key PAYMENT_GATEWAY_KEY in Secret ns/finance-service-secrets", True),
        ("CreateContainerConfigError", 'secret "finance-service-secrets" not found', True),
        # the kubelet's caches of Secrets and ConfigMaps not synced yet: it retries, the gate waits
        ("CreateContainerConfigError", "failed to sync secret cache: timed out waiting for the condition", False),
        ("CreateContainerConfigError", "failed to sync configmap cache: timed out waiting for the condition", False),
        ("CreateContainerError", "", True),
        ("RunContainerError", "", True),
        ("ContainerCreating", "", False),
        ("PodInitializing", "", False),
    ],
)
def test_waiting_reasons(waiting, message, failed):
    dep, replicasets, pods = load("slow_healthy")
    pods = copy.deepcopy(pods)
    new_rs = find_new_replicaset(dep, replicasets)
    target = next(p for p in pods if p["metadata"]["name"].startswith(new_rs["metadata"]["name"]))
    target["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": waiting, "message": message}}
    verdict = evaluate_rollout(dep, replicasets, pods)
    assert (verdict.state == FAILED) is failed
    if failed:
        assert verdict.reason == waiting and verdict.pod == target["metadata"]["name"]


def test_terminated_oom_in_current_state():
    dep, replicasets, pods = load("healthy")
    pods = copy.deepcopy(pods)
    pods[0]["status"]["containerStatuses"][0]["state"] = {"terminated": {"reason": "OOMKilled", "exitCode": 137}}
    verdict = evaluate_rollout(dep, replicasets, pods)
    assert (verdict.reason, verdict.exit_code) == ("OOMKilled", 137)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("updatedReplicas", 1, "UpdatingReplicas"),
        ("readyReplicas", 1, "WaitingForAvailable"),
        ("availableReplicas", 1, "WaitingForAvailable"),
        ("replicas", 3, "OldReplicasPending"),
    ],
)
def test_counts_gate_success(field, value, reason):
    dep, replicasets, pods = load("healthy")
    dep = copy.deepcopy(dep)
    dep["status"][field] = value
    verdict = evaluate_rollout(dep, replicasets, pods)
    assert (verdict.state, verdict.reason) == (PROGRESSING, reason)


# unschedulable.json: a real rollout (2 replicas, maxSurge 1) whose new pod template selects
# vextrus.io/node=nowhere: both old pods run, the one new pod is Pending with PodScheduled False/Unschedulable.
SCHEDULER_MESSAGE = "0/4 nodes are available: 1 node(s) had untolerated taint(s), 3 node(s) didn't match Pod's node affinity/selector."


def _unschedulable() -> tuple[dict, list[dict], list[dict], dict, list[dict]]:
    dep, replicasets, pods = load("unschedulable")
    new_rs = find_new_replicaset(dep, replicasets)
    new_pods, old_pods = split_pods(new_rs, [rs for rs in replicasets if rs is not new_rs], pods)
    assert len(new_pods) == 1 and len(old_pods) == 2
    return dep, replicasets, pods, new_pods[0], old_pods


@pytest.mark.parametrize(
    ("grace", "pending_for", "state"),
    [
        (60, None, PROGRESSING),  # just seen: well within the grace
        (60, 10.0, PROGRESSING),
        (60, 59.9, PROGRESSING),
        (60, 60.0, FAILED),  # the grace is over at exactly grace seconds
        (60, 61.5, FAILED),
        (0, None, FAILED),  # grace 0: fail as soon as the pod is seen
        (0, 0.0, FAILED),
        (5, 4.0, PROGRESSING),
        (5, 5.2, FAILED),
        (None, 10_000.0, PROGRESSING),  # no grace given: never judged
    ],
)
def test_unschedulable_new_pod_within_and_past_the_grace(grace, pending_for, state):
    dep, replicasets, pods, new_pod = _unschedulable()[:4]
    name = new_pod["metadata"]["name"]
    verdict = evaluate_rollout(
        dep, replicasets, pods, unschedulable_grace=grace, unschedulable_for=None if pending_for is None else {name: pending_for}
    )
    assert verdict.state == state
    assert SCHEDULER_MESSAGE in verdict.message
    assert f"pod {name} " in verdict.message
    if state == FAILED:
        assert verdict.reason == "Unschedulable"
        assert verdict.pod == name
        assert verdict.container is None and verdict.exit_code is None
        assert verdict.message.startswith(
            f'Deployment "finance-service" failed: pod {name} (ReplicaSet {verdict.new_replicaset}) is Unschedulable for '
        )
        assert f"(grace {grace} s): {SCHEDULER_MESSAGE}" in verdict.message
    else:
        # still waiting: the usual progress reason, with the pending pod named in the message
        assert verdict.reason == "UpdatingReplicas"
        assert verdict.pod is None
        assert verdict.message.startswith('Waiting for deployment "finance-service" rollout to finish: 1 out of 2 new')
        assert (f", fails after {grace} s: " in verdict.message) is (grace is not None)


def test_unschedulable_pod_of_the_old_replicaset_is_ignored():
    """Swap the roles: the new pod runs, an old pod waits for a node - the version being replaced never fails."""
    dep, replicasets, pods, new_pod, old_pods = _unschedulable()
    pods = copy.deepcopy(pods)
    by_name = {p["metadata"]["name"]: p for p in pods}
    running, pending = old_pods[0], new_pod
    new = by_name[pending["metadata"]["name"]]
    old = by_name[running["metadata"]["name"]]
    new["spec"]["nodeName"], new["status"] = running["spec"]["nodeName"], copy.deepcopy(running["status"])
    del old["spec"]["nodeName"]
    old["status"] = copy.deepcopy(pending["status"])
    assert find_unschedulable(pods) is not None  # the evidence is there ...
    verdict = evaluate_rollout(dep, replicasets, pods, unschedulable_grace=0, unschedulable_for={old["metadata"]["name"]: 3600.0})
    assert verdict.state == PROGRESSING  # ... but belongs to the version being replaced
    assert "Unschedulable" not in verdict.message


@pytest.mark.parametrize(
    ("change", "unschedulable"),
    [
        (lambda pod: None, True),
        (lambda pod: pod["spec"].update(nodeName="kwok-node-0"), False),  # bound since: no longer waiting
        (lambda pod: pod["metadata"].update(deletionTimestamp="2026-11-26T11:32:00Z"), False),
        (lambda pod: pod["status"]["conditions"][0].update(reason="SchedulingGated"), False),
        (lambda pod: pod["status"]["conditions"][0].update(status="True", reason=None), False),
        (lambda pod: pod["status"].pop("conditions"), False),
    ],
)
def test_unschedulable_condition(change, unschedulable):
    pod = copy.deepcopy(_unschedulable()[3])
    change(pod)
    condition = unschedulable_condition(pod)
    assert (condition is not None) is unschedulable
    if unschedulable:
        assert condition["message"].startswith(SCHEDULER_MESSAGE)
        assert condition["lastTransitionTime"] == "2026-11-26T11:31:49Z"


def test_the_pod_pending_longest_is_reported():
    pod = _unschedulable()[3]
    first, second = copy.deepcopy(pod), copy.deepcopy(pod)
    first["metadata"]["name"], second["metadata"]["name"] = "a-pending", "b-pending"
    assert find_unschedulable([first, second], {"a-pending": 3.0, "b-pending": 7.0})[0] is second
    assert find_unschedulable([first, second], {"b-pending": 7.0})[2] == 7.0
    assert find_unschedulable([second, first])[0] is first  # equal ages: by name
    assert find_unschedulable([]) is None


def test_a_crashing_new_pod_beats_an_unschedulable_one():
    dep, replicasets, pods, new_pod = _unschedulable()[:4]
    pods = copy.deepcopy(pods)
    crashing = copy.deepcopy(new_pod)
    crashing["metadata"]["name"] += "x"
    crashing["spec"]["nodeName"] = "kwok-node-1"
    crashing["status"]["containerStatuses"] = [
        {"name": "finance", "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
    ]
    verdict = evaluate_rollout(dep, replicasets, [*pods, crashing], unschedulable_grace=0)
    assert (verdict.reason, verdict.pod) == ("CrashLoopBackOff", crashing["metadata"]["name"])


def test_unschedulable_beats_the_progress_deadline():
    dep, replicasets, pods, new_pod = _unschedulable()[:4]
    dep = copy.deepcopy(dep)
    dep["status"]["conditions"] = load("deadline_exceeded")[0]["status"]["conditions"]
    verdict = evaluate_rollout(dep, replicasets, pods, unschedulable_grace=30, unschedulable_for={new_pod["metadata"]["name"]: 31})
    assert verdict.reason == "Unschedulable"
    assert evaluate_rollout(dep, replicasets, pods, unschedulable_grace=30).reason == "ProgressDeadlineExceeded"
