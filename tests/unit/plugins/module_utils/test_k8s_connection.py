"""The modules' one connection to the Kubernetes API: options, client and errors."""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError, NewConnectionError

from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import (
    K8S_CONNECTION_ARG_SPEC,
    K8sConnectionError,
    api_errors,
    connect,
    connection_options,
)


class _Configuration:
    host = "https://127.0.0.1:6443"


class _ApiClient:
    configuration = _Configuration()


def test_the_connection_options_are_kubernetes_cores():
    assert {"kubeconfig", "context", "host", "api_key", "validate_certs", "impersonate_user"} <= set(K8S_CONNECTION_ARG_SPEC)
    assert K8S_CONNECTION_ARG_SPEC["kubeconfig"]["no_log"] is True and K8S_CONNECTION_ARG_SPEC["api_key"]["no_log"] is True


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kubeconfig": "/k", "context": None, "namespace": "ns", "port": 80}, {"kubeconfig": "/k"}),
        ({"context": "prod", "validate_certs": False, "deployments": ["d"]}, {"context": "prod", "validate_certs": False}),
        ({"namespace": "ns"}, {}),
    ],
)
def test_only_the_connection_options_that_are_set_reach_the_client(params, expected):
    assert connection_options(params) == expected


MISSING = f"{__file__}.missing"


def test_a_kubeconfig_that_cannot_be_loaded_is_a_connection_error():
    with pytest.raises(K8sConnectionError, match="Could not create API client: Invalid kube-config file"):
        connect({"kubeconfig": MISSING})


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (ApiException(status=403, reason="Forbidden"), "cannot read Deployment ns/web: 403 Forbidden"),
        (ApiException(status=404, reason="Not Found"), "cannot read Deployment ns/web: 404 Not Found"),
        (
            MaxRetryError(None, "/apis/apps/v1", NewConnectionError(None, "refused")),
            "cannot reach the Kubernetes API at https://127.0.0.1:6443 to read Deployment ns/web: MaxRetryError; "
            "check the kubeconfig/context and that the cluster is up",
        ),
        (
            ConnectionRefusedError(111, "Connection refused"),
            "cannot reach the Kubernetes API at https://127.0.0.1:6443 to read Deployment ns/web: ConnectionRefusedError; "
            "check the kubeconfig/context and that the cluster is up",
        ),
    ],
)
def test_api_errors_become_connection_errors(error, message):
    with pytest.raises(K8sConnectionError) as raised, api_errors("read Deployment ns/web", _ApiClient()):
        raise error
    assert str(raised.value) == message
    assert raised.value.__cause__ is error


def test_without_a_client_the_message_names_the_api_server():
    with pytest.raises(K8sConnectionError, match="at the API server to list pods"), api_errors("list pods"):
        raise ConnectionResetError(104, "reset")


@pytest.mark.parametrize("error", [ValueError("bad rule"), KeyError("items")])
def test_other_errors_pass_through(error):
    with pytest.raises(type(error)), api_errors("read Deployment ns/web", _ApiClient()):
        raise error
