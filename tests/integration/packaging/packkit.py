"""Helpers of the packaging tests: the collection as users get it, not the checkout. Build the
tarball with `ansible-galaxy collection build`, install it into an empty collections path, and run
the installed collection's playbooks and plugins from a directory outside the checkout with an
environment in which nothing of the checkout (its ansible.cfg, its .local/collections link) is in
effect. Commands, week runs and their reports go through ../playbookrun.py, as the chain tests'.
Nothing is mocked: the runs talk to the local cluster, its registry and Docker engine."""

from __future__ import annotations

import ast
import importlib.util
import json
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from clusterkit import unique_name
from playbookrun import BIN, ROOT, Command, WeekRun, ansible_playbook, empty_report_dir, run, week_result
from playbookrun import ansible_env as clean_ansible_env

NAMESPACE = "vextrus"
NAME = "deploy"
FQCN = f"{NAMESPACE}.{NAME}"
# What every installed copy of the collection must carry.
REQUIRED_PATHS = ("plugins", "roles", "playbooks", "meta/runtime.yml")
# A config file of the tests' own: with it, no ansible.cfg of the checkout or of the current
# directory is read, and every path comes from the environment the helpers set.
TMP_ANSIBLE_CFG = "[defaults]\nnocows = true\nretry_files_enabled = false\ninterpreter_python = auto_silent\n"


def galaxy() -> dict[str, Any]:
    """galaxy.yml of the checkout."""
    data: dict[str, Any] = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))
    return data


def tarball_name() -> str:
    """The file name `ansible-galaxy collection build` must produce: <namespace>-<name>-<version>.tar.gz."""
    meta = galaxy()
    return f"{meta['namespace']}-{meta['name']}-{meta['version']}.tar.gz"


def _collection_files_module() -> Any:
    """tests/collection_files.py (the build_ignore rules sanity.sh uses), loaded by path."""
    path = ROOT / "tests" / "collection_files.py"
    spec = importlib.util.spec_from_file_location("vextrus_collection_files", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def source_files() -> list[str]:
    """Files of the checkout as a clone gives them: tracked files plus new files git does not ignore
    (the next commit), relative to the repository root, that exist in the working tree."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted(p for p in set(listed.split("\0")) if p and (ROOT / p).is_file())


def shipped_files() -> set[str]:
    """The source files galaxy.yml's build_ignore keeps (galaxy.yml itself goes into MANIFEST.json)."""
    patterns = galaxy().get("build_ignore", [])
    shipped = _collection_files_module().shipped
    return {p for p in source_files() if p != "galaxy.yml" and shipped(p, patterns)}


def ignored_by_build(path: str) -> bool:
    """True when a path falls under one of galaxy.yml's build_ignore patterns."""
    shipped: bool = _collection_files_module().shipped(path, galaxy().get("build_ignore", []))
    return not shipped


def tarball_files(tarball: Path) -> set[str]:
    """Regular files in a collection tarball, by path inside the collection."""
    with tarfile.open(tarball) as archive:
        return {m.name.removeprefix("./") for m in archive.getmembers() if m.isfile()}


def ansible_env(collections_path: Path, config: Path, **extra: str) -> dict[str, str]:
    """The environment of an ansible command that sees only the given collections path (plus the
    collections of the pinned ansible package, found on sys.path) and only the given config file:
    every ANSIBLE_* and K8S_AUTH_* variable of the calling shell is dropped."""
    return clean_ansible_env(config, clean=True, **{"ANSIBLE_COLLECTIONS_PATH": str(collections_path), **extra})


@dataclass(frozen=True)
class BuiltCollection:
    """The tarball `ansible-galaxy collection build` made of the checkout."""

    tarball: Path
    build: Command


@dataclass(frozen=True)
class InstalledCollection:
    """The collection as `ansible-galaxy collection install <tarball> -p <path>` laid it out."""

    collections_path: Path
    root: Path
    config: Path
    install: Command

    def env(self, **extra: str) -> dict[str, str]:
        """ansible_env() for this installation: its collections path and the tests' config file."""
        return ansible_env(self.collections_path, self.config, **extra)


def install_collection(tarball: Path, workdir: Path) -> InstalledCollection:
    """Installs the tarball, offline, into the empty collections path <workdir>/collections.

    Its dependencies (kubernetes.core, community.docker) are not fetched: ansible-galaxy finds them
    in the pinned ansible package on sys.path, which is where the installed collection finds them too.
    """
    collections_path = workdir / "collections"
    collections_path.mkdir(parents=True)
    assert not any(collections_path.iterdir()), collections_path
    config = workdir / "ansible.cfg"
    config.write_text(TMP_ANSIBLE_CFG, encoding="utf-8")
    install = run(
        [str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(collections_path), "--offline"],
        cwd=workdir,
        env=ansible_env(collections_path, config),
    )
    root = collections_path / "ansible_collections" / NAMESPACE / NAME
    return InstalledCollection(collections_path, root, config, install)


def unique_namespace(label: str) -> str:
    """A Kubernetes namespace name of the packaging tests that no other run uses."""
    return unique_name(f"vx-packaging-{label}")


def run_installed_week(
    installed: InstalledCollection,
    week: int,
    workdir: Path,
    values: dict[str, Any],
    kubeconfig: Path,
    timeout: float = 900,
) -> WeekRun:
    """`ansible-playbook -i <inventory> vextrus.deploy.week<N> -e <values> -vv` in workdir (outside
    the checkout), with a copy of the installed collection's local inventory, the installed
    collection as the only collections path and K8S_AUTH_KUBECONFIG pointing at the cluster."""
    inventory = workdir / "inventory"
    shutil.copytree(installed.root / "inventories" / "local", inventory)
    report_dir = Path(values["rollout_report_dir"])
    empty_report_dir(report_dir)
    done = ansible_playbook(
        str(inventory),
        f"{FQCN}.week{week}",
        values,
        "-vv",
        cwd=workdir,
        env=installed.env(K8S_AUTH_KUBECONFIG=str(kubeconfig)),
        timeout=timeout,
    )
    return week_result(week, done, report_dir, values)


@dataclass(frozen=True)
class InstalledWeek:
    """A week of the installed collection: where it ran and what it reported."""

    namespace: str
    workdir: Path
    run: WeekRun
    deployments: list[str]


def task_paths(output: str) -> list[str]:
    """The files of the tasks an `ansible-playbook -vv` run executed ("task path: <file>:<line>")."""
    return [line.split("task path:", 1)[1].strip().rsplit(":", 1)[0] for line in output.splitlines() if "task path:" in line]


def copy_files(files: list[str], src: Path, dest: Path) -> None:
    """Copies the given repository-relative files from src to dest, keeping their paths."""
    for rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src / rel, target)


@dataclass(frozen=True)
class RunnerJob:
    """One `ansible-runner run` of a private data directory: the command and its artifacts."""

    command: Command
    artifacts: Path

    @property
    def status(self) -> str:
        return (self.artifacts / "status").read_text(encoding="utf-8").strip()

    @property
    def rc(self) -> int:
        return int((self.artifacts / "rc").read_text(encoding="utf-8").strip())

    def events(self) -> list[dict[str, Any]]:
        """The job events ansible-runner wrote (artifacts/<ident>/job_events/*.json), in order."""
        files = (self.artifacts / "job_events").glob("*.json")
        events = [json.loads(f.read_text(encoding="utf-8")) for f in files]
        return sorted(events, key=lambda e: int(e.get("counter", 0)))


@dataclass(frozen=True)
class RunnerWeek:
    """Week 1 as an ansible-runner job, and what it left in its namespace."""

    job: RunnerJob
    private_data_dir: Path
    namespace: str
    report: dict[str, Any] | None
    deployments: list[str]


def awx_private_data_dir(
    base: Path,
    project_files: list[str],
    inventory: Path,
    extravars: dict[str, Any],
    envvars: dict[str, str],
    settings: dict[str, Any],
) -> Path:
    """Lays out a private data directory as AWX hands it to ansible-runner:

    project/         the project's files as its SCM checkout gives them
    inventory/       the inventory (here a copy of an inventory directory: hosts.yml, group_vars/)
    env/extravars    the job template's and survey's extra variables
    env/envvars      the environment of the job (credentials' injectors put kubeconfig paths here)
    env/settings     runner settings (timeouts, output)
    """
    copy_files(project_files, ROOT, base / "project")
    shutil.copytree(inventory, base / "inventory")
    env = base / "env"
    env.mkdir()
    (env / "extravars").write_text(yaml.safe_dump(extravars, sort_keys=False), encoding="utf-8")
    (env / "envvars").write_text(yaml.safe_dump(envvars, sort_keys=False), encoding="utf-8")
    (env / "settings").write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return base


def runner_run(private_data_dir: Path, playbook: str, ident: str, env: dict[str, str], timeout: float = 900) -> RunnerJob:
    """`ansible-runner run <private_data_dir> -p <playbook> --ident <ident>` (the playbook relative
    to project/, as AWX passes it); waits for the job to end."""
    command = run(
        [str(BIN / "ansible-runner"), "run", str(private_data_dir), "-p", playbook, "--ident", ident],
        cwd=private_data_dir,
        env=env,
        timeout=timeout,
    )
    return RunnerJob(command, private_data_dir / "artifacts" / ident)


def module_short_description(path: Path) -> str:
    """short_description of a module's DOCUMENTATION string, read from its source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "DOCUMENTATION" for t in node.targets):
            value = ast.literal_eval(node.value)
            return str(yaml.safe_load(value)["short_description"])
    raise AssertionError(f"{path} has no DOCUMENTATION")


def filter_docs(path: Path) -> tuple[str, str]:
    """(name, short_description) of a filter's sidecar documentation (plugins/filter/<name>.yml)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))["DOCUMENTATION"]
    return str(doc["name"]), str(doc["short_description"])
