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
    split_pods,
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
    covered = {entry[0] for entry in FAILURES} | {entry[0] for entry in PROGRESS} | {"healthy", "canary_beside_stable", "scaled_to_zero"}
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
    ("waiting", "failed"),
    [
        ("CrashLoopBackOff", True),
        ("ImagePullBackOff", True),
        ("ErrImagePull", True),
        ("InvalidImageName", True),
        ("CreateContainerConfigError", True),
        ("CreateContainerError", True),
        ("RunContainerError", True),
        ("ContainerCreating", False),
        ("PodInitializing", False),
    ],
)
def test_waiting_reasons(waiting, failed):
    dep, replicasets, pods = load("slow_healthy")
    pods = copy.deepcopy(pods)
    new_rs = find_new_replicaset(dep, replicasets)
    target = next(p for p in pods if p["metadata"]["name"].startswith(new_rs["metadata"]["name"]))
    target["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": waiting}}
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
