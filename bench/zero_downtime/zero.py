"""Requests lost while the chain changes pods: constant load (vegeta, keep-alive connections, an API call
and /health) through the Service's ClusterIP on the local cluster's real node, across every transition
the chain makes:

  release A: week 1 (the install, not measured: there is no Service before it), week 2, week 3, week 4
  release B: week 1 (a canary beside A), week 2, abort (stable grows back to 5 pods, then the canary goes)
  release C: week 1 - week 4, then rollback (A again)
  release D, which adds 800 ms to every API request: week 1 fails on the traffic analysis and is rolled
  back automatically

One load per transition; per transition it prints the verdict, the playbook's wall seconds, requests,
answers that were not 2xx/3xx, requests with no answer at all (refused, reset, timed out), p50/p99 and
the fewest ready pods of the service seen meanwhile (its PodDisruptionBudget: 50 % of 5, so 3).
Goal: 0 failed requests in every transition. The namespace is its own (deleted afterwards). Run through
run.sh.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kubernetes import client, config

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchkit  # the bench folder's shared helpers (bench/benchkit.py)
import transitions  # this folder's load-through-a-transition helpers

REPOSITORY = "vextrus-bench/finance"
# CPU enough that the HPA (target 65 %) does not have to chase this load; the HPA's own test is elsewhere
RESOURCES = {"requests": {"cpu": "100m", "memory": "96Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}
# 5 pods, so that every week changes the split (4+1, 3+2, 2+3, 5+0); the local profile's 2 stay 1+1 until week 4.
# The traffic analysis only where a release is to fail on it (it sends load of its own and takes ~16 s).
QUIET = {"rollout_analysis_enabled": False, "resource_apply_resources": RESOURCES,
         "deploy_replicas": 5, "deploy_hpa_min": 5, "deploy_hpa_max": 10}


def log(msg: str) -> None:
    print(f"zero_downtime: {msg}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=30, help="requests a second (default 30)")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    parser.add_argument("--keep", action="store_true", help="leave the namespace for a look afterwards")
    args = parser.parse_args()
    benchkit.require_real_node("zero_downtime")
    vegeta = shutil.which("vegeta", path=str(benchkit.KUBECTL.parent))
    if not vegeta:
        raise SystemExit(f"zero_downtime: no vegeta in {benchkit.KUBECTL.parent}; run `make cluster-up`")
    api = config.new_client_from_config(config_file=str(benchkit.KUBECONFIG))
    namespace = f"vx-bench-zero-{uuid.uuid4().hex[:6]}"
    rows: list[transitions.Transition] = []
    with tempfile.TemporaryDirectory(prefix="zero-downtime-") as tmp:
        work = Path(tmp)

        def playbook(number: int, extra: dict[str, Any], name: str = "") -> tuple[dict[str, Any] | None, float]:
            report, seconds, said = benchkit.run_week(number, namespace, work, {**QUIET, **extra}, REPOSITORY, playbook=name)
            log(f"{name or f'week {number}'}: {(report or {}).get('verdict')} in {seconds:.1f} s ({said[-160:]})")
            return report, seconds

        try:
            log(f"release A, week 1 in {namespace} (builds the example service unless the registry has it)")
            report, _ = playbook(1, {"rollout_image": ""})
            if not report or report["verdict"] != "PASS":
                raise SystemExit("zero_downtime: release A's week 1 did not pass")
            a = report["image"]
            b, c = (benchkit.another_release("zero_downtime", a, label) for label in ("b", "c"))
            d = benchkit.fault_image("zero_downtime", a, "latency-800ms")
            spec = transitions.load_spec(api, namespace, args.rate, vegeta)

            def measure(name: str, number: int, extra: dict[str, Any], book: str = "", verdict: str = "PASS") -> None:
                row = transitions.under_load(name, spec, lambda: playbook(number, extra, book),
                                             transitions.ReadyWatch(api, namespace))
                rows.append(row)
                if row.verdict != verdict:
                    raise SystemExit(f"zero_downtime: {name} ended {row.verdict}, expected {verdict}; "
                                     f"see --keep and the namespace {namespace}\n{transitions.table(rows)}")

            for week in (2, 3, 4):
                measure(f"A week {week - 1} -> {week}", week, {})
            measure("B week 1 (canary beside A)", 1, {"rollout_image": b})
            measure("B week 2", 2, {})
            measure("B abort at week 2 (canary removed)", 0, {}, "abort.yml")
            measure("C week 1", 1, {"rollout_image": c})
            for week in (2, 3, 4):
                measure(f"C week {week - 1} -> {week}", week, {})
            measure("rollback C -> A", 0, {}, "rollback.yml")
            measure("D week 1 fails (p99), rolled back", 1,
                    {"rollout_image": d, "rollout_analysis_enabled": True}, verdict="FAIL")
        finally:
            if not args.keep:
                benchkit.kubectl("zero_downtime", "delete", "namespace", namespace, "--wait=false", check=False)

    print()
    print(f"Requests through each transition of the chain: {args.rate}/s, keep-alive, through the Service's ClusterIP")
    print()
    print(transitions.table(rows))
    lost = sum(r.non_2xx for r in rows)
    print()
    print(f"goal: 0 failed requests in every transition: {'met' if lost == 0 else f'NOT met ({lost} failed)'}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
