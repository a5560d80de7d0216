"""Seconds per week at the production profile's numbers, on the local cluster's simulated (kwok) nodes:
weeks 1-4 of one release at 10 pods (HPAs 10..25, PDB 70 %) and at 25 pods (25..25), each gated by the
chain's rollout gate as any week. kwok plays each pod's life (scheduled, running, ready a moment later),
so the figures are the chain's and the control plane's own, not an image's start-up.

Per week it prints the whole week's wall seconds, the gate's own seconds (from the report) and the time
from the last new pod becoming Ready (its Ready condition) to the end of the run: an upper bound of how
long the gate took to give its verdict once every pod was ready. Goals (issue 15): the verdict within
60 s of the last pod becoming ready; the whole week <= 2 min.

Simulated pods answer nothing, so the smoke test of these weeks asks a real instance of the same image
on the real node (week 1 in a namespace of its own; its Service's ClusterIP as deploy_base_url, the
same local vault so the same JWT key). That is what the bench needs of it: a smoke test that passes in
its usual time. Every namespace is the bench's own (deleted afterwards). Run through run.sh.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchkit  # the bench folder's shared helpers (bench/benchkit.py)

REPOSITORY = "vextrus-bench/finance"
SERVICE = "finance-service"
GOAL_LAG, GOAL_WEEK = 60.0, 120.0
KWOK = {"deploy_node_selector": {"type": "kwok"}, "deploy_tolerations": [], "rollout_analysis_enabled": False,
        "deploy_pdb_min_available": "70%"}


def log(msg: str) -> None:
    print(f"week_scale: {msg}", file=sys.stderr, flush=True)


@dataclass
class Row:
    pods: int
    week: int
    verdict: str
    week_seconds: float
    gate_seconds: float
    ready_to_end: float
    track_pods: int


def _time(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def _last_ready(namespace: str, track: str) -> tuple[float, int]:
    """The latest Ready transition among the track's pods, and how many there are (those still terminating too)."""
    pods = json.loads(benchkit.kubectl("week_scale", "get", "pods", "-n", namespace, "-o", "json",
                                       "-l", f"app.kubernetes.io/name={SERVICE},vextrus.io/track={track}").stdout)["items"]
    times = [_time(c["lastTransitionTime"]) for p in pods for c in p["status"].get("conditions") or []
             if c["type"] == "Ready" and c["status"] == "True"]
    return (max(times) if times else 0.0), len(pods)


def weeks(pods: int, base_url: str, image: str, work: Path) -> list[Row]:
    namespace = f"vx-bench-scale-{pods}-{uuid.uuid4().hex[:6]}"
    profile = {**KWOK, "deploy_replicas": pods, "deploy_hpa_min": pods, "deploy_hpa_max": max(25, pods),
               "deploy_base_url": base_url}
    rows = []
    try:
        for week in (1, 2, 3, 4):
            extra = {**profile, "rollout_image": image} if week == 1 else profile
            report, seconds, said = benchkit.run_week(week, namespace, work, extra, REPOSITORY)
            if not report or report["verdict"] != "PASS":
                raise SystemExit(f"week_scale: week {week} at {pods} pods did not pass in {namespace}: {said}")
            track = "stable" if week == 4 else "canary"
            ready, count = _last_ready(namespace, track)
            rows.append(Row(pods, week, report["verdict"], round(seconds, 1), float(report["gate"]["elapsed"]),
                            round(_time(report["finished"]) - ready, 1) if ready else -1.0, count))
            log(f"{pods} pods, week {week}: {seconds:.1f} s, gate {report['gate']['elapsed']} s")
    finally:
        benchkit.kubectl("week_scale", "delete", "namespace", namespace, "--wait=false", check=False)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    benchkit.require_real_node("week_scale")
    real = f"vx-bench-scale-real-{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory(prefix="week-scale-") as tmp:
        work = Path(tmp)
        try:
            log(f"a real instance for the smoke test: week 1 in {real} (builds the example unless the registry has it)")
            report, _seconds, said = benchkit.run_week(1, real, work, {"rollout_image": "", "rollout_analysis_enabled": False},
                                                       REPOSITORY)
            if not report or report["verdict"] != "PASS":
                raise SystemExit(f"week_scale: the real instance's week 1 did not pass: {said}")
            service = json.loads(benchkit.kubectl("week_scale", "get", "service", SERVICE, "-n", real, "-o", "json").stdout)
            base_url = f"http://{service['spec']['clusterIP']}:{service['spec']['ports'][0]['port']}"
            rows = weeks(10, base_url, report["image"], work) + weeks(25, base_url, report["image"], work)
        finally:
            benchkit.kubectl("week_scale", "delete", "namespace", real, "--wait=false", check=False)

    print()
    print("Weeks 1-4 at the production profile's numbers on simulated nodes (PDB 70 %, HPAs from 10 or 25 pods)")
    print()
    print("| pods | week | verdict | whole week | gate | last pod ready -> end of run | pods of the track |")
    print("| ---- | ---- | ------- | ---------- | ---- | ---------------------------- | ----------------- |")
    for r in rows:
        print(f"| {r.pods:4d} | {r.week:4d} | {r.verdict:7} | {r.week_seconds:8.1f} s | {r.gate_seconds:4.1f} s "
              f"| {r.ready_to_end:26.1f} s | {r.track_pods:17d} |")
    lag, whole = max(r.ready_to_end for r in rows), max(r.week_seconds for r in rows)
    print()
    print(f"goals: verdict within {GOAL_LAG:.0f} s of the last pod ready: {'met' if lag <= GOAL_LAG else 'NOT met'} "
          f"(at most {lag:.1f} s, an upper bound); whole week <= {GOAL_WEEK:.0f} s: "
          f"{'met' if whole <= GOAL_WEEK else 'NOT met'} (at most {whole:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
