"""Helpers of the packaging tests: the collection as users get it, not the checkout. Build the
tarball with `ansible-galaxy collection build`, install it into an empty collections path, and run
the installed collection's playbooks and plugins from a directory outside the checkout with an
environment in which nothing of the checkout (its ansible.cfg, its .local/collections link) is in
effect. Week runs reuse the chain tests' constants (tests/integration/chain/chainkit.py).
Nothing is mocked: the runs talk to the local cluster, its registry and Docker engine."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chain.chainkit import BASE_IMAGES, WeekRun

ROOT = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "K8S_AUTH_"))}
    env.update(
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_COLLECTIONS_PATH=str(collections_path),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=os.pathsep.join([str(BIN), env.get("PATH", "")]),
    )
    env.update(extra)
    return env


@dataclass(frozen=True)
class Command:
    """One finished command: its argument list, exit code, combined output and wall time."""

    args: list[str]
    rc: int
    output: str
    seconds: float

    def tail(self, chars: int = 5000) -> str:
        return f"{' '.join(self.args)}\nrc={self.rc} after {self.seconds:.1f} s\n{self.output[-chars:]}"


def run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: float = 300) -> Command:
    """Runs a command to the end and returns its outcome (does not raise on a non-zero exit)."""
    started = time.monotonic()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return Command(args, proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started)


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
    return f"vx-packaging-{label}-{uuid.uuid4().hex[:6]}"[:63].rstrip("-")


def week_vars(namespace: str, report_dir: Path, vault_dir: Path, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The extra variables of a test week: the local base images, the namespace, and the report
    and the local vault in test directories (never reports/ or .local/vault of the checkout)."""
    return {
        **BASE_IMAGES,
        "deploy_namespace": namespace,
        "rollout_report_dir": str(report_dir),
        "deploy_local_vault_file": str(vault_dir / "local.yml"),
        "deploy_local_vault_password_file": str(vault_dir / "password"),
        **(extra or {}),
    }


def read_report(report_dir: Path) -> tuple[dict[str, Any] | None, Path | None]:
    """The one JSON report of a run in its report directory, (None, None) when it wrote none."""
    reports = sorted(report_dir.glob("*.json"))
    assert len(reports) <= 1, f"more than one report in {report_dir}: {reports}"
    if not reports:
        return None, None
    return json.loads(reports[0].read_text(encoding="utf-8")), reports[0]


def run_installed_week(
    installed: InstalledCollection,
    week: int,
    workdir: Path,
    values: dict[str, Any],
    kubeconfig: Path,
    timeout: float = 900,
) -> WeekRun:
    """`ansible-playbook -vv -i <inventory> vextrus.deploy.week<N> -e <values>` in workdir (outside
    the checkout), with a copy of the installed collection's local inventory, the installed
    collection as the only collections path and K8S_AUTH_KUBECONFIG pointing at the cluster."""
    inventory = workdir / "inventory"
    shutil.copytree(installed.root / "inventories" / "local", inventory)
    report_dir = Path(values["rollout_report_dir"])
    report_dir.mkdir(parents=True, exist_ok=True)
    assert not list(report_dir.glob("*.json")), f"report directory {report_dir} is not empty"
    cmd = [
        str(BIN / "ansible-playbook"),
        "-vv",
        "-i",
        str(inventory),
        f"{FQCN}.week{week}",
        "-e",
        json.dumps(values),
    ]
    done = run(cmd, cwd=workdir, env=installed.env(K8S_AUTH_KUBECONFIG=str(kubeconfig)), timeout=timeout)
    report, report_path = read_report(report_dir)
    return WeekRun(
        week=week, rc=done.rc, output=done.output, seconds=done.seconds, report=report, report_path=report_path, extra=values
    )


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
