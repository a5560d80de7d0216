"""The staging release workflow of awx/controller/workflows.yml walked the way the controller runs
it: one AWX-style job per node (ansible-runner with process isolation in the execution environment
built here, a private data directory with the project, the local inventory with its secrets
vault-encrypted, the credentials' files and the workflow's survey answers as extra vars, as
test_ee_image.py runs week 1), the approvals taken as given, the edge followed by the job's status
(workflowkit.walk). Nothing is mocked: the jobs deploy the example service to the real node.

- The release: week 1 -> approve week 2 -> week 2 -> approve week 3 -> week 3 -> approve week 4 ->
  week 4, every job successful and its report PASS; weeks 2-4 deploy the digest week 1 started
  (the survey's image reaches every job; the release record lets a week deploy only the digest
  that passed the week before), and week 4 promotes it.
- A failed week: after week 1 passed, a configuration change reaches the inventory (the pods now
  read a key of the service's Secret nobody provided). Week 2 fails for real (the kubelet's
  CreateContainerConfigError; ERROR, its rollback puts week 1 back), the walk follows the failure
  edge to the abort job, which removes the canary and records the release ABORTED. With the
  change reverted, "release from week 2" (the same nodes from week 2 on: the controller relaunches
  a workflow only from its start) goes on with the record's candidate, forced past the guard that
  refuses an aborted release, passes week 2 and waits at the next approval.

The two walks run at once, each in a namespace of its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from awxjob import RUNNER, Secrets, job_private_data_dir, job_tail, runner_job, vault_inventory
from chain.chainkit import CANARY, REAL_NODE, SECRET, STABLE, container_image, deployments_in, read_deployment, read_or_none
from clusterkit import delete_namespace, unique_name
from packkit import RunnerJob
from playbookrun import read_report, week_vars
from workflowkit import APPROVED, WAITING, Step, controller_objects, survey_extra_vars, walk

ENV = "staging"
RELEASE = f"vextrus {ENV} release"
RESUME_WEEK_2 = f"vextrus {ENV} release from week 2"
RECORD = "finance-service-release"
JOB_IDS = iter(range(5000, 6000))
MISSING_KEY = "PAYMENT_GATEWAY_KEY"
# The configuration change that fails week 2: an env entry reading a key the service's Secret does not hold.
BROKEN_CONFIG = {
    "resource_apply_env": [{"name": MISSING_KEY, "valueFrom": {"secretKeyRef": {"name": SECRET, "key": MISSING_KEY}}}],
}
RELEASE_PATH = ["week 1", "approve week 2", "week 2", "approve week 3", "week 3", "approve week 4", "week 4"]


@dataclass(frozen=True)
class AwxJob:
    """One job of the workflow: the runner's job and the week's report."""

    template: str
    job: RunnerJob
    report: dict[str, Any] | None

    @property
    def status(self) -> str:
        return self.job.status

    def tail(self) -> str:
        return f"{self.template}: {self.status}, report {self.report}\n{job_tail(self.job)}"


@dataclass
class JobRunner:
    """Runs a node's job template as the controller would, in one namespace: its playbook in the
    execution environment with the workflow job's extra vars (the survey's answers) and the
    inventory as it is at that moment (inventory_change: group_vars added to it)."""

    image: str
    secrets: Secrets
    base: Path
    namespace: str
    extra_vars: dict[str, str] = field(default_factory=dict)
    inventory_change: dict[str, Any] = field(default_factory=dict)
    count: int = 0

    def __call__(self, identifier: str, template: Mapping[str, Any]) -> AwxJob:
        self.count += 1
        job_id = next(JOB_IDS)
        # the runner's ident names the job's container: unique, as AWX's job ids are
        ident = f"{job_id}-{identifier.replace(' ', '-')}"
        work = self.base / f"{self.count:02d}-{ident}"
        work.mkdir(parents=True)
        inventory = vault_inventory(work, self.secrets)
        if self.inventory_change:
            change = inventory / "group_vars" / "all" / "zz-change.yml"
            change.write_text(yaml.safe_dump(self.inventory_change), encoding="utf-8")
        extravars = week_vars(self.namespace, RUNNER / "artifacts" / ident / "reports", RUNNER / "unused", {
            **REAL_NODE, **self.extra_vars, "awx_job_id": job_id, "awx_user_name": "workflow-test"})
        for key in ("deploy_local_vault_file", "deploy_local_vault_password_file"):
            del extravars[key]
        pdd = job_private_data_dir(work / "pdd", inventory, extravars, self.secrets)
        job = runner_job(pdd, self.image, str(template["playbook"]), ident)
        report, _ = read_report(job.artifacts / "reports")
        return AwxJob(str(template["name"]), job, report)


@dataclass(frozen=True)
class Cluster:
    """What a namespace holds at one moment: the Deployments, stable's image, the release record."""

    deployments: list[str]
    stable_image: str | None
    record: dict[str, str]


def observe(api: client.ApiClient, namespace: str) -> Cluster:
    stable = read_deployment(api, namespace, STABLE)
    record = read_or_none(lambda: client.CoreV1Api(api).read_namespaced_config_map(RECORD, namespace))
    return Cluster(deployments_in(api, namespace), container_image(stable) if stable else None,
                   dict(record.data or {}) if record else {})


@dataclass(frozen=True)
class ReleaseWalk:
    path: list[Step]
    after: Cluster
    seconds: float


@dataclass(frozen=True)
class FailedWeekWalk:
    path: list[Step]
    after_abort: Cluster
    resumed: list[Step]
    after_resume: Cluster
    seconds: float


def _release_walk(runner: JobRunner, api: client.ApiClient, image: str) -> ReleaseWalk:
    started = time.monotonic()
    workflows, templates = controller_objects()
    runner.extra_vars = survey_extra_vars(workflows[RELEASE], {"rollout_image": image})
    path = walk(workflows[RELEASE], templates, runner)
    return ReleaseWalk(path, observe(api, runner.namespace), time.monotonic() - started)


def _failed_week_walk(runner: JobRunner, api: client.ApiClient, image: str) -> FailedWeekWalk:
    started = time.monotonic()
    workflows, templates = controller_objects()
    runner.extra_vars = survey_extra_vars(workflows[RELEASE], {"rollout_image": image})

    def run_job(identifier: str, template: Mapping[str, Any]) -> AwxJob:
        outcome = runner(identifier, template)
        if identifier == "week 1":
            runner.inventory_change = BROKEN_CONFIG  # the change reaches the inventory after week 1
        return outcome

    path = walk(workflows[RELEASE], templates, run_job)
    after_abort = observe(api, runner.namespace)
    # the change reverted; the image left empty (the record's candidate), forced past the abort
    runner.inventory_change = {}
    runner.extra_vars = survey_extra_vars(workflows[RESUME_WEEK_2], {"rollout_force": "true"})
    resumed = walk(workflows[RESUME_WEEK_2], templates, runner, stop_at={"approve week 3"})
    return FailedWeekWalk(path, after_abort, resumed, observe(api, runner.namespace), time.monotonic() - started)


@dataclass(frozen=True)
class Walks:
    release: ReleaseWalk
    failed_week: FailedWeekWalk
    namespaces: tuple[str, str]
    seconds: float


@pytest.fixture(scope="module")
def walks(
    ee: dict[str, Any],
    example_image: str,
    job_secrets: Secrets,
    k8s_client: client.ApiClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Walks]:
    """Both walks, at once, each in its own namespace (deleted at the end)."""
    namespaces = (unique_name("vx-awx-release"), unique_name("vx-awx-failed"))
    base = tmp_path_factory.mktemp("awx-workflow")
    runners = [JobRunner(ee["image"], job_secrets, base / ns, ns) for ns in namespaces]
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            release = pool.submit(_release_walk, runners[0], k8s_client, example_image)
            failed = pool.submit(_failed_week_walk, runners[1], k8s_client, example_image)
            found = Walks(release.result(), failed.result(), namespaces, time.monotonic() - started)
        print(f"workflow walks: release {found.release.seconds:.0f} s, failed week {found.failed_week.seconds:.0f} s,"
              f" both {found.seconds:.0f} s")
        yield found
    finally:
        for ns in namespaces:
            delete_namespace(k8s_client, ns)


def _jobs(path: list[Step]) -> list[AwxJob]:
    jobs = [step.outcome for step in path if step.outcome is not None]
    assert all(isinstance(job, AwxJob) for job in jobs)
    return [job for job in jobs if isinstance(job, AwxJob)]


def _show(path: list[Step]) -> str:
    return " -> ".join(f"{step.identifier} ({step.status})" for step in path)


# ------------------------------------------------------------------ the release ---


def test_release_walks_every_week_with_its_approvals(walks: Walks) -> None:
    path = walks.release.path
    assert [step.identifier for step in path] == RELEASE_PATH, _show(path)
    for step in path:
        if step.outcome is None:
            assert step.status == APPROVED and step.template.startswith(f"{RELEASE}: approve week"), step
        else:
            assert step.status == "successful", step.outcome.tail() if isinstance(step.outcome, AwxJob) else step
            assert step.template == f"vextrus {ENV} {step.identifier}"


def test_release_weeks_pass_with_the_digest_week_1_started(walks: Walks, example_image: str) -> None:
    jobs = _jobs(walks.release.path)
    assert len(jobs) == 4
    for week, job in enumerate(jobs, start=1):
        assert job.report is not None, job.tail()
        assert (job.report["verdict"], job.report["week"]) == ("PASS", week), job.tail()
        assert job.report["image"] == example_image, job.tail()
        assert job.report["namespace"] == walks.namespaces[0]
        assert job.report["release"]["new_release"] is (week == 1), job.report["release"]
        assert job.report["release"]["by"].startswith("awx job ") and "(workflow-test)" in job.report["release"]["by"]


def test_release_is_promoted_on_the_cluster(walks: Walks, example_image: str) -> None:
    after = walks.release.after
    assert after.deployments == [STABLE], after
    assert after.stable_image == example_image
    assert (after.record["state"], after.record["candidate"], after.record["highest-week-passed"]) == (
        "PROMOTED", example_image, "4"), after.record


# ------------------------------------------------------------- the failed week ---


def test_failed_week_follows_the_failure_edge_to_abort(walks: Walks) -> None:
    path = walks.failed_week.path
    assert [(s.identifier, s.status) for s in path] == [
        ("week 1", "successful"), ("approve week 2", APPROVED), ("week 2", "failed"), ("abort", "successful"),
    ], _show(path)
    week1, week2, abort = _jobs(path)
    assert week1.report is not None and week1.report["verdict"] == "PASS", week1.tail()
    assert week2.job.rc != 0 and week2.report is not None, week2.tail()
    assert (week2.report["verdict"], week2.report["cause"]) == ("ERROR", "secrets"), week2.tail()
    gate = week2.report["gate"]
    assert gate["ran"] and not gate["passed"] and gate["reason"] == "CreateContainerConfigError", gate
    assert MISSING_KEY in gate["message"], gate
    assert week2.report["rollback"]["ran"], week2.report["rollback"]
    assert abort.template == f"vextrus {ENV} abort"
    assert abort.report is not None and abort.report["verdict"] == "PASS", abort.tail()


def test_abort_removed_the_canary_and_recorded_it(walks: Walks, example_image: str) -> None:
    after = walks.failed_week.after_abort
    assert after.deployments == [STABLE], after
    assert CANARY not in after.deployments
    assert (after.record["state"], after.record["candidate"], after.record["highest-week-passed"]) == (
        "ABORTED", example_image, "1"), after.record


def test_resumed_at_the_failed_week_passes_on_to_the_next_approval(walks: Walks, example_image: str) -> None:
    resumed = walks.failed_week.resumed
    assert [(s.identifier, s.status) for s in resumed] == [("week 2", "successful"), ("approve week 3", WAITING)], _show(resumed)
    assert resumed[1].template == f"{RESUME_WEEK_2}: approve week 3"
    (week2,) = _jobs(resumed)
    report = week2.report
    assert report is not None and report["verdict"] == "PASS", week2.tail()
    # no image asked for: the record's candidate; the guard refused the aborted release, forced
    assert report["image"] == example_image and report["week"] == 2
    assert report["release"]["forced"] is True and "aborted" in report["release"]["refusal"], report["release"]
    after = walks.failed_week.after_resume
    assert after.deployments == sorted([STABLE, CANARY]), after
    assert (after.record["state"], after.record["highest-week-passed"]) == ("IN_PROGRESS", "2"), after.record
