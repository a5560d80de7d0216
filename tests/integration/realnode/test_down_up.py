"""localcluster/node/down.sh leaves nothing of the node behind, and up.sh starts clean again,
twice in a row: no process, container, mount, network namespace, veth, bridge, iptables rule or
cgroup of the node survives a down, with pods (one with a hostPort, one behind a Service) running."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

from realnodekit import (
    NODE_NAME,
    ApplyPod,
    is_ready,
    leftovers,
    node_down,
    node_up,
    pod_when,
)

Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def _run_workload(
    apply_pod: ApplyPod, image: str, namespace: str, kubectl: Kubectl, wait: Callable[..., Any], cycle: int
) -> None:
    name = f"cycle-{cycle}"
    apply_pod(
        name,
        image,
        labels={"app": name},
        container={
            "ports": [
                {"containerPort": 8080, "hostPort": 18080 + cycle, "name": "http"},
            ]
        },
    )
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    kubectl("-n", namespace, "apply", "-f", "-", input=json.dumps(service))
    wait(
        pod_when(kubectl, namespace, name, is_ready),
        timeout=120,
        message=f"pod {name} Ready",
    )


def test_down_removes_everything_and_up_starts_clean_twice(
    real_node: str,
    apply_pod: ApplyPod,
    test_image: str,
    namespace: str,
    kubectl: Kubectl,
    wait: Callable[..., Any],
) -> None:
    timings: list[str] = []
    for cycle in (1, 2):
        _run_workload(apply_pod, test_image, namespace, kubectl, wait, cycle)
        before = leftovers()
        # the checks below can see the node's resources: they exist while it runs
        assert before["processes"] and before["mounts"] and before["netns"]
        assert any("CNI-HOSTPORT" in line for line in before["iptables"]), before["iptables"]
        assert any("KUBE-SERVICES" in line for line in before["iptables"]), before["iptables"]
        assert "vxbr0" in before["links (bridge + its veths)"]

        down_s = node_down()
        after = leftovers()
        assert after == {key: [] for key in after}, f"left behind after down (cycle {cycle}): {after}"
        gone = kubectl("get", "node", NODE_NAME, check=False)
        assert gone.returncode != 0 and "NotFound" in gone.stderr

        up_s = node_up()
        node = json.loads(kubectl("get", "node", NODE_NAME, "-o", "json").stdout)
        assert [c["status"] for c in node["status"]["conditions"] if c["type"] == "Ready"] == ["True"]
        addresses = {a["type"]: a["address"] for a in node["status"]["addresses"]}
        assert addresses == {"InternalIP": "127.0.0.1", "Hostname": NODE_NAME}
        assert {t["key"] for t in node["spec"].get("taints", [])} == {"vextrus.io/real-node"}
        timings.append(f"cycle {cycle}: down {down_s:.1f}s, up {up_s:.1f}s")

    # and the node still runs pods after the second cycle
    _run_workload(apply_pod, test_image, namespace, kubectl, wait, 3)
    print("\n" + "\n".join(timings))
