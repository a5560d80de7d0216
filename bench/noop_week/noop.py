"""A week with nothing to change, side by side with what the same objects cost elsewhere:

  (a) `playbooks/week4.yml` again after weeks 1-4 passed: PASS, changed=0
  (b) kubernetes.core.k8s apply + `wait: true` of the objects week 4 leaves, in one playbook
      (apply_wait.yml)
  (c) `kubectl apply --server-side` + `kubectl rollout status` of the same objects

and (d) week 1 of a new namespace whose image is already in the registry (nothing to build), less
the time of the gate's, the traffic analysis' and the smoke test's own tasks (their waiting for pods,
measurements and answers; the analysis waits its initial delay and rounds by design).

Rows (a)-(c) run in rounds, one of each per round, and the table shows the median wall and CPU
seconds (CPU: user + system of the child processes). The goals it prints: (a) <= 15 s and
<= 6x (b); (d) <= 25 s. Everything runs on the local cluster's real node in namespaces of its own
(deleted afterwards), from a registry repository of its own (so week 1 really builds first).
Run through run.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchkit  # the bench folder's shared helpers (bench/benchkit.py)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = Path(sys.executable).parent
KUBECONFIG = benchkit.KUBECONFIG
KUBECTL = benchkit.KUBECTL
INVENTORY = ROOT / "inventories" / "local"
SERVICE = "finance-service"
KINDS = "deployments,services,horizontalpodautoscalers,poddisruptionbudgets,networkpolicies"
GOAL_NOOP = 15.0
GOAL_RATIO = 6.0
GOAL_WEEK1 = 25.0
RECAP = re.compile(r"^localhost\s*:.*?changed=(\d+).*?failed=(\d+)", re.MULTILINE)
TASK_TIME = re.compile(r"^(.+?) -{2,} ([0-9.]+)s$", re.MULTILINE)
# the tasks whose time is the gate's, the traffic analysis' and the smoke test's own waiting (row d leaves them out)
# (profile_tasks names a role's task "<collection>.<role> : <task>")
WAITING_TASK = re.compile(r"^((vextrus\.deploy\.)?smoke_test : |Gate the rollout|(vextrus\.deploy\.)?analysis : Judge the new pods)")
# the run's objects as they are, without what the server keeps for itself
SERVER_FIELDS = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields", "selfLink")
SERVER_ANNOTATIONS = ("deployment.kubernetes.io/revision", "kubectl.kubernetes.io/last-applied-configuration")


def log(msg: str) -> None:
    print(f"noop_week: {msg}", file=sys.stderr, flush=True)


@dataclass
class Timed:
    """One timed command: wall and CPU seconds, its exit code and output."""

    wall: float
    cpu: float
    rc: int
    output: str = field(repr=False)


def timed(cmd: list[str], env: dict[str, str] | None = None, timeout: float = 1200) -> Timed:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Timed(wall, cpu, proc.returncode, proc.stdout + proc.stderr)


def kubectl(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return benchkit.kubectl("noop_week", *args, check=check)


class Chain:
    """Runs playbooks of the chain with the local inventory, in one namespace."""

    def __init__(self, namespace: str, work: Path, repository: str) -> None:
        self.namespace = namespace
        self.work = work
        self.repository = repository
        self.runs = 0

    def run(self, playbook: str, profile: bool = False) -> tuple[Timed, dict[str, Any]]:
        self.runs += 1
        reports = self.work / f"reports-{self.runs}"
        reports.mkdir(parents=True)
        extra = {
            "deploy_namespace": self.namespace,
            "deploy_repository": self.repository,
            "rollout_report_dir": str(reports),
            "deploy_local_vault_file": str(self.work / "vault" / "local.yml"),
            "deploy_local_vault_password_file": str(self.work / "vault" / "password"),
        }
        env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
        env["PATH"] = f"{BIN}{os.pathsep}{ROOT / '.local' / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        if profile:
            env.update(ANSIBLE_CALLBACKS_ENABLED="ansible.posix.profile_tasks", PROFILE_TASKS_TASK_OUTPUT_LIMIT="all")
        done = timed(
            [str(BIN / "ansible-playbook"), "-i", str(INVENTORY), str(ROOT / "playbooks" / playbook), "-e", json.dumps(extra)],
            env=env,
        )
        found = sorted(reports.glob("*.json"))
        report = json.loads(found[-1].read_text()) if found else {}
        if done.rc != 0 or report.get("verdict") != "PASS":
            raise SystemExit(f"noop_week: {playbook} in {self.namespace} did not pass:\n{done.output[-4000:]}")
        return done, report


def changed_count(output: str) -> int:
    recap = RECAP.search(output)
    if not recap:
        raise SystemExit(f"noop_week: no play recap in the output:\n{output[-2000:]}")
    return int(recap.group(1))


def export_objects(namespace: str, path: Path) -> list[str]:
    """The week's objects as a manifest to apply again: what the server keeps for itself removed."""
    items = json.loads(kubectl("get", KINDS, "-n", namespace, "-o", "json").stdout)["items"]
    documents = []
    for item in items:
        item.pop("status", None)
        meta = item["metadata"]
        for key in SERVER_FIELDS:
            meta.pop(key, None)
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in SERVER_ANNOTATIONS}
        meta["annotations"] = annotations
        documents.append(item)
    path.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    return [f"{d['kind']}/{d['metadata']['name']}" for d in documents]


def row_b(manifest: Path) -> Timed:
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    done = timed(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            str(HERE / "apply_wait.yml"),
            "-e",
            json.dumps({"noop_manifest": str(manifest), "noop_kubeconfig": str(KUBECONFIG)}),
        ],
        env=env,
    )
    if done.rc != 0:
        raise SystemExit(f"noop_week: apply_wait.yml failed:\n{done.output[-3000:]}")
    return done


def row_c(manifest: Path, namespace: str, deployments: list[str]) -> Timed:
    base = [str(KUBECTL), "--kubeconfig", str(KUBECONFIG), "-n", namespace]
    apply = timed([*base, "apply", "--server-side", "--force-conflicts", "-f", str(manifest)])
    if apply.rc != 0:
        raise SystemExit(f"noop_week: kubectl apply failed:\n{apply.output}")
    total = Timed(apply.wall, apply.cpu, 0, apply.output)
    for name in deployments:
        status = timed([*base, "rollout", "status", f"deployment/{name}", "--timeout=120s"])
        if status.rc != 0:
            raise SystemExit(f"noop_week: kubectl rollout status {name} failed:\n{status.output}")
        total = Timed(total.wall + status.wall, total.cpu + status.cpu, 0, total.output + status.output)
    return total


def waiting_seconds(output: str) -> float:
    """Seconds of the gate's, the analysis' and the smoke test's tasks in a profile_tasks listing."""
    return sum(float(seconds) for name, seconds in TASK_TIME.findall(output) if WAITING_TASK.match(name.strip()))


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3, help="rounds of rows a-c (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the namespaces (for a look afterwards)")
    args = parser.parse_args()
    benchkit.require_real_node("noop_week")
    run_id = uuid.uuid4().hex[:8]
    repository = f"vextrus-bench/{run_id}/finance"
    namespaces = [f"bench-noop-{run_id}", f"bench-week1-{run_id}"]
    rows: dict[str, list[Timed]] = {"a": [], "b": [], "c": []}
    try:
        with tempfile.TemporaryDirectory(prefix="noop-week-") as tmp_name:
            tmp = Path(tmp_name)
            chain = Chain(namespaces[0], tmp / "noop", repository)
            for week in (1, 2, 3, 4):
                log(f"week {week} in {chain.namespace} (setting up) ...")
                done, _ = chain.run(f"week{week}.yml")
                log(f"week {week}: {done.wall:.1f} s")
            manifest = tmp / "objects.yaml"
            objects = export_objects(chain.namespace, manifest)
            deployments = [o.split("/", 1)[1] for o in objects if o.startswith("Deployment/")]
            log(f"objects week 4 leaves: {', '.join(objects)}")
            for round_no in range(1, args.runs + 1):
                done, report = chain.run("week4.yml")
                changed = changed_count(done.output)
                if changed:
                    raise SystemExit(f"noop_week: week 4 again changed {changed} things:\n{done.output[-3000:]}")
                rows["a"].append(done)
                rows["b"].append(row_b(manifest))
                rows["c"].append(row_c(manifest, chain.namespace, deployments))
                log(
                    f"round {round_no}: week4 again {done.wall:.1f} s ({report['verdict']}, changed=0), "
                    f"k8s apply+wait {rows['b'][-1].wall:.1f} s, kubectl {rows['c'][-1].wall:.2f} s"
                )
            log(f"week 1 in {namespaces[1]}, image already in the registry ...")
            fresh = Chain(namespaces[1], tmp / "week1", repository)
            week1, _ = fresh.run("week1.yml", profile=True)
            # only a week 1 that built the image verifies it
            if "passed runtime verification" in week1.output:
                log("note: week 1 built an image; the row is not 'image already in the registry'")
            waiting = waiting_seconds(week1.output)
    finally:
        if not args.keep:
            for namespace in namespaces:
                kubectl("delete", "namespace", namespace, "--wait=false", "--ignore-not-found", check=False)

    def figures(key: str) -> dict[str, float]:
        return {"wall": median([t.wall for t in rows[key]]), "cpu": median([t.cpu for t in rows[key]])}

    a, b, c = figures("a"), figures("b"), figures("c")
    week1_own = week1.wall - waiting
    print(f"objects: {', '.join(objects)} ({args.runs} rounds, median)")
    print(f"{'':58} {'wall':>8} {'cpu':>8}")
    print(f"{'(a) playbooks/week4.yml again, nothing to change':58} {a['wall']:7.2f}s {a['cpu']:7.2f}s")
    print(f"{'(b) kubernetes.core.k8s apply + wait: true, one playbook':58} {b['wall']:7.2f}s {b['cpu']:7.2f}s")
    print(f"{'(c) kubectl apply --server-side + rollout status':58} {c['wall']:7.2f}s {c['cpu']:7.2f}s")
    print(f"{'(d) week 1, image in the registry: whole run':58} {week1.wall:7.2f}s {week1.cpu:7.2f}s")
    print(f"{'    less the gate, analysis and smoke test (waiting)':58} {week1_own:7.2f}s")
    print(
        f"goals: (a) <= {GOAL_NOOP:.0f} s: {'met' if a['wall'] <= GOAL_NOOP else 'NOT met'}; "
        f"(a)/(b) = {a['wall'] / b['wall']:.1f} <= {GOAL_RATIO:.0f}: {'met' if a['wall'] <= GOAL_RATIO * b['wall'] else 'NOT met'}; "
        f"(d) <= {GOAL_WEEK1:.0f} s: {'met' if week1_own <= GOAL_WEEK1 else 'NOT met'}"
    )
    print("baseline (issue 12, before the run plan): (a) 60 s wall / 54 s CPU, (b) 2.3 s, (c) 0.27 s")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "objects": objects,
                    "rows": {k: [asdict(t) | {"output": ""} for t in v] for k, v in rows.items()},
                    "median": {"a": a, "b": b, "c": c},
                    "week1": {"wall": week1.wall, "cpu": week1.cpu, "waiting": waiting},
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
