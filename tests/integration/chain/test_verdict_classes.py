"""Verdict classes on the real cluster (docs/verdicts.md): a configuration problem after the guard
admitted the run ends ERROR with exit code 4, is recorded as ERROR and does not burn the digest - the
same week with the same digest runs again without force and passes once the problem is fixed; a
preflight input error ends ERROR with exit code 4 and the check's message in the last line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from kubernetes import client

from chainkit import REAL_NODE, SECRET, deployments_in, release_record, run_week

# A Secret of the service's name made by hand with another type: Kubernetes does not change the type
# of a Secret, so the server-side dry-run of namespace_secrets refuses the chain's Opaque Secret.
HAND_MADE_TYPE = "vextrus.io/hand-made"


def test_a_refused_dry_run_of_the_secrets_is_an_error_that_does_not_burn_the_digest(
    good_image: str,
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    ns = new_namespace("verdict-error")
    core = client.CoreV1Api(k8s_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    core.create_namespaced_secret(ns, client.V1Secret(metadata=client.V1ObjectMeta(name=SECRET), type=HAND_MADE_TYPE,
                                                      string_data={"note": "made by hand"}))
    extra = {**REAL_NODE, "rollout_image": good_image}

    errored = run_week(1, ns, tmp_path / "error", chain_vault, extra)

    assert errored.rc == 4, errored.tail()
    last = errored.last_lines(12)
    assert "Week 1 ERROR:" in last and "FAILED" not in last, errored.tail()
    assert "Dry-run the Secret and the checksum key on the API server" in last, errored.tail()
    assert "Cause: dry-run." in last, errored.tail()
    assert errored.recap()["unreachable"] == 1 and errored.recap()["failed"] == 0, errored.tail()
    report = errored.report
    assert report is not None, errored.tail()
    assert (report["verdict"], report["cause"]) == ("ERROR", "dry-run"), report
    assert report["gate"] == {"ran": False}
    assert deployments_in(k8s_client, ns) == []
    record = release_record(k8s_client, ns)
    assert [(r["verdict"], r.get("cause"), r["week"], r["digest"]) for r in record["runs"]] == \
        [("ERROR", "dry-run", 1, good_image)], record
    # the release did not start: nothing but the run is recorded
    assert (record["state"], record["candidate"], record["release"]) == ("NONE", "", 0), record

    status_file = tmp_path / "status.json"
    status = run_week(1, ns, tmp_path / "status", chain_vault, {"status_file": str(status_file)}, playbook="status.yml")
    assert status.rc == 0, status.tail()
    assert "week 1 ERROR (dry-run)" in status.flat, status.tail()
    assert json.loads(status_file.read_text())["last_run"]["verdict"] == "ERROR"

    # fixed: the hand-made Secret is gone; the same week with the same digest runs again, not forced
    core.delete_namespaced_secret(SECRET, ns)
    again = run_week(1, ns, tmp_path / "again", chain_vault, extra)

    assert again.rc == 0, again.tail()
    assert "Week 1 PASSED: every gate passed" in again.last_lines(12), again.tail()
    assert again.report is not None and again.report["verdict"] == "PASS", again.tail()
    assert again.report["release"].get("forced") is not True, again.report["release"]
    record = release_record(k8s_client, ns)
    assert [r["verdict"] for r in record["runs"]] == ["ERROR", "PASS"], record
    assert record["runs"][-1]["forced"] is False
    assert (record["state"], record["candidate"], record["highest_week_passed"]) == ("IN_PROGRESS", good_image, 1)


def test_a_preflight_input_error_ends_error_with_the_checks_message(
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    ns = new_namespace("verdict-input")
    run = run_week(9, ns, tmp_path / "report", chain_vault, {"rollout_week": 9}, playbook="rollout.yml")

    assert run.rc == 4, run.tail()
    # the last task's message, whole: the check's name and its own message
    last = run.flat.split("UNREACHABLE!")[-1]
    assert "TASK [" not in last and "verdict: ERROR" in last, run.tail()
    assert "Preflight ERROR: " in last and ": Invalid rollout input: rollout_week" in last, run.tail()
    assert "rollout_week must be one of 1, 2, 3, 4, got 9" in last, run.tail()
    assert "Nothing was written." in last, run.tail()
    assert run.report is None
    assert ns not in {item.metadata.name for item in client.CoreV1Api(k8s_client).list_namespace().items}


def test_a_release_record_that_cannot_be_used_ends_error_before_anything_is_written(
    new_namespace: Callable[[str], str],
    k8s_client: client.ApiClient,
    chain_vault: Path,
    tmp_path: Path,
) -> None:
    ns = new_namespace("verdict-record")
    core = client.CoreV1Api(k8s_client)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="finance-service-release"),
                                                             data={"release.json": "{not json"}))

    run = run_week(2, ns, tmp_path / "report", chain_vault, REAL_NODE)

    assert run.rc == 4, run.tail()
    last = run.flat.split("UNREACHABLE!")[-1]
    assert "TASK [" not in last and "Week 2 ERROR: " in last, run.tail()
    assert "key 'release.json' is not valid JSON" in last and "Cause: config. Nothing was written." in last, run.tail()
    assert run.report is None
    assert core.read_namespaced_config_map("finance-service-release", ns).data == {"release.json": "{not json"}
    assert deployments_in(k8s_client, ns) == []
