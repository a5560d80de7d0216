"""Time to detect a broken rollout: the seed's image (Cannot find module '@nestjs/core') applied as a
plain Deployment on the real node, watched by three tools side by side, in seconds from the apply
to the tool's failure verdict:

  (a) vextrus.deploy.rollout_gate (gate.yml)
  (b) kubectl rollout status --timeout=10m   (fails at progressDeadlineSeconds, 600 s here: capped)
  (c) kubernetes.core.k8s with wait: true at its defaults (k8s_wait.yml; wait_timeout 120 s)

Each tool gets its own fresh namespace (deleted afterwards), so no tool sees the crashes another
one already caused. Run through run.sh.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import docker
import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import benchkit  # the bench folder's shared helpers (bench/benchkit.py)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BIN = Path(sys.executable).parent
KUBECONFIG = benchkit.KUBECONFIG
KUBECTL = benchkit.KUBECTL
REGISTRY = "127.0.0.1:5000"
BROKEN_REPOSITORY = f"{REGISTRY}/vextrus-test/seed-broken"
BROKEN_TAG = "seed-broken"
WORKSPACE = ROOT / "examples" / "finance-service"
SEED_DOCKERFILE = ROOT / "tests" / "fixtures" / "seed-broken" / "Dockerfile"
DEPLOYMENT = "finance-broken"
PROGRESS_DEADLINE = 600  # the Kubernetes default
K8S_WAIT_TIMEOUT = 120  # kubernetes.core.k8s wait_timeout default


def log(msg: str) -> None:
    print(f"time_to_detect: {msg}", file=sys.stderr, flush=True)


@dataclass
class Result:
    method: str
    seconds: float
    capped: bool
    exit_code: int | None
    said: str
    ends_at: str = ""


def kubectl(*args: str, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    return benchkit.kubectl("time_to_detect", *args, input=input, check=check)


def preflight() -> None:
    benchkit.require_real_node("time_to_detect")
    try:
        requests.get(f"http://{REGISTRY}/v2/", timeout=5).raise_for_status()
    except requests.RequestException as exc:
        raise SystemExit(f"time_to_detect: the registry {REGISTRY} does not answer ({exc}); run `make cluster-up`")


def broken_image() -> str:
    """Build (cached) and push the seed's broken image; return it by digest."""
    engine = docker.from_env(timeout=900)
    try:
        log(f"building {BROKEN_REPOSITORY}:{BROKEN_TAG} from {SEED_DOCKERFILE.relative_to(ROOT)} (cached after the first run)")
        image, _ = engine.images.build(
            path=str(WORKSPACE),
            dockerfile=str(SEED_DOCKERFILE),
            buildargs={
                "BUILDER_IMAGE": f"{REGISTRY}/vextrus/node-build:20",
                "RUNTIME_IMAGE": f"{REGISTRY}/vextrus/node-runtime:20",
                "PNPM_VERSION": "10.34.8",
            },
            tag=f"{BROKEN_REPOSITORY}:{BROKEN_TAG}",
            rm=True,
            forcerm=True,
        )
        for line in engine.images.push(BROKEN_REPOSITORY, tag=BROKEN_TAG, stream=True, decode=True):
            if "error" in line:
                raise SystemExit(f"time_to_detect: push failed: {line['error']}")
        image.reload()
        digests = [d for d in image.attrs.get("RepoDigests") or [] if d.startswith(f"{BROKEN_REPOSITORY}@")]
        if not digests:
            raise SystemExit(f"time_to_detect: no digest for {BROKEN_REPOSITORY} after the push")
        return digests[0]
    except docker.errors.BuildError as exc:
        raise SystemExit(f"time_to_detect: the seed-broken image did not build: {exc}")
    finally:
        engine.close()


def manifest(namespace: str, image: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": DEPLOYMENT}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": DEPLOYMENT, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 2,
            "progressDeadlineSeconds": PROGRESS_DEADLINE,
            "selector": {"matchLabels": labels},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 3, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "nodeSelector": {"vextrus.io/node": "real"},
                    "tolerations": [{"key": "vextrus.io/real-node", "operator": "Exists", "effect": "NoSchedule"}],
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "containers": [
                        {
                            "name": "finance",
                            "image": image,
                            "ports": [{"name": "http", "containerPort": 3014}],
                            "env": [{"name": "PORT", "value": "3014"}],
                            "readinessProbe": {"httpGet": {"path": "/health/ready", "port": "http"}, "periodSeconds": 5},
                            "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}},
                        }
                    ],
                },
            },
        },
    }


def playbook_verdict(output: str) -> tuple[str, dict[str, Any]]:
    """The failed task's message and result, from the json stdout callback's output."""
    try:
        data = json.loads(output[output.index("{"):])
    except ValueError:
        lines = output.strip().splitlines()
        return (lines[-1] if lines else "no output"), {}
    for play in data.get("plays", []):
        for task in play.get("tasks", []):
            result = (task.get("hosts") or {}).get("localhost") or {}
            if result.get("failed"):
                return " ".join(str(result.get("msg", "")).split()), result
    return "reported success", {}


def gate_said(msg: str, result: dict[str, Any]) -> str:
    """The gate's reason and the first error line it quotes from the container's log."""
    quoted = re.search(r'log: "(.*?)"', msg)
    if result.get("reason"):
        return f"{result['reason']}, exit code {result.get('exit_code')}: " + (quoted.group(1) if quoted else msg)
    return msg


def run_playbook(playbook: str, extra: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    env = benchkit.ansible_env()
    env["ANSIBLE_STDOUT_CALLBACK"] = "ansible.posix.json"
    return subprocess.run(
        [str(BIN / "ansible-playbook"), str(HERE / playbook), "-e", json.dumps(extra)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def run_gate(namespace: str, path: Path) -> Result:
    started = time.monotonic()
    kubectl("apply", "-f", str(path))
    proc = run_playbook(
        "gate.yml", {"ttd_namespace": namespace, "ttd_deployment": DEPLOYMENT, "ttd_kubeconfig": str(KUBECONFIG)}
    )
    seconds = time.monotonic() - started
    msg, result = playbook_verdict(proc.stdout)
    said = gate_said(msg, result) if proc.returncode else "reported success"
    return Result("(a) vextrus.deploy.rollout_gate", seconds, False, proc.returncode, said)


def run_rollout_status(namespace: str, path: Path, cap: float) -> Result:
    started = time.monotonic()
    kubectl("apply", "-f", str(path))
    argv = [str(KUBECTL), "--kubeconfig", str(KUBECONFIG), "-n", namespace, "rollout", "status",
            f"deployment/{DEPLOYMENT}", "--timeout=10m"]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=max(1.0, cap - (time.monotonic() - started)))
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        last = out.strip().splitlines()[-1] if out.strip() else "(nothing)"
        return Result("(b) kubectl rollout status --timeout=10m", time.monotonic() - started, True, None,
                      f"still waiting: {last}", f"~{PROGRESS_DEADLINE} s (progressDeadlineSeconds)")
    seconds = time.monotonic() - started
    text = (proc.stderr or proc.stdout).strip().splitlines()
    return Result("(b) kubectl rollout status --timeout=10m", seconds, False, proc.returncode,
                  text[-1] if text else "", f"~{PROGRESS_DEADLINE} s (progressDeadlineSeconds)")


def run_k8s_wait(path: Path) -> Result:
    started = time.monotonic()
    proc = run_playbook("k8s_wait.yml", {"ttd_manifest": str(path), "ttd_kubeconfig": str(KUBECONFIG)})
    seconds = time.monotonic() - started
    said = playbook_verdict(proc.stdout)[0] if proc.returncode else "reported success"
    return Result("(c) kubernetes.core.k8s wait: true (defaults)", seconds, False, proc.returncode, said,
                  f"{K8S_WAIT_TIMEOUT} s (wait_timeout)")


def pod_evidence(namespace: str) -> str:
    pods = json.loads(kubectl("-n", namespace, "get", "pods", "-o", "json").stdout)["items"]
    states = []
    for pod in pods:
        for status in pod.get("status", {}).get("containerStatuses") or []:
            waiting = (status.get("state") or {}).get("waiting") or {}
            states.append(f"{waiting.get('reason') or next(iter(status.get('state') or {'?': 0}))}"
                          f" ({status.get('restartCount', 0)} restarts)")
    return ", ".join(states) or "no container status"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cap", type=float, default=180, help="seconds after which (b) is stopped (default 180)")
    parser.add_argument("--only", choices=["gate", "rollout-status", "k8s-wait"], action="append",
                        help="run only these methods (repeatable)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args()
    only = set(args.only or ["gate", "rollout-status", "k8s-wait"])

    preflight()
    image = broken_image()
    log(f"broken image: {image}")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="time-to-detect-") as tmp:
        for method in ("gate", "rollout-status", "k8s-wait"):
            if method not in only:
                continue
            namespace = f"vx-bench-ttd-{method}-{uuid.uuid4().hex[:6]}"
            path = Path(tmp) / f"{method}.json"
            path.write_text(json.dumps(manifest(namespace, image), indent=2))
            kubectl("create", "namespace", namespace)
            try:
                log(f"{method}: applying {DEPLOYMENT} in {namespace} and waiting for a verdict")
                if method == "gate":
                    result = run_gate(namespace, path)
                elif method == "rollout-status":
                    result = run_rollout_status(namespace, path, args.cap)
                else:
                    result = run_k8s_wait(path)
                evidence = pod_evidence(namespace)
                log(f"{method}: {result.seconds:.1f} s; pods at that moment: {evidence}")
                results.append(result)
            finally:
                kubectl("delete", "namespace", namespace, "--wait=false", check=False)

    print()
    print(f"Time to detect a broken rollout: {image}")
    print(f"plain Deployment, 2 replicas on the real node, progressDeadlineSeconds {PROGRESS_DEADLINE}; "
          f"seconds from the apply to a failure verdict")
    print()
    width = max(len(r.method) for r in results)
    print(f"| {'method'.ljust(width)} | verdict after      | would end at                      | what it said")
    print(f"| {'-' * width} | ------------------ | --------------------------------- | ------------")
    for r in results:
        when = f"> {args.cap:.0f} s (capped)" if r.capped else f"{r.seconds:.1f} s"
        said = r.said if len(r.said) <= 160 else r.said[:157] + "..."
        print(f"| {r.method.ljust(width)} | {when.ljust(18)} | {(r.ends_at or 'at the evidence').ljust(33)} | {said}")
    by = {r.method[:3]: r for r in results}
    gate = by.get("(a)")
    if gate and not gate.capped and gate.exit_code:
        print()
        for key, r in by.items():
            if key == "(a)":
                continue
            if r.capped:
                print(f"{r.method}: more than {args.cap / gate.seconds:.0f}x slower than the gate "
                      f"(capped at {args.cap:.0f} s; ends at {r.ends_at}: ~{PROGRESS_DEADLINE / gate.seconds:.0f}x)")
            else:
                print(f"{r.method}: {r.seconds / gate.seconds:.1f}x slower than the gate ({r.seconds:.1f} s vs {gate.seconds:.1f} s)")
    if "(c)" in by:
        print("kubernetes.core.k8s wait checks the Deployment's replica counts only, never container states: "
              "its message does not say why the pods fail.")
    if args.json:
        args.json.write_text(json.dumps({"image": image, "cap": args.cap, "results": [asdict(r) for r in results]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
