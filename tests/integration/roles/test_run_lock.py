"""The run lock (vextrus.deploy.run_lease, the Lease <service>-rollout) on the local cluster: taken,
refused to a second holder naming the first, released only by its holder; an expired lease taken
over; kept alive past its TTL by the renewer, which ends when the lease is released or the run's
process is gone; a week run while another run holds the lock fails at once and writes nothing.
Nothing is mocked."""

from __future__ import annotations

import json
import os
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from playbookrun import BIN, ansible_env
from rolekit import ROOT, PlaybookRunner, deployer_kubeconfig, fingerprints, profile

STEP = ROOT / "tests" / "integration" / "roles" / "run_lease_step.yml"
WEEK1 = ROOT / "playbooks" / "week1.yml"
LEASE = "finance-service-rollout"
RUN_A = "user ana on ctl pid 101, run 2026-12-03T10:00:00Z"
RUN_B = "awx job 77 (bo)"


def _micro(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def read_lease(api: client.ApiClient, namespace: str) -> client.V1Lease | None:
    try:
        return client.CoordinationV1Api(api).read_namespaced_lease(LEASE, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def put_lease(api: client.ApiClient, namespace: str, holder: str, renewed_ago: int, ttl: int) -> client.V1Lease:
    """A Lease as another run left it: renewed ``renewed_ago`` seconds ago, for ``ttl`` seconds."""
    now = datetime.now(timezone.utc)
    body = {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": LEASE, "namespace": namespace},
        "spec": {
            "holderIdentity": holder,
            "acquireTime": _micro(now - timedelta(seconds=renewed_ago + 60)),
            "renewTime": _micro(now - timedelta(seconds=renewed_ago)),
            "leaseDurationSeconds": ttl,
        },
    }
    return client.CoordinationV1Api(api).create_namespaced_lease(namespace, body)


def make_namespace(api: client.ApiClient, namespace: str) -> None:
    client.CoreV1Api(api).create_namespace({"metadata": {"name": namespace}})


class LeaseSteps:
    """Runs run_lease_step.yml (one module call) and returns (rc, result, output)."""

    def __init__(self, run_playbook: PlaybookRunner, namespace: str, tmp: Path) -> None:
        self.run_playbook, self.namespace, self.tmp, self.count = run_playbook, namespace, tmp, 0

    def values(self, holder: str, **options: Any) -> dict[str, Any]:
        self.count += 1
        result = self.tmp / f"lease-step-{self.count}.json"
        values = {"lease_namespace": self.namespace, "lease_holder": holder, "lease_result_file": str(result)}
        values.update({f"lease_{k}": v for k, v in options.items() if k != "kubeconfig"})
        if options.get("kubeconfig"):
            values["deploy_kubeconfig"] = str(options["kubeconfig"])
        return values

    def __call__(self, holder: str, *args: str, **options: Any) -> tuple[int, dict[str, Any], str]:
        values = self.values(holder, **options)
        run = self.run_playbook(values, *args, playbook=STEP)
        result = json.loads(Path(values["lease_result_file"]).read_text())
        return run.rc, result, run.output

    def start(self, holder: str, **options: Any) -> tuple[subprocess.Popen, Path]:
        """The renewer in the background, as rollout.yml's async task runs it."""
        values = self.values(holder, state="renewing", **options)
        env = ansible_env(K8S_AUTH_KUBECONFIG=os.environ.get("K8S_AUTH_KUBECONFIG", str(ROOT / ".local" / "kubeconfig")))
        cmd = [str(BIN / "ansible-playbook"), "-i", str(ROOT / "inventories" / "local"), str(STEP), "-e", json.dumps(values)]
        process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        return process, Path(values["lease_result_file"])


@pytest.fixture
def steps(run_playbook: PlaybookRunner, role_namespace: str, tmp_path: Path) -> LeaseSteps:
    return LeaseSteps(run_playbook, role_namespace, tmp_path)


def test_acquire_refuse_release(steps: LeaseSteps, k8s_client: client.ApiClient, role_namespace: str) -> None:
    # check mode on a missing namespace: says it would take the lock, creates nothing
    rc, result, output = steps(RUN_A, "--check", create_namespace=True)
    assert rc == 0 and result["changed"] and result["action"] == "acquire", output[-3000:]
    assert not client.CoreV1Api(k8s_client).list_namespace(field_selector=f"metadata.name={role_namespace}").items

    rc, result, output = steps(RUN_A, create_namespace=True, ttl=120)
    assert rc == 0 and result["changed"] and result["action"] == "acquire" and result["namespace_created"], output[-3000:]
    lease = read_lease(k8s_client, role_namespace)
    assert lease.spec.holder_identity == RUN_A and lease.spec.lease_duration_seconds == 120
    assert lease.spec.acquire_time and lease.spec.renew_time

    rc, result, output = steps(RUN_A, create_namespace=True, ttl=120)
    assert rc == 0 and not result["changed"] and result["action"] == "renew", output[-3000:]
    held = read_lease(k8s_client, role_namespace)
    assert held.spec.acquire_time == lease.spec.acquire_time

    # a second holder is refused at once, naming the holder and since when; nothing written
    for options in ((), ("--check",)):
        started = time.monotonic()
        rc, result, output = steps(RUN_B, *options)
        assert rc == 2 and result["failed"], output[-3000:]
        since = held.spec.acquire_time.strftime("%Y-%m-%dT%H:%M:%S")
        assert result["msg"].startswith(f"run lock held by {RUN_A} since {since}"), result["msg"]
        assert "Nothing was written" in result["msg"]
        assert time.monotonic() - started < 30
        assert read_lease(k8s_client, role_namespace).metadata.resource_version == held.metadata.resource_version

    # only the holder releases it, once
    rc, result, output = steps(RUN_B, state="absent")
    assert rc == 0 and not result["changed"] and result["action"] == "none", output[-3000:]
    assert read_lease(k8s_client, role_namespace) is not None
    rc, result, output = steps(RUN_A, "--check", "--diff", state="absent")
    assert rc == 0 and result["changed"] and read_lease(k8s_client, role_namespace) is not None, output[-3000:]
    rc, result, output = steps(RUN_A, state="absent")
    assert rc == 0 and result["changed"] and result["action"] == "release", output[-3000:]
    assert read_lease(k8s_client, role_namespace) is None
    rc, result, output = steps(RUN_A, state="absent")
    assert rc == 0 and not result["changed"], output[-3000:]

    # free again: the other run takes it
    rc, result, output = steps(RUN_B)
    assert rc == 0 and result["changed"] and not result["namespace_created"], output[-3000:]
    assert read_lease(k8s_client, role_namespace).spec.holder_identity == RUN_B


def test_an_expired_lease_is_taken_over(steps: LeaseSteps, k8s_client: client.ApiClient, role_namespace: str) -> None:
    make_namespace(k8s_client, role_namespace)
    left = put_lease(k8s_client, role_namespace, RUN_B, renewed_ago=600, ttl=60)
    rc, result, output = steps(RUN_A)
    assert rc == 0 and result["changed"] and result["action"] == "take_over", output[-3000:]
    assert result["previous_holder"] == RUN_B
    assert f"took over the run lock {role_namespace}/{LEASE} from {RUN_B} since" in " ".join(output.split())
    lease = read_lease(k8s_client, role_namespace)
    assert lease.spec.holder_identity == RUN_A and lease.spec.lease_transitions == 1
    assert lease.spec.acquire_time > left.spec.acquire_time
    rc, result, output = steps(RUN_A)
    assert rc == 0 and not result["changed"] and result["action"] == "renew", output[-3000:]


def test_the_renewer_keeps_the_lease_past_its_ttl_and_ends_when_released(
    steps: LeaseSteps, k8s_client: client.ApiClient, role_namespace: str
) -> None:
    rc, _, output = steps(RUN_A, create_namespace=True, ttl=4)
    assert rc == 0, output[-3000:]
    renewer, result_file = steps.start(RUN_A, ttl=4, interval=1, renew_for=120)
    try:
        time.sleep(12)  # three TTLs
        assert renewer.poll() is None, renewer.communicate()[0][-3000:]
        lease = read_lease(k8s_client, role_namespace)
        age = (datetime.now(timezone.utc) - lease.spec.renew_time).total_seconds()
        assert lease.spec.holder_identity == RUN_A and age < 4, f"last renewed {age:.1f} s ago"
        rc, result, _ = steps(RUN_B)
        assert rc == 2 and result["msg"].startswith(f"run lock held by {RUN_A}"), result
        rc, _, output = steps(RUN_A, state="absent")
        assert rc == 0, output[-3000:]
        output = renewer.communicate(timeout=30)[0]
    finally:
        if renewer.poll() is None:
            renewer.kill()
    assert renewer.returncode == 0, output[-3000:]
    result = json.loads(result_file.read_text())
    assert result["stopped"] == "lost" and result["renewals"] >= 5, result
    assert read_lease(k8s_client, role_namespace) is None, "the renewer wrote the released lease again"


def test_the_renewer_ends_with_its_run_and_the_lease_then_expires(
    steps: LeaseSteps, k8s_client: client.ApiClient, role_namespace: str
) -> None:
    rc, _, output = steps(RUN_A, create_namespace=True, ttl=4)
    assert rc == 0, output[-3000:]
    run = subprocess.Popen(["sleep", "300"])  # stands in for the run's ansible-playbook process
    renewer, result_file = steps.start(RUN_A, ttl=4, interval=1, renew_for=120, watch_pid=run.pid)
    try:
        time.sleep(6)
        assert renewer.poll() is None, renewer.communicate()[0][-3000:]
        run.kill()  # the run is killed: no release
        run.wait()
        output = renewer.communicate(timeout=30)[0]
    finally:
        for process in (run, renewer):
            if process.poll() is None:
                process.kill()
    assert renewer.returncode == 0, output[-3000:]
    result = json.loads(result_file.read_text())
    assert result["stopped"] == "gone", result
    time.sleep(5)  # past the TTL: nobody renews it any more
    rc, result, output = steps(RUN_B)
    assert rc == 0 and result["action"] == "take_over" and result["previous_holder"] == RUN_A, output[-3000:]


def test_a_week_while_another_run_holds_the_lock_fails_at_once_and_writes_nothing(
    run_playbook: PlaybookRunner,
    steps: LeaseSteps,
    k8s_client: client.ApiClient,
    role_namespace: str,
    cluster_ca: Path,
    tmp_path: Path,
) -> None:
    setup = run_playbook(profile(role_namespace, tmp_path, rollout_week=1))
    assert setup.rc == 0, setup.output[-4000:]

    # the deployer Role holds exactly the Lease rights the lock needs, and the module works with them
    review = client.AuthorizationV1Api(k8s_client)
    user = f"system:serviceaccount:{role_namespace}:vextrus-deployer"
    for attributes, allowed in (
        ({"verb": "create"}, True),
        ({"verb": "get", "name": LEASE}, True),
        ({"verb": "update", "name": LEASE}, True),
        ({"verb": "delete", "name": LEASE}, True),
        ({"verb": "get", "name": "another-lease"}, False),
        ({"verb": "update", "name": "another-lease"}, False),
        ({"verb": "list"}, False),
        ({"verb": "watch"}, False),
        ({"verb": "patch", "name": LEASE}, False),
    ):
        answer = review.create_subject_access_review(
            {
                "spec": {
                    "user": user,
                    "groups": ["system:serviceaccounts", f"system:serviceaccounts:{role_namespace}", "system:authenticated"],
                    "resourceAttributes": {"namespace": role_namespace, "group": "coordination.k8s.io",
                                           "resource": "leases", **attributes},
                }
            }
        )
        assert answer.status.allowed is allowed, f"{attributes}: allowed={answer.status.allowed}"
    deployer = deployer_kubeconfig(k8s_client, role_namespace, cluster_ca, tmp_path / "deployer.kubeconfig")
    for state, changed in (("present", True), ("present", False), ("absent", True), ("absent", False)):
        rc, result, output = steps(RUN_A, state=state, kubeconfig=deployer)
        assert rc == 0 and result["changed"] is changed, f"{state} as the deployer:\n{output[-3000:]}"

    other = put_lease(k8s_client, role_namespace, RUN_B, renewed_ago=5, ttl=300)
    core = client.CoreV1Api(k8s_client)
    before = fingerprints(k8s_client, role_namespace)
    config_maps = {c.metadata.name: c.metadata.resource_version for c in core.list_namespaced_config_map(role_namespace).items}
    reports = tmp_path / "reports"
    reports.mkdir()
    started = time.monotonic()
    week = run_playbook(profile(role_namespace, tmp_path, rollout_week=1, rollout_report_dir=str(reports)), playbook=WEEK1)
    seconds = time.monotonic() - started
    # ERROR (exit code 4): the environment, not the release, stopped the run
    assert week.rc == 4, week.output[-4000:]
    assert "Week 1 ERROR: " in week.last_lines() and "Cause: lock-held." in week.last_lines(), week.last_lines()
    assert f"run lock held by {RUN_B} since {other.spec.acquire_time.strftime('%Y-%m-%dT%H:%M:%S')}" in week.flat
    assert "Take the run's lease" in week.flat
    # refused at its first step: nothing of the chain after it ran
    for task in ("Namespace, service account, deployer rights and secrets", "Apply the run's resources",
                 "Gate the rollout on the new pods"):
        assert f"TASK [{task}]" not in week.output, task
    assert seconds < 120, f"the refused week took {seconds:.0f} s"
    assert fingerprints(k8s_client, role_namespace) == before
    after = {c.metadata.name: c.metadata.resource_version for c in core.list_namespaced_config_map(role_namespace).items}
    assert after == config_maps, "a refused run wrote a ConfigMap (the release record?)"
    assert "finance-service-release" not in after
    lease = read_lease(k8s_client, role_namespace)
    assert lease.metadata.resource_version == other.metadata.resource_version


def test_the_module_runs_in_the_worker_process_unless_switched_off(steps: LeaseSteps, k8s_client: client.ApiClient, role_namespace: str) -> None:
    # the local inventory's host is the controller with its own Python: the module runs in the worker
    rc, result, output = steps(RUN_A, "-vvv", create_namespace=True)
    assert rc == 0 and result["changed"] and result["action"] == "acquire", output[-3000:]
    assert "vextrus.deploy.run_lease runs in the worker process" in output
    assert "AnsiballZ_run_lease" not in output
    assert read_lease(k8s_client, role_namespace).spec.holder_identity == RUN_A

    # switched off, the same call runs as a module and decides the same
    rc, result, output = steps(RUN_B, "-vvvv", "-e", "vextrus_deploy_run_in_worker=false")
    assert rc == 2 and result["failed"] and result["msg"].startswith(f"run lock held by {RUN_A}"), output[-3000:]
    assert "runs as a module: vextrus_deploy_run_in_worker is false" in output
    assert "AnsiballZ_run_lease" in output
    rc, result, output = steps(RUN_A, "-e", "vextrus_deploy_run_in_worker=false", state="absent")
    assert rc == 0 and result["changed"] and result["action"] == "release", output[-3000:]
    assert read_lease(k8s_client, role_namespace) is None


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_the_lease_taken_with_a_background_renewer_outlives_its_ttl_until_the_run_ends(
    steps: LeaseSteps, k8s_client: client.ApiClient, role_namespace: str
) -> None:
    run = subprocess.Popen(["sleep", "300"])  # stands in for the run's ansible-playbook process
    try:
        started = time.monotonic()
        # the call returns at once: the renewer holds none of the playbook's output pipes
        rc, result, output = steps(RUN_A, create_namespace=True, ttl=4, renew_in_background=True, interval=1,
                                   renew_for=120, watch_pid=run.pid)
        assert rc == 0 and result["action"] == "acquire", output[-3000:]
        assert time.monotonic() - started < 60
        renewer = result["renewer_pid"]
        assert renewer > 0 and _running(renewer)
        assert os.getsid(renewer) != os.getsid(0), "the renewer runs in a session of its own"
        time.sleep(12)  # three TTLs
        lease = read_lease(k8s_client, role_namespace)
        age = (datetime.now(timezone.utc) - lease.spec.renew_time).total_seconds()
        assert lease.spec.holder_identity == RUN_A and age < 4, f"last renewed {age:.1f} s ago"
        rc, result, _ = steps(RUN_B)
        assert rc == 2 and result["msg"].startswith(f"run lock held by {RUN_A}"), result
        run.kill()  # the run is killed: no release
        run.wait()
        deadline = time.monotonic() + 30
        while _running(renewer) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not _running(renewer), "the renewer outlived its run"
    finally:
        if run.poll() is None:
            run.kill()
    time.sleep(5)  # past the TTL: nobody renews it any more
    rc, result, output = steps(RUN_B)
    assert rc == 0 and result["action"] == "take_over" and result["previous_holder"] == RUN_A, output[-3000:]

    # check mode starts no renewer
    rc, result, output = steps(RUN_B, "--check", renew_in_background=True)
    assert rc == 0 and result["renewer_pid"] == 0, output[-3000:]
