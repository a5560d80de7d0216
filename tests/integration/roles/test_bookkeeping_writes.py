"""vextrus.deploy.write_objects on the local cluster: a ConfigMap and a Secret applied in one call
(changed, then not changed), a write conditional on a resourceVersion that moved refused with 409
and nothing written, check mode writing nothing, deletion once; both in the worker process and as a
module. Nothing is mocked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from rolekit import ROOT, PlaybookRunner

STEP = ROOT / "tests" / "integration" / "roles" / "write_objects_step.yml"


def _objects(namespace: str, record: str, **metadata: Any) -> list[dict[str, Any]]:
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "finance-service-release", "namespace": namespace, **metadata},
         "data": {"record.json": record}},
        {"apiVersion": "v1", "kind": "Secret", "type": "Opaque", "metadata": {"name": "finance-service-rollout-snapshot", "namespace": namespace},
         "data": {"snapshot.json": "W10="}},
    ]


def _read(api: client.ApiClient, namespace: str) -> tuple[client.V1ConfigMap | None, client.V1Secret | None]:
    core = client.CoreV1Api(api)
    found = []
    for read in (core.read_namespaced_config_map, core.read_namespaced_secret):
        name = "finance-service-release" if read == core.read_namespaced_config_map else "finance-service-rollout-snapshot"
        try:
            found.append(read(name, namespace))
        except ApiException as exc:
            if exc.status != 404:
                raise
            found.append(None)
    return found[0], found[1]


@pytest.mark.parametrize("in_worker", [True, False])
def test_apply_again_conflict_check_mode_and_delete(run_playbook: PlaybookRunner, k8s_client: client.ApiClient, role_namespace: str,
                                                    tmp_path: Path, in_worker: bool) -> None:
    client.CoreV1Api(k8s_client).create_namespace({"metadata": {"name": role_namespace}})
    calls = 0

    def step(objects: list[dict[str, Any]], *args: str, state: str = "present") -> tuple[int, dict[str, Any], str]:
        nonlocal calls
        calls += 1
        values = {"write_objects": objects, "write_state": state, "write_result_file": str(tmp_path / f"write-{calls}.json"),
                  "vextrus_deploy_run_in_worker": in_worker}
        run = run_playbook(values, "-vvv", *args, playbook=STEP)
        assert ("vextrus.deploy.write_objects runs in the worker process" in run.output) is in_worker
        return run.rc, json.loads(Path(values["write_result_file"]).read_text()), run.output

    # check mode: a dry run on the API server, nothing written
    rc, result, output = step(_objects(role_namespace, '{"runs": []}'), "--check")
    assert rc == 0 and result["changed"] and [o["changed"] for o in result["objects"]] == [True, True], output[-3000:]
    assert _read(k8s_client, role_namespace) == (None, None)

    rc, result, output = step(_objects(role_namespace, '{"runs": []}'))
    assert rc == 0 and result["changed"], output[-3000:]
    record, snapshot = _read(k8s_client, role_namespace)
    assert record.data == {"record.json": '{"runs": []}'} and snapshot.data == {"snapshot.json": "W10="}
    assert result["objects"][0]["result"]["metadata"]["resourceVersion"] == record.metadata.resource_version

    rc, result, output = step(_objects(role_namespace, '{"runs": []}'))
    assert rc == 0 and not result["changed"], output[-3000:]
    assert _read(k8s_client, role_namespace)[0].metadata.resource_version == record.metadata.resource_version

    # conditional on the version read: another writer came first, so the write is refused and nothing changes
    client.CoreV1Api(k8s_client).patch_namespaced_config_map("finance-service-release", role_namespace, {"metadata": {"labels": {"by": "other"}}})
    moved = _read(k8s_client, role_namespace)[0]
    rc, result, output = step(_objects(role_namespace, '{"runs": [1]}', resourceVersion=record.metadata.resource_version))
    assert rc == 2 and result["failed"], output[-3000:]
    assert result["msg"].startswith(f"cannot apply ConfigMap {role_namespace}/finance-service-release: 409"), result["msg"]
    assert _read(k8s_client, role_namespace)[0].metadata.resource_version == moved.metadata.resource_version
    rc, result, output = step(_objects(role_namespace, '{"runs": [1]}', resourceVersion=moved.metadata.resource_version))
    assert rc == 0 and result["objects"][0]["changed"] and not result["objects"][1]["changed"], output[-3000:]
    assert _read(k8s_client, role_namespace)[0].data == {"record.json": '{"runs": [1]}'}

    # delete: check mode keeps it, then once changed, then nothing to delete
    secret_only = _objects(role_namespace, "")[1:]
    rc, result, output = step(secret_only, "--check", state="absent")
    assert rc == 0 and result["changed"] and _read(k8s_client, role_namespace)[1] is not None, output[-3000:]
    rc, result, output = step(secret_only, state="absent")
    assert rc == 0 and result["changed"] and _read(k8s_client, role_namespace)[1] is None, output[-3000:]
    rc, result, output = step(secret_only, state="absent")
    assert rc == 0 and not result["changed"], output[-3000:]
