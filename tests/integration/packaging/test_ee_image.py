"""The execution environment built here and week 1 run in it the way AWX runs a job.

The image is built in the run: awx/ee/local.py derives the local build from
awx/execution-environment.yml (the Python base of localcluster/infra/base-image.sh --python,
collections from local tarballs) and pushes it to the local registry under the run's own
repository. The Docker layer cache and the cached base rootfs make a second build fast; nothing of
an earlier run is used as is.

Then `ansible-runner run` with process isolation in that image, as AWX starts a job: a private data
directory with project/ (the repository's files, as the project's SCM checkout gives them),
inventory/ (the local inventory, its secrets vault-encrypted as in staging and production),
env/extravars (the survey's image digest, awx_job_id / awx_user_name), env/envvars and the
credential files AWX's injectors write into env/ (the kubeconfig as K8S_AUTH_KUBECONFIG, the vault
password as ANSIBLE_VAULT_PASSWORD_FILE), and ANSIBLE_COLLECTIONS_PATH as AWX sets it, so the
collection comes from the image, not from the checkout. The week's report comes back in the
runner's artifacts; no secret value is in the job events. Needs the Docker engine, the registry and
the cluster (`make cluster-up`); nothing is mocked.
"""

from __future__ import annotations

import json
import re
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml
from kubernetes import client
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from awxjob import (
    EE_IMAGE,
    RUNNER,
    VERSION,
    Secrets,
    docker,
    job_private_data_dir,
    job_tail,
    runner_job,
    vault_inventory,
)
from chain.chainkit import CANARY, REAL_NODE, STABLE, deployments_in
from clusterkit import REGISTRY, delete_namespace, unique_name
from packkit import ROOT, RunnerWeek
from playbookrun import read_report, week_vars

PLAYBOOK = "playbooks/week1.yml"
IDENT = "week1"
JOB_ID = 4711


def _requirements(path: Path) -> dict[str, str]:
    """name (lower case) -> pinned version of a pip requirements file's `name==version` lines."""
    pins: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s#;]+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def _venv_collection_version(fqcn: str) -> str:
    """The version of a collection in the venv's pinned `ansible` package (its site-packages: other
    ansible_collections directories, such as the checkout's link the unit tests put first on sys.path,
    do not hold it)."""
    root = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
    manifest = json.loads(root.joinpath(*fqcn.split("."), "MANIFEST.json").read_text(encoding="utf-8"))
    return str(manifest["collection_info"]["version"])


def in_image(image: str, *command: str) -> subprocess.CompletedProcess[str]:
    """command in a throw-away container of image (no entrypoint games: as a job's shell would)."""
    return docker("run", "--rm", "--network=none", image, *command)


# --------------------------------------------------------------- fixtures ---


@pytest.fixture(scope="module")
def ee_week1(
    ee: dict[str, Any],
    example_image: str,
    job_secrets: Secrets,
    k8s_client: client.ApiClient,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunnerWeek]:
    """Week 1 as an AWX job in the execution environment (ansible-runner, process isolation)."""
    base = tmp_path_factory.mktemp("ee-week1")
    namespace = unique_name("vx-ee-week1")
    extravars = week_vars(namespace, RUNNER / "artifacts" / IDENT / "reports", RUNNER / "unused",
                          {**REAL_NODE, "rollout_image": example_image, "awx_job_id": JOB_ID, "awx_user_name": "ee-test"})
    for key in ("deploy_local_vault_file", "deploy_local_vault_password_file"):
        del extravars[key]
    pdd = job_private_data_dir(base / "pdd", vault_inventory(base, job_secrets), extravars, job_secrets)
    try:
        job = runner_job(pdd, ee["image"], PLAYBOOK, IDENT)
        report, _ = read_report(job.artifacts / "reports")
        yield RunnerWeek(job, pdd, namespace, report, deployments_in(k8s_client, namespace))
    finally:
        delete_namespace(k8s_client, namespace)


# ------------------------------------------------------------ the image ---


def test_ee_is_pushed(ee: dict[str, Any]) -> None:
    assert ee["image"] == EE_IMAGE
    repository = EE_IMAGE.rsplit(":", 1)[0]
    assert re.fullmatch(rf"{re.escape(repository)}@sha256:[0-9a-f]{{64}}", ee["digest"]), ee
    answer = requests.head(
        f"http://{REGISTRY}/v2/{repository.removeprefix(REGISTRY + '/')}/manifests/{VERSION}",
        headers={"Accept": "application/vnd.docker.distribution.manifest.v2+json"}, timeout=10,
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["Docker-Content-Digest"] == ee["digest"].split("@", 1)[1]


def _collections_in(image: str) -> dict[str, str]:
    listed = in_image(image, "ansible-galaxy", "collection", "list", "--format", "json")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    found: dict[str, str] = {}
    for path, collections in json.loads(listed.stdout).items():
        for fqcn, info in collections.items():
            assert fqcn not in found, f"{fqcn} twice in the image ({path})"
            found[fqcn] = info["version"]
    return found


def test_ee_collections_at_the_pinned_versions(ee: dict[str, Any]) -> None:
    found = _collections_in(ee["image"])
    wanted = {entry["name"]: entry.get("version", "*")
              for entry in yaml.safe_load((ROOT / "requirements.yml").read_text(encoding="utf-8"))["collections"]}
    assert found.get("vextrus.deploy") == VERSION, found
    for fqcn, spec in wanted.items():
        assert found.get(fqcn) == _venv_collection_version(fqcn), f"{fqcn}: {found.get(fqcn)} in the image"
        assert Version(found[fqcn]) in SpecifierSet(spec), f"{fqcn} {found[fqcn]} outside requirements.yml's {spec}"
    assert {"vextrus.deploy", "kubernetes.core", "community.docker"} <= set(found)


def test_ee_core_and_runner_are_the_pinned_ones(ee: dict[str, Any]) -> None:
    pins = _requirements(ROOT / "requirements.txt")
    script = "import importlib.metadata as m; print(m.version('ansible-core'), m.version('ansible-runner'))"
    done = in_image(ee["image"], "python3", "-c", script)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [pins["ansible-core"], pins["ansible-runner"]]


def test_ee_python_libraries_import_at_their_pins(ee: dict[str, Any]) -> None:
    pins = _requirements(ROOT / "awx" / "ee" / "requirements.txt")
    modules = {"kubernetes": "kubernetes", "docker": "docker", "requests": "requests", "jmespath": "jmespath",
               "pyjwt": "jwt", "jsonpatch": "jsonpatch", "requests-oauthlib": "requests_oauthlib", "urllib3": "urllib3"}
    assert set(pins) <= set(modules), f"a pin of awx/ee/requirements.txt without its module here: {set(pins) - set(modules)}"
    script = (
        "import importlib, importlib.metadata as m, json, sys\n"
        f"mods = {json.dumps(modules)}\n"
        "for m_ in mods.values(): importlib.import_module(m_)\n"
        "print(json.dumps({d: m.version(d) for d in mods}))\n"
    )
    done = in_image(ee["image"], "python3", "-c", script)
    assert done.returncode == 0, done.stderr
    versions = json.loads(done.stdout)
    assert {name: versions[name] for name in pins} == pins
    # and the plugins that import them load (the build's own check, here in the pushed image)
    doc = in_image(ee["image"], "ansible-doc", "-t", "module", "vextrus.deploy.rollout_gate")
    assert doc.returncode == 0 and "rollout_gate" in doc.stdout, doc.stderr


# ------------------------------------------------------ week 1 as a job ---


def test_ee_week1_job_passes_with_its_report_in_the_artifacts(ee_week1: RunnerWeek, example_image: str) -> None:
    job = ee_week1.job
    assert job.artifacts.is_dir(), job.command.tail()
    assert (job.status, job.rc) == ("successful", 0), job_tail(job)
    report = ee_week1.report
    assert report is not None, f"no report in {job.artifacts / 'reports'}\n{job_tail(job)}"
    assert report["verdict"] == "PASS", report
    assert (report["week"], report["namespace"], report["image"]) == (1, ee_week1.namespace, example_image)
    assert ee_week1.deployments == sorted([STABLE, CANARY]), ee_week1.deployments


def test_ee_week1_ran_the_image_collection_with_awx_credentials(ee_week1: RunnerWeek) -> None:
    events = ee_week1.job.events()
    assert events and events[-1]["event"] == "playbook_on_stats", [e["event"] for e in events[-3:]]
    stats = events[-1]["event_data"]
    assert stats["failures"] == {} and stats["dark"] == {}, job_tail(ee_week1.job)
    paths = {e["event_data"]["task_path"].rsplit(":", 1)[0] for e in events if e["event"] == "playbook_on_task_start"}
    image_roles = "/usr/share/ansible/collections/ansible_collections/vextrus/deploy/roles/"
    assert any(p.startswith("/runner/project/playbooks/") for p in paths), sorted(paths)[:10]
    ran = {p.removeprefix(image_roles).split("/")[0] for p in paths if p.startswith(image_roles)}
    assert ran >= {"namespace_secrets", "resource_apply", "smoke_test", "report"}, sorted(paths)[:20]
    outside = sorted(p for p in paths if not p.startswith(("/runner/project/playbooks/", image_roles)))
    assert not outside, f"tasks neither from the project's playbooks nor the image's collection: {outside[:10]}"


def test_ee_week1_job_events_hold_no_secret(ee_week1: RunnerWeek, job_secrets: Secrets) -> None:
    files = sorted((ee_week1.job.artifacts / "job_events").glob("*.json"))
    assert files, job_tail(ee_week1.job)
    leaks: list[str] = []
    for path in [*files, ee_week1.job.artifacts / "stdout"]:
        text = path.read_text(encoding="utf-8")
        leaks.extend(f"{path.name}: secret #{i}" for i, value in enumerate(job_secrets.all()) if value in text)
    assert not leaks, leaks
