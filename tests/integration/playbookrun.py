"""Running ansible-playbook (and the other commands of a test) for the integration test kits, and
reading what a run left: its outcome (exit code, output, recap, tail) and, for a week of the
chain, the extra variables it gets and the JSON report it writes. Nothing is mocked."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clusterkit import BUILD_IMAGE, RUNTIME_IMAGE, SESSION_REPOSITORY
from clusterkit import run as run_command

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The base images of a week's build: the ones localcluster/infra/up.sh pushed to the local registry.
BASE_IMAGES = {
    "deploy_base_image": RUNTIME_IMAGE,
    "deploy_builder_image": BUILD_IMAGE,
}


def _one_line(text: str) -> str:
    """text on one line, white space folded, YAML quoting ('') undone."""
    return " ".join(text.replace("''", "'").split())


@dataclass(frozen=True)
class Run:
    """The outcome of one ansible-playbook run: exit code and combined output."""

    rc: int
    output: str

    @property
    def flat(self) -> str:
        """The output on one line, YAML quoting undone, for message assertions."""
        return _one_line(self.output)

    def last_lines(self, count: int = 25) -> str:
        """The last lines of the output, on one line, YAML quoting undone."""
        return _one_line("\n".join(self.output.splitlines()[-count:]))

    def recap(self) -> dict[str, int]:
        """The counters of the PLAY RECAP line of localhost (ok, changed, failed, ...)."""
        match = re.search(r"localhost\s+:\s+(.*)", self.output.split("PLAY RECAP")[-1])
        assert match, f"no play recap in output:\n{self.tail()}"
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}

    def heading(self) -> str:
        """What the run was, for the first line of tail()."""
        return f"rc={self.rc}"

    def why(self, chars: int = 240) -> str:
        """The message of the last failed task in the output, on one line and cut to chars ('' when
        none failed): put first in a failure's message, it is what a summary of failures shows."""
        for line in reversed(self.output.splitlines()):
            if line.startswith(("fatal: [", "failed: [")) or "FAILED! =>" in line:
                found = re.search(r'"msg": "((?:[^"\\]|\\.)*)"', line)
                text = _one_line(found.group(1) if found else line)
                return text if len(text) <= chars else text[: chars - 3] + "..."
        return ""

    def tail(self, chars: int = 5000) -> str:
        """heading() and the end of the output, for assertion messages."""
        return f"{self.heading()}\n{self.output[-chars:]}"


@dataclass(frozen=True)
class Command(Run):
    """One finished command: its argument list, exit code, combined output and wall time."""

    args: list[str]
    seconds: float

    def heading(self) -> str:
        return f"{' '.join(self.args)}\nrc={self.rc} after {self.seconds:.1f} s"


@dataclass(frozen=True)
class WeekRun(Command):
    """One ansible-playbook run of a week: the command's outcome and the report it wrote."""

    week: int
    report: dict[str, Any] | None
    report_path: Path | None
    extra: dict[str, Any] = field(default_factory=dict)

    def heading(self) -> str:
        report = self.report or {}
        outcome = (f"{report.get('verdict')} ({report.get('cause')}): {report.get('reason')}" if report
                   else self.why() or "no report")
        return f"week {self.week} rc={self.rc} after {self.seconds:.0f} s: {outcome}; extra vars {self.extra}"


def ansible_env(
    config: Path = ROOT / "ansible.cfg", *, clean: bool = False, path: Sequence[Path] = (), **extra: str
) -> dict[str, str]:
    """The environment of an ansible command: the caller's, with the given config file, no colours,
    the venv's bin (then the directories of path) first on PATH, and the extra variables.

    clean drops every ANSIBLE_* and K8S_AUTH_* variable of the calling shell first."""
    env = {k: v for k, v in os.environ.items() if not (clean and k.startswith(("ANSIBLE_", "K8S_AUTH_")))}
    env.update(
        ANSIBLE_CONFIG=str(config),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        PATH=os.pathsep.join([str(BIN), *map(str, path), env.get("PATH", "")]),
    )
    env.update(extra)
    return env


def run(args: list[str], cwd: Path = ROOT, env: dict[str, str] | None = None, timeout: float = 300) -> Command:
    """Runs a command to the end and returns its outcome (does not raise on a non-zero exit)."""
    started = time.monotonic()
    proc = run_command(args, cwd=cwd, env=env, timeout=timeout, check=False)
    return Command(
        rc=proc.returncode, output=proc.stdout + proc.stderr, args=args, seconds=time.monotonic() - started
    )


def ansible_playbook(
    inventory: str,
    playbook: str,
    values: dict[str, Any],
    *options: str,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    timeout: float = 900,
) -> Command:
    """`ansible-playbook -i <inventory> <playbook> -e <values as JSON> <options>` of the venv, in cwd
    with env (default: ansible_env(), the checkout's config)."""
    cmd = [str(BIN / "ansible-playbook"), "-i", inventory, playbook, "-e", json.dumps(values), *options]
    return run(cmd, cwd=cwd, env=ansible_env() if env is None else env, timeout=timeout)


def start_playbook(
    inventory: str,
    playbook: str,
    values: dict[str, Any],
    output: Path,
    *options: str,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
) -> subprocess.Popen:
    """ansible_playbook's command started in the background, in a session of its own (so a test can
    kill it and every process it started), its output going to the file output."""
    cmd = [str(BIN / "ansible-playbook"), "-i", inventory, playbook, "-e", json.dumps(values), *options]
    with output.open("wb") as sink:
        return subprocess.Popen(cmd, cwd=cwd, env=ansible_env() if env is None else env, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)


def week_vars(
    namespace: str,
    report_dir: Path,
    vault_dir: Path,
    extra: dict[str, Any] | None = None,
    base_images: bool = True,
) -> dict[str, Any]:
    """The extra variables of a test week: the local base images (unless base_images is false:
    then the inventory's Node bases and the workspace's Node version choose them), the session's
    registry repository, the namespace, and the report and the local vault in test directories
    (never reports/ or .local/vault of the checkout)."""
    return {
        **(BASE_IMAGES if base_images else {}),
        "deploy_repository": SESSION_REPOSITORY,
        "deploy_namespace": namespace,
        "rollout_report_dir": str(report_dir),
        "deploy_local_vault_file": str(vault_dir / "local.yml"),
        "deploy_local_vault_password_file": str(vault_dir / "password"),
        # the traffic analysis adds its window to every week: the tests of it turn it on (chain/test_chain_analysis.py)
        "rollout_analysis_enabled": False,
        **(extra or {}),
    }


def empty_report_dir(report_dir: Path) -> None:
    """Creates a run's report directory and checks it holds no report yet, so that the report
    read after the run is the run's own."""
    report_dir.mkdir(parents=True, exist_ok=True)
    assert not list(report_dir.glob("*.json")), f"report directory {report_dir} is not empty"


def read_report(report_dir: Path) -> tuple[dict[str, Any] | None, Path | None]:
    """The one JSON report of a run in its report directory, (None, None) when it wrote none."""
    reports = sorted(report_dir.glob("*.json"))
    assert len(reports) <= 1, f"more than one report in {report_dir}: {reports}"
    if not reports:
        return None, None
    return json.loads(reports[0].read_text(encoding="utf-8")), reports[0]


def week_result(week: int, done: Command, report_dir: Path, extra: dict[str, Any]) -> WeekRun:
    """The WeekRun of a finished week command, with the report it wrote to report_dir."""
    report, report_path = read_report(report_dir)
    return WeekRun(**vars(done), week=week, report=report, report_path=report_path, extra=extra)
