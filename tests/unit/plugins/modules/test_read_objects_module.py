"""The read_objects module against a fake API client: one request per object, a 404 as no object, a
transient error tried again, a refusal failing the task with the object and the answer."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from ansible.module_utils.testing import patch_module_args
from kubernetes.client.exceptions import ApiException

from ansible_collections.vextrus.deploy.plugins.modules import read_objects

ARGS = {
    "namespace": "ns",
    "objects": [
        {"apiVersion": "v1", "kind": "ConfigMap", "name": "rec"},
        {"api_version": "apps/v1", "kind": "Deployment"},
        {"api_version": "networking.k8s.io/v1", "kind": "NetworkPolicy", "name": "svc"},
    ],
}


class FakeClient:
    """Answers GETs from ``answers`` (path -> document, or an HTTP status to fail with, once per entry
    of a list)."""

    def __init__(self, answers: dict) -> None:
        self.answers = answers
        self.requests: list[str] = []
        self.client = SimpleNamespace(configuration=SimpleNamespace(host="https://127.0.0.1:6443"))

    def request(self, method, path, body=None, serialize=True):
        assert method == "GET" and body is None and serialize is False
        self.requests.append(path)
        answer = self.answers.get(path, 404)
        if isinstance(answer, list):
            answer = answer.pop(0)
        if isinstance(answer, int):
            error = ApiException(status=answer, reason={404: "Not Found", 403: "Forbidden", 503: "Service Unavailable"}[answer])
            if answer == 403:
                error.body = json.dumps({"kind": "Status", "message": f"{path} is forbidden: User \"u\" cannot get it"})
            raise error
        return SimpleNamespace(data=json.dumps(answer).encode())


def run_main(monkeypatch, capsys, answers: dict, args: dict | None = None) -> tuple[dict, FakeClient]:
    client = FakeClient(answers)
    monkeypatch.setattr(read_objects, "connect_dynamic", lambda params, retrier=None: client)
    with patch_module_args(args or ARGS), pytest.raises(SystemExit):
        read_objects.main()
    return json.loads(capsys.readouterr().out), client


RECORD = {"kind": "ConfigMap", "metadata": {"name": "rec"}}
LIST = {"items": [{"metadata": {"name": "svc-stable"}}]}


def test_every_object_in_one_call(monkeypatch, capsys):
    result, client = run_main(monkeypatch, capsys, {
        "/api/v1/namespaces/ns/configmaps/rec": RECORD,
        "/apis/apps/v1/namespaces/ns/deployments": LIST,
    })
    assert result["changed"] is False and not result.get("failed")
    assert [r["resources"] for r in result["objects"]] == [
        [RECORD], [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "svc-stable"}}], []]
    assert client.requests == [
        "/api/v1/namespaces/ns/configmaps/rec",
        "/apis/apps/v1/namespaces/ns/deployments",
        "/apis/networking.k8s.io/v1/namespaces/ns/networkpolicies/svc",
    ]


def test_a_transient_error_is_tried_again(monkeypatch, capsys):
    result, client = run_main(monkeypatch, capsys, {"/api/v1/namespaces/ns/configmaps/rec": [503, RECORD]})
    assert not result.get("failed") and result["objects"][0]["resources"] == [RECORD]
    assert client.requests.count("/api/v1/namespaces/ns/configmaps/rec") == 2


def test_a_refusal_fails_with_the_object_and_the_answer(monkeypatch, capsys):
    result, _client = run_main(monkeypatch, capsys, {"/apis/apps/v1/namespaces/ns/deployments": 403})
    assert result["failed"] is True
    assert result["msg"] == "cannot read every Deployment in ns: 403 Forbidden"


def test_the_objects_are_not_under_results(monkeypatch, capsys):
    """Ansible shows a task's ``results`` even under no_log (as a loop's, censored item by item): a Secret
    read with no_log would be printed whole."""
    result, _client = run_main(monkeypatch, capsys, {"/api/v1/namespaces/ns/configmaps/rec": RECORD})
    assert "results" not in result and len(result["objects"]) == len(ARGS["objects"])


CLUSTER = {"objects": [{"api_version": "v1", "kind": "Namespace", "name": "kube-system", "ignore_forbidden": True},
                       {"api_version": "v1", "kind": "ConfigMap", "name": "rec", "namespace": "ns"}],
           "server_version": True}
VERSION = {"major": "1", "minor": "34", "gitVersion": "v1.34.4"}


@pytest.mark.parametrize("allowed", [True, False])
def test_the_server_version_and_an_object_the_credentials_may_not_read(monkeypatch, capsys, allowed):
    kube_system = {"kind": "Namespace", "metadata": {"name": "kube-system", "uid": "u-1"}}
    result, client = run_main(monkeypatch, capsys, {
        "/version": VERSION, "/api/v1/namespaces/kube-system": kube_system if allowed else 403,
        "/api/v1/namespaces/ns/configmaps/rec": RECORD}, CLUSTER)
    assert not result.get("failed"), result
    assert result["server"] == {"host": "https://127.0.0.1:6443", "version": VERSION}
    identity, record = result["objects"]
    assert record == {"api_version": "v1", "kind": "ConfigMap", "name": "rec", "namespace": "ns", "resources": [RECORD],
                      "forbidden": ""}
    if allowed:
        assert identity["resources"] == [kube_system] and identity["forbidden"] == ""
    else:
        assert identity["resources"] == []
        assert identity["forbidden"] == '/api/v1/namespaces/kube-system is forbidden: User "u" cannot get it'
    assert client.requests[0] == "/version"


def test_without_server_version_the_version_is_not_read(monkeypatch, capsys):
    result, client = run_main(monkeypatch, capsys, {"/api/v1/namespaces/ns/configmaps/rec": RECORD})
    assert "server" not in result and "/version" not in client.requests


def test_a_server_that_does_not_answer_its_version_fails_the_task(monkeypatch, capsys):
    result, _client = run_main(monkeypatch, capsys, {"/version": 403}, CLUSTER)
    assert result["failed"] is True and result["msg"].startswith("cannot read the API server's version: 403")
