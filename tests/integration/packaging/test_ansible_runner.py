"""Week 1 through `ansible-runner run`, the way AWX runs a job template: a private data directory
with project/ (the repository's files, as a project update's SCM checkout gives them),
inventory/, env/extravars (template and survey variables, here the digest the session built),
env/envvars and env/settings, and the playbook named relative to the project.

The project's own ansible.cfg is read (ansible-runner starts ansible-playbook in project/, as AWX
does); its collections_path (./.local/collections, a developer's link to the checkout) does not exist
in an SCM checkout. AWX users point the job at the installed collection through the environment
(ANSIBLE_COLLECTIONS_PATH in env/envvars, which takes precedence over ansible.cfg), which is what
this test does with the collection the session installed from its tarball."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from chain.chainkit import CANARY, REAL_NODE, STABLE, deployments_in
from clusterkit import delete_namespace
from packkit import (
    ROOT,
    InstalledCollection,
    RunnerWeek,
    ansible_env,
    awx_private_data_dir,
    runner_run,
    source_files,
    unique_namespace,
)
from playbookrun import read_report, week_vars

PLAYBOOK = "playbooks/week1.yml"


@pytest.fixture(scope="module")
def runner_week1(
    installed_collection: InstalledCollection,
    packaged_image: str,
    kubeconfig: Path,
    k8s_client: client.ApiClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunnerWeek]:
    base = tmp_path_factory.mktemp("runner-week1")
    namespace = unique_namespace("runner")
    work = tmp_path_factory.mktemp("runner-week1-work")
    extravars = week_vars(namespace, work / "reports", work / "vault", {**REAL_NODE, "rollout_image": packaged_image})
    envvars = {
        "K8S_AUTH_KUBECONFIG": str(kubeconfig),
        "ANSIBLE_COLLECTIONS_PATH": str(installed_collection.collections_path),
        "ANSIBLE_NOCOLOR": "1",
    }
    pdd = awx_private_data_dir(
        base / "pdd",
        source_files(),
        ROOT / "inventories" / "local",
        extravars,
        envvars,
        {"job_timeout": 900, "suppress_ansible_output": True},
    )
    # ansible-runner itself gets a clean environment: no ANSIBLE_* or K8S_AUTH_* of the calling
    # shell, and no ANSIBLE_CONFIG, so ansible-playbook reads project/ansible.cfg as under AWX.
    env = ansible_env(installed_collection.collections_path, installed_collection.config)
    del env["ANSIBLE_CONFIG"], env["ANSIBLE_COLLECTIONS_PATH"]
    try:
        job = runner_run(pdd, PLAYBOOK, "week1", env)
        report, _ = read_report(work / "reports")
        yield RunnerWeek(job, pdd, namespace, report, deployments_in(k8s_client, namespace))
    finally:
        delete_namespace(k8s_client, namespace)


def test_runner_job_is_successful_with_a_pass_report(runner_week1: RunnerWeek, packaged_image: str) -> None:
    job = runner_week1.job
    assert job.command.rc == 0, job.command.tail()
    assert job.artifacts.is_dir(), job.command.tail()
    assert (job.status, job.rc) == ("successful", 0), job.command.tail()
    report = runner_week1.report
    assert report is not None, job.command.tail()
    assert report["verdict"] == "PASS", report
    assert (report["week"], report["namespace"], report["image"]) == (1, runner_week1.namespace, packaged_image)
    assert report["gate"]["passed"] and report["smoke"]["passed"], report
    assert runner_week1.deployments == sorted([STABLE, CANARY]), runner_week1.deployments


def test_runner_artifacts_hold_the_job_events(runner_week1: RunnerWeek, installed_collection: InstalledCollection) -> None:
    events = runner_week1.job.events()
    kinds = [e["event"] for e in events]
    assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats", kinds[:3] + kinds[-3:]
    assert "runner_on_ok" in kinds and "runner_on_failed" not in kinds
    stats = events[-1]["event_data"]
    assert stats["failures"] == {} and stats["dark"] == {}, stats
    assert "localhost" in stats["ok"], stats
    # the playbook came from the project, the roles from the collection installed from the tarball
    starts = [e for e in events if e["event"] == "playbook_on_start"]
    assert starts[0]["event_data"]["playbook"] == PLAYBOOK, starts[0]["event_data"]
    paths = {e["event_data"]["task_path"].rsplit(":", 1)[0] for e in events if e["event"] == "playbook_on_task_start"}
    project = f"{runner_week1.private_data_dir}/project/playbooks/"
    roles = f"{installed_collection.root}/roles/"
    assert any(p.startswith(project) for p in paths), sorted(paths)[:10]
    ran_roles = {p.removeprefix(roles).split("/")[0] for p in paths if p.startswith(roles)}
    assert ran_roles >= {"namespace_secrets", "resource_apply", "rollback", "smoke_test", "report"}, sorted(paths)
    outside = sorted(p for p in paths if not p.startswith((project, roles)))
    assert not outside, f"tasks neither from the project's playbooks nor the installed collection: {outside[:10]}"
    stdout = (runner_week1.job.artifacts / "stdout").read_text(encoding="utf-8")
    assert "PLAY RECAP" in stdout and "failed=0" in stdout, stdout[-2000:]
