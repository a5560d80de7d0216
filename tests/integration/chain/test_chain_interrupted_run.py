"""A run killed mid-apply (SIGKILL to ansible-playbook and everything it started, right after the HPA apply
of week 2) leaves a half-applied change, its Lease, its in-progress entry in the record and the snapshot it
kept, and no report. The next run, once the Lease's TTL is over, takes the Lease over, reports the
interrupted run, brings every object of the service back to the state before it (the HPA included),
records it as ERROR (cause interrupted: the release is not burnt) and then runs its own week 2, which
passes: the namespace ends consistent with week 2, nothing of the killed run left."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from kubernetes import client

from chainkit import (
    REAL_NODE,
    SERVICE,
    differences,
    expected_split,
    local_profile,
    read_or_none,
    release_record,
    run_week,
    service_objects,
    start_week,
    track_state,
)

LEASE = f"{SERVICE}-rollout"
SNAPSHOT = f"{SERVICE}-rollout-snapshot"
LEASE_TTL = 20
# the killed run's ceiling of the service (the local inventory's is 6); at week 2 (30 %) the stable HPA gets the
# stable part of its split: 12 -> 8 stable + 4 canary (the inventory's 6 -> 4 + 2)
KILLED_HPA_MAX = 12
KILLED_STABLE_HPA_MAX, WEEK2_STABLE_HPA_MAX = 8, 4


def _hpa_max(api: client.ApiClient, ns: str) -> int | None:
    hpa = read_or_none(lambda: client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler(SERVICE, ns))
    return None if hpa is None else hpa.spec.max_replicas


def _kill_processes_naming(marker: str) -> None:
    """SIGKILL every process whose command line holds ``marker``, and wait until none is left."""
    def naming() -> list[int]:
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and int(entry.name) != os.getpid():
                try:
                    if marker.encode() in (entry / "cmdline").read_bytes():
                        found.append(int(entry.name))
                except OSError:  # ended meanwhile
                    pass
        return found

    deadline = time.monotonic() + 30
    while pids := naming():
        assert time.monotonic() < deadline, f"processes of the killed run still there: {pids}"
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.2)


def test_a_run_killed_after_the_hpa_apply_is_reported_and_undone_by_the_next_run(
    good_image: str,
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    ns = new_namespace("killed")
    base = {**REAL_NODE, "rollout_image": good_image, "rollout_lease_ttl": LEASE_TTL}
    week1 = run_week(1, ns, tmp_path / "week1", chain_vault, base)
    assert week1.rc == 0, week1.tail()
    before = service_objects(k8s_client, ns)
    _, split = expected_split(2)
    assert local_profile()["deploy_hpa_max"] == 6, "WEEK2_STABLE_HPA_MAX is the stable part of 6 at 30 %"
    killed_hpa, week2_hpa = KILLED_STABLE_HPA_MAX, WEEK2_STABLE_HPA_MAX

    # week 2 with a higher HPA ceiling, killed the moment the HPA shows it
    killed_dir = tmp_path / "week2-killed"
    proc = start_week(2, ns, killed_dir, chain_vault, {**base, "deploy_hpa_max": KILLED_HPA_MAX})
    deadline = time.monotonic() + 600
    while _hpa_max(k8s_client, ns) != killed_hpa:
        assert proc.poll() is None, "the run ended before it applied the HPA:\n" + (killed_dir / "output.txt").read_text()[-3000:]
        assert time.monotonic() < deadline, "the run did not apply the HPA within 600 s"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # Ansible's workers start sessions of their own, out of the group's reach: the one running a task
    # then blocks for good on its result for the dead ansible-playbook. A lost machine takes them too.
    _kill_processes_naming(str(killed_dir))
    killed_output = (killed_dir / "output.txt").read_text()

    # what the killed run left: its change, its Lease, its entry in the record, its snapshot; no report
    assert proc.returncode == -signal.SIGKILL
    assert not list(killed_dir.glob("*.json")), "the killed run wrote a report"
    lease = client.CoordinationV1Api(k8s_client).read_namespaced_lease(LEASE, ns)
    assert f"pid {proc.pid}" in lease.spec.holder_identity, lease.spec.holder_identity
    running = release_record(k8s_client, ns)["running"]
    assert running is not None and (running["week"], running["digest"]) == (2, good_image), running
    assert read_or_none(lambda: client.CoreV1Api(k8s_client).read_namespaced_secret(SNAPSHOT, ns)) is not None
    assert differences(before, service_objects(k8s_client, ns)), "the killed run changed nothing:\n" + killed_output[-3000:]

    # once the Lease's TTL is over, the next run takes it over and undoes the killed run before its own week 2
    time.sleep(LEASE_TTL + 2)
    again = run_week(2, ns, tmp_path / "week2", chain_vault, base)
    assert again.rc == 0, again.tail()
    assert f"Interrupted run found: week week 2 of {good_image}" in again.output, again.tail()
    assert f"pid {proc.pid}" in again.output, again.tail()
    report = again.report
    assert report is not None and report["verdict"] == "PASS", again.tail()
    interrupted = report["interrupted"]
    assert (interrupted["week"], interrupted["digest"]) == (2, good_image), interrupted
    recovery = interrupted["rollback"]
    assert recovery["ran"] and recovery["verified"] and recovery["healthy"], recovery
    assert f"HorizontalPodAutoscaler/{SERVICE}" in recovery["objects_restored"], recovery
    assert "Interrupted run found" in again.report_path.with_suffix(".md").read_text()

    # the record: the killed run as ERROR (interrupted), then the week 2 that passed; nothing in progress
    record = release_record(k8s_client, ns)
    killed, passed = record["runs"][-2:]
    assert (killed["week"], killed["verdict"], killed["cause"], killed["started"]) == (2, "ERROR", "interrupted", running["started"])
    assert (passed["week"], passed["verdict"]) == (2, "PASS"), passed
    assert record["running"] is None and record["highest_week_passed"] == 2, record

    # the namespace is week 2 of the inventory, nothing of the killed run left: the HPA's ceiling, the
    # Deployments' split, every pod ready on the good digest; no snapshot, no Lease
    assert _hpa_max(k8s_client, ns) == week2_hpa
    state = track_state(k8s_client, ns)
    for track in ("stable", "canary"):
        assert state[track]["replicas"] == split[track], state
        assert state[track]["image"] == good_image, state
        assert all(image == good_image and ready for image, ready, _ in state[track]["pods"]), state[track]
    assert read_or_none(lambda: client.CoreV1Api(k8s_client).read_namespaced_secret(SNAPSHOT, ns)) is None
    assert read_or_none(lambda: client.CoordinationV1Api(k8s_client).read_namespaced_lease(LEASE, ns)) is None
