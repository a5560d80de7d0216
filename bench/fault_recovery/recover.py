"""Faults during a week and what the chain makes of them: for each fault, the verdict class the run ends
with, the seconds to that verdict, and the count of the service's objects left different from the
intended state (goal 0 for every row).

  apiserver restart in gate    week 1; kube-apiserver stopped for 8 s while the gate waits for pods
  apiserver restart in apply   week 1; the same, right as the apply starts (the HPA exists)
  registry down in push        week 1 that builds; the registry stopped once the image build starts
  node lost in week 2          week 2 moves the pods to a node of the bench's own whose kubelet dies once
                               a pod is bound to it (the node lifecycle controller marks it Unknown)
  SIGKILL mid-apply            week 2 killed right after its HPA apply; the next week 2 (after the
                               lease's TTL) is the run measured
  concurrent run               two week 2 runs started together; the one refused is the run measured

The intended state: after a PASS, what the week's inputs ask for - the objects a second run of the same
week would change (its report's resources marked changed) plus Deployments not fully ready; after FAIL
or ERROR, the state before the run (each object of the service compared by content, as the integration
tests do). The baseline printed beside each row is what the row is measured against: the expected class
and 0 objects.

Everything runs on the local cluster (make cluster-up) in namespaces of its own, deleted afterwards,
with images in a registry repository of its own. Run through run.sh; about 15 minutes on 2 idle cores.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BENCH_ID = uuid.uuid4().hex[:8]
# the integration kits (run_week, the namespace's objects) read the repository from the environment
os.environ.setdefault("VEXTRUS_TEST_REPOSITORY", f"vextrus-bench/{BENCH_ID}/finance")
sys.path[:0] = [str(HERE.parent), str(ROOT / "tests" / "integration"), str(ROOT / "tests" / "integration" / "chain")]

import benchkit  # the bench folder's shared helpers (bench/benchkit.py)
from chainkit import REAL_NODE, SERVICE, differences, read_or_none, run_week, service_objects, start_week
from clusterkit import delete_namespace, dying_node, pods_on
from kubernetes import client, config

WHO = "fault_recovery"
DOWN_SECONDS = "8"
STARTUP_DELAY_MS = "45000"
LEASE_TTL = 20


@dataclass
class Row:
    fault: str
    expected: str
    verdict: str = "-"
    cause: str = "-"
    seconds: float | None = None
    different: int | None = None
    note: str = ""


def log(msg: str) -> None:
    print(f"[{WHO}] {msg}", file=sys.stderr, flush=True)


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.vault = work / "vault"
        self.vault.mkdir()
        self.api = config.new_client_from_config(str(benchkit.KUBECONFIG))
        self.namespaces: list[str] = []
        self.image = ""

    def namespace(self, label: str) -> str:
        self.namespaces.append(f"bench-fault-{label}-{BENCH_ID}")
        return self.namespaces[-1]

    def week(self, week: int, ns: str, label: str, extra: dict[str, Any] | None = None):
        values = {**REAL_NODE, "rollout_image": self.image, "rollout_lease_ttl": LEASE_TTL, **(extra or {})}
        return run_week(week, ns, self.work / f"{label}-{uuid.uuid4().hex[:6]}", self.vault, values)

    def week1(self, ns: str, label: str) -> None:
        """Week 1 in ns, which must pass: the state a row's fault starts from."""
        first = self.week(1, ns, f"{label}-week1")
        if first.rc != 0:
            raise SystemExit(f"{WHO}: week 1 of the {label} row failed:\n{first.tail()}")

    def left_after_pass(self, week: int, ns: str, extra: dict[str, Any] | None = None) -> int:
        """Objects a second run of the same week changes, plus Deployments not fully ready."""
        again = self.week(week, ns, "again", extra)
        changed = [r for r in (again.report or {}).get("resources") or [] if r.get("changed")]
        apps = client.AppsV1Api(self.api)
        unready = [d.metadata.name for d in apps.list_namespaced_deployment(ns).items
                   if (d.status.ready_replicas or 0) != d.spec.replicas]
        if again.rc != 0:
            log(f"the second run of week {week} in {ns} ended rc={again.rc}:\n{again.tail()}")
        return len(changed) + len(unready) + (0 if again.rc == 0 else 1)

    def cleanup(self) -> None:
        for ns in self.namespaces:
            delete_namespace(self.api, ns)


def _outcome(row: Row, run: Any) -> None:
    report = run.report or {}
    row.verdict = report.get("verdict") or {0: "PASS", 2: "FAIL", 4: "ERROR"}.get(run.rc, f"rc {run.rc}")
    row.cause = report.get("cause") or ("-" if row.verdict == "PASS" else "(no report)")
    row.seconds = round(run.seconds, 1)


def _while_running(target: Callable[[], Any], moment: Callable[[], bool], fault: Callable[[], None]) -> Any:
    """Runs target in a thread and fault() once moment() is true (polled every 0.2 s); target's result."""
    done: list[Any] = []
    thread = threading.Thread(target=lambda: done.append(target()), daemon=True)
    thread.start()
    deadline = time.monotonic() + 600
    while thread.is_alive() and not moment():
        if time.monotonic() > deadline:
            raise SystemExit(f"{WHO}: the moment for the fault did not come within 600 s")
        time.sleep(0.2)
    if thread.is_alive():
        fault()
    else:
        log("the run ended before the fault could be injected")
    thread.join(timeout=1500)
    return done[0]


def _apiserver(action: str, *args: str) -> None:
    subprocess.run(["bash", str(ROOT / "localcluster" / "apiserver.sh"), action, *args], check=True,
                   capture_output=True, text=True, timeout=240)


def _registry(action: str) -> None:
    subprocess.run(["bash", str(ROOT / "localcluster" / "infra" / "registry.sh"), action], check=True,
                   capture_output=True, text=True, timeout=120)


def _exists(read: Callable[[], Any]) -> bool:
    return read_or_none(read) is not None


def apiserver_in_gate(bench: Bench) -> Row:
    row = Row("apiserver restart in gate", "PASS")
    ns = bench.namespace("gate")
    extra = {"resource_apply_env": [{"name": "STARTUP_DELAY_MS", "value": STARTUP_DELAY_MS}]}
    networking = client.NetworkingV1Api(bench.api)
    seen: dict[str, float] = {}

    def gate_waiting() -> bool:
        if "at" not in seen:
            if _exists(lambda: networking.read_namespaced_network_policy(SERVICE, ns)):
                seen["at"] = time.monotonic()
            return False
        return time.monotonic() - seen["at"] > 6

    try:
        run = _while_running(lambda: bench.week(1, ns, "gate", extra), gate_waiting,
                             lambda: _apiserver("restart", DOWN_SECONDS))
    finally:
        _apiserver("start")
    _outcome(row, run)
    outages = ((run.report or {}).get("gate") or {}).get("api_outages") or []
    row.note = f"gate saw {len(outages)} outage(s)"
    row.different = bench.left_after_pass(1, ns, extra)
    return row


def apiserver_in_apply(bench: Bench) -> Row:
    row = Row("apiserver restart in apply", "PASS")
    ns = bench.namespace("apply")
    autoscaling = client.AutoscalingV2Api(bench.api)
    try:
        run = _while_running(lambda: bench.week(1, ns, "apply"),
                             lambda: _exists(lambda: autoscaling.read_namespaced_horizontal_pod_autoscaler(SERVICE, ns)),
                             lambda: _apiserver("restart", DOWN_SECONDS))
    finally:
        _apiserver("start")
    _outcome(row, run)
    row.note = f"{run.output.count('FAILED - RETRYING')} retried task attempt(s)"
    row.different = bench.left_after_pass(1, ns)
    return row


def registry_in_push(bench: Bench) -> Row:
    row = Row("registry down in push", "ERROR (build)")
    ns = bench.namespace("registry")
    report_dir = bench.work / "registry-week1"
    # a repository of its own: the week really builds (no image with that content is there yet)
    extra = {**REAL_NODE, "rollout_image": "", "deploy_repository": f"vextrus-bench/{BENCH_ID}/registry-down"}
    proc = start_week(1, ns, report_dir, bench.vault, extra)
    output = report_dir / "output.txt"
    started = time.monotonic()
    try:
        while proc.poll() is None and "image_build : Build the image with the content tag" not in output.read_text():
            time.sleep(0.2)
        if proc.poll() is None:
            _registry("down")
        proc.wait(timeout=1200)
    finally:
        _registry("up")
    seconds = time.monotonic() - started
    reports = sorted(report_dir.glob("*.json"))
    report = json.loads(reports[0].read_text()) if reports else {}
    row.verdict = report.get("verdict") or {0: "PASS", 2: "FAIL", 4: "ERROR"}.get(proc.returncode, f"rc {proc.returncode}")
    row.cause = report.get("cause") or "-"
    row.seconds = round(seconds, 1)
    after = service_objects(bench.api, ns)
    row.different = sum(1 for value in after.values() if value is not None)
    row.note = "nothing of the service existed before the run"
    return row


def node_lost(bench: Bench) -> Row:
    row = Row("node lost in week 2", "ERROR (node-lost)")
    ns = bench.namespace("node")
    bench.week1(ns, "node")
    before = service_objects(bench.api, ns)
    with dying_node(bench.api) as node:
        extra = {"deploy_node_selector": node["selector"], "deploy_tolerations": [node["toleration"]]}
        run = _while_running(lambda: bench.week(2, ns, "node", extra), lambda: bool(pods_on(bench.api, ns, node["name"])),
                             node["stop"].set)
    _outcome(row, run)
    gate = (run.report or {}).get("gate") or {}
    row.note = f"gate: {gate.get('reason', '-')} after {gate.get('elapsed', '-')} s (the node controller's grace ~50 s)"
    row.different = len(differences(before, service_objects(bench.api, ns)))
    return row


def sigkill_mid_apply(bench: Bench) -> Row:
    row = Row("SIGKILL mid-apply", "PASS (interrupted run recorded)")
    ns = bench.namespace("kill")
    bench.week1(ns, "kill")
    autoscaling = client.AutoscalingV2Api(bench.api)
    before = autoscaling.read_namespaced_horizontal_pod_autoscaler(SERVICE, ns).spec.max_replicas
    proc = start_week(2, ns, bench.work / "kill-week2", bench.vault,
                      {**REAL_NODE, "rollout_image": bench.image, "rollout_lease_ttl": LEASE_TTL, "deploy_hpa_max": 12})
    while proc.poll() is None and autoscaling.read_namespaced_horizontal_pod_autoscaler(SERVICE, ns).spec.max_replicas == before:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(LEASE_TTL + 2)
    run = bench.week(2, ns, "kill-again")
    _outcome(row, run)
    interrupted = (run.report or {}).get("interrupted") or {}
    row.note = ("interrupted run found, restored: " + ", ".join(((interrupted.get("rollback") or {}).get("objects_restored")) or [])
                if interrupted else "the interrupted run was NOT found")
    row.different = bench.left_after_pass(2, ns)
    return row


def concurrent_run(bench: Bench) -> Row:
    row = Row("concurrent run", "ERROR (lock-held), nothing written")
    ns = bench.namespace("concurrent")
    bench.week1(ns, "concurrent")
    runs: list[Any] = []
    threads = [threading.Thread(target=lambda: runs.append(bench.week(2, ns, "concurrent")), daemon=True) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=1500)
    refused = [r for r in runs if r.rc != 0]
    passed = [r for r in runs if r.rc == 0]
    if len(refused) != 1 or len(passed) != 1:
        row.note = f"expected one PASS and one refusal, got exit codes {[r.rc for r in runs]}"
        return row
    _outcome(row, refused[0])
    row.cause = "lock-held" if "run lock held" in refused[0].output else row.cause
    row.note = f"the other run: {passed[0].report['verdict'] if passed[0].report else 'no report'} in {passed[0].seconds:.0f} s"
    row.different = bench.left_after_pass(2, ns)
    return row


ROWS: dict[str, Callable[[Bench], Row]] = {
    "gate": apiserver_in_gate,
    "apply": apiserver_in_apply,
    "registry": registry_in_push,
    "node": node_lost,
    "kill": sigkill_mid_apply,
    "concurrent": concurrent_run,
}


def build_image(bench: Bench) -> str:
    """Week 1 without an image in a namespace of its own: the example built, verified and pushed."""
    ns = bench.namespace("image")
    run = run_week(1, ns, bench.work / "image", bench.vault, {**REAL_NODE, "rollout_image": ""})
    if run.rc != 0 or not run.report:
        raise SystemExit(f"{WHO}: building the example failed:\n{run.tail()}")
    return run.report["image"]


def table(rows: list[Row]) -> str:
    lines = ["| fault | verdict (cause) | seconds to verdict | objects left different | baseline: expected, objects | note |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        seconds = "-" if r.seconds is None else f"{r.seconds:.1f}"
        different = "-" if r.different is None else str(r.different)
        lines.append(f"| {r.fault} | {r.verdict} ({r.cause}) | {seconds} | {different} | {r.expected}, 0 | {r.note} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default=",".join(ROWS), help=f"comma-separated rows ({', '.join(ROWS)})")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    args = parser.parse_args()
    benchkit.require_real_node(WHO)
    wanted = [name.strip() for name in args.rows.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in ROWS]
    if unknown:
        raise SystemExit(f"{WHO}: unknown rows {unknown}; choose from {', '.join(ROWS)}")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-fault-") as tmp:
        bench = Bench(Path(tmp))
        rows: list[Row] = []
        try:
            bench.image = build_image(bench)
            for name in wanted:
                log(f"row {name} ...")
                rows.append(ROWS[name](bench))
                log(f"row {name}: {asdict(rows[-1])}")
        finally:
            bench.cleanup()
    print(f"fault recovery, local cluster, load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))


if __name__ == "__main__":
    main()
