"""Time to detect a release that fails one API request in ten: the example service with the fault fixture
tests/fixtures/faults/errors-10pct.js (its /health answers 200, so its pods run, become ready and pass
the smoke test), rolled out as week 2 after a good week 1, by the chain on the local cluster's real node:

  (d) the chain with the traffic analysis (the local inventory's settings: load through the Service,
      a 10 s window, 3 rounds 3 s apart after 12 s)
  (e) the chain with the smoke test alone (rollout_analysis_enabled: false)

Figures per row: seconds from the apply to the verdict (the rollout gate's and the analysis' own time,
from the report), the whole week's wall time (planning, apply, gate, analysis or smoke test, rollback),
and the verdict. Each row has its own namespaces (deleted afterwards). Goal: (d) FAIL within 60 s of the
apply; (e) does not catch it. Run through run_analysis.sh.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchkit  # the bench folder's shared helpers (bench/benchkit.py)

FAULT = "errors-10pct"
REPOSITORY = "vextrus-bench/finance"
GOAL_SECONDS = 60


def log(msg: str) -> None:
    print(f"time_to_detect: {msg}", file=sys.stderr, flush=True)


@dataclass
class Row:
    method: str
    verdict: str
    apply_to_verdict: float
    week_seconds: float
    said: str


def measure(method: str, analysis: bool, good: str, faulty: str, work: Path) -> Row:
    namespace = f"vx-bench-ttd-{'analysis' if analysis else 'smoke'}-{uuid.uuid4().hex[:6]}"
    real_node = {"rollout_analysis_enabled": analysis,
                 "resource_apply_resources": {"requests": {"cpu": "50m", "memory": "96Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}}
    try:
        report, _seconds, said = benchkit.run_week(1, namespace, work, {**real_node, "rollout_image": good}, REPOSITORY)
        if not report or report["verdict"] != "PASS":
            raise SystemExit(f"time_to_detect: week 1 of the good image did not pass in {namespace}: {said}")
        log(f"{method}: week 2 of {faulty} in {namespace}")
        report, seconds, said = benchkit.run_week(2, namespace, work, {**real_node, "rollout_image": faulty, "rollout_force": True}, REPOSITORY)
        if not report:
            raise SystemExit(f"time_to_detect: week 2 wrote no report: {said}")
        gate = float((report.get("gate") or {}).get("elapsed") or 0)
        judged = float((report.get("analysis") or {}).get("elapsed") or 0) if analysis else 0.0
        return Row(method, report["verdict"], gate + judged, seconds, report["reason"])
    finally:
        benchkit.kubectl("time_to_detect", "delete", "namespace", namespace, "--wait=false", check=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    benchkit.require_real_node("time_to_detect")
    with tempfile.TemporaryDirectory(prefix="time-to-detect-analysis-") as tmp:
        work = Path(tmp)
        build_ns = f"vx-bench-ttd-build-{uuid.uuid4().hex[:6]}"
        log(f"building the example service with the chain (week 1 in {build_ns})")
        try:
            report, _seconds, said = benchkit.run_week(1, build_ns, work, {"rollout_image": "", "rollout_analysis_enabled": False}, REPOSITORY)
        finally:
            benchkit.kubectl("time_to_detect", "delete", "namespace", build_ns, "--wait=false", check=False)
        if not report or report["verdict"] != "PASS":
            raise SystemExit(f"time_to_detect: the example service's week 1 did not pass: {said}")
        good = report["image"]
        faulty = benchkit.fault_image("time_to_detect", good, FAULT)
        log(f"good image {good}; with the fault {FAULT}: {faulty}")
        rows = [measure("(d) the chain, traffic analysis", True, good, faulty, work),
                measure("(e) the chain, smoke test alone", False, good, faulty, work)]

    print()
    print(f"Time to detect a release failing 1 API request in 10 ({FAULT}): week 2 of {faulty}")
    print("seconds from the apply to the verdict (the gate's and the analysis' own time), and the whole week")
    print()
    width = max(len(r.method) for r in rows)
    print(f"| {'method'.ljust(width)} | verdict | apply to verdict | whole week | what it said")
    print(f"| {'-' * width} | ------- | ---------------- | ---------- | ------------")
    for r in rows:
        said = r.said if len(r.said) <= 140 else r.said[:137] + "..."
        when = f"{r.apply_to_verdict:.1f} s" if r.verdict != "PASS" else "not detected"
        print(f"| {r.method.ljust(width)} | {r.verdict.ljust(7)} | {when.ljust(16)} | "
              f"{f'{r.week_seconds:.1f} s'.ljust(10)} | {said}")
    detected, smoke = rows
    print()
    print(f"(d) {'FAILED' if detected.verdict == 'FAIL' else 'did NOT fail'} the release {detected.apply_to_verdict:.1f} s after "
          f"the apply (goal <= {GOAL_SECONDS} s: {'met' if detected.verdict == 'FAIL' and detected.apply_to_verdict <= GOAL_SECONDS else 'NOT met'}); "
          f"(e) {'passed it: the smoke test alone does not catch it' if smoke.verdict == 'PASS' else 'ended ' + smoke.verdict}.")
    if args.json:
        args.json.write_text(json.dumps({"good": good, "faulty": faulty, "rows": [asdict(r) for r in rows]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
