"""Week 1 from the installed collection (`ansible-playbook vextrus.deploy.week1`), not from the
checkout: run in a tmp directory with the tests' own config file and the tmp installation as the
only collections path. It builds the example service, passes, reports and leaves the week's
Deployments in its namespace; every task it ran came from the installed copy."""

from __future__ import annotations

from chain.chainkit import CANARY, STABLE
from packkit import ROOT, InstalledCollection, InstalledWeek, task_paths


def test_week1_of_the_installed_collection_passes(installed_week1: InstalledWeek, packaged_image: str) -> None:
    run = installed_week1.run
    assert run.rc == 0, run.tail()
    assert run.recap()["failed"] == 0, run.tail()
    report = run.report
    assert report is not None, run.tail()
    assert report["verdict"] == "PASS", run.tail()
    assert report["week"] == 1 and report["namespace"] == installed_week1.namespace, report
    assert report["image"] == packaged_image
    assert report["gate"]["ran"] and report["gate"]["passed"], report["gate"]
    assert report["smoke"]["ran"] and report["smoke"]["passed"], report["smoke"]
    assert run.report_path is not None and run.report_path.parent == installed_week1.workdir / "reports"
    assert installed_week1.deployments == sorted([STABLE, CANARY]), installed_week1.deployments


def test_week1_ran_from_the_installed_copy(
    installed_week1: InstalledWeek, installed_collection: InstalledCollection
) -> None:
    run = installed_week1.run
    # the tests' config file, not the checkout's ansible.cfg (collections_path ./.local/collections)
    assert f"config file = {installed_collection.config}" in run.output, run.tail()
    assert str(ROOT / "ansible.cfg") not in run.output
    paths = task_paths(run.output)
    assert paths, f"no task paths in the -vv output:\n{run.tail()}"
    outside = sorted({p for p in paths if not p.startswith(f"{installed_collection.root}/")})
    assert not outside, f"tasks that did not come from the installed collection: {outside}"
    # the chain's roles and playbooks, all of them from the installation
    for part in ("playbooks/rollout.yml", "roles/image_build/", "roles/namespace_secrets/", "roles/resource_apply/", "roles/smoke_test/", "roles/report/"):
        assert any(part in p for p in paths), f"no task of {part} ran: {sorted(set(paths))[:20]}"
    assert str(ROOT) not in "\n".join(paths)
