"""The modules' one connection to the Kubernetes API: options, client and errors."""

from __future__ import annotations

import ssl

import pytest
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError, NewConnectionError, SSLError

from ansible_collections.vextrus.deploy.plugins.module_utils import k8s_connection
from ansible_collections.vextrus.deploy.plugins.module_utils.api_retry import OutageLog, Retrier, RetriesExhausted
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import (
    K8S_CONNECTION_ARG_SPEC,
    K8sConnectionError,
    api_call,
    api_errors,
    connect,
    connection_options,
    request_json,
)


def _chained(error: BaseException, cause: BaseException) -> BaseException:
    """``error`` raised while handling ``cause``, as urllib3 raises its errors over the system's."""
    error.__context__ = cause
    return error


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
            "cannot reach the Kubernetes API at https://127.0.0.1:6443 to read Deployment ns/web: ConnectionRefusedError: "
            "[Errno 111] Connection refused; check the kubeconfig/context and that the cluster is up",
        ),
        (
            MaxRetryError(None, "/version", _chained(SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"),
                                                     ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] "
                                                                                     "certificate verify failed"))),
            "cannot reach the Kubernetes API at https://127.0.0.1:6443 to read Deployment ns/web: MaxRetryError: "
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed; check the kubeconfig/context and that "
            "the cluster is up",
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


def _fast(budget: float = 1.0) -> Retrier:
    """A retrier that does not really wait (its clock moves by each wait)."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    return Retrier(budget, OutageLog(lambda: now[0]), clock=lambda: now[0], sleep=sleep)


class _Flaky:
    def __init__(self, *errors: BaseException) -> None:
        self.errors, self.calls = list(errors), 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "read"


def test_api_call_retries_a_transient_error_and_keeps_the_outage():
    retrier = _fast(30.0)
    call = _Flaky(ApiException(status=503, reason="Service Unavailable"), ConnectionResetError(104, "reset"))
    assert api_call("read Deployment ns/web", call, _ApiClient(), retrier) == "read"
    assert call.calls == 3
    assert [(o.seconds, o.error, o.ended) for o in retrier.log.merged()] == [(1.5, "503 Service Unavailable", True)]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (
            ApiException(status=503, reason="Service Unavailable"),
            r"^cannot read Deployment ns/web: 503 Service Unavailable \(still failing after 3 attempts in 1 s\)$",
        ),
        (
            MaxRetryError(None, "/apis/apps/v1", NewConnectionError(None, "refused")),
            r"^cannot reach the Kubernetes API at https://127.0.0.1:6443 to read Deployment ns/web: MaxRetryError "
            r"\(still failing after 3 attempts in 1 s\); check the kubeconfig/context and that the cluster is up$",
        ),
    ],
)
def test_api_call_says_how_long_a_transient_error_was_tried(error, message):
    with pytest.raises(K8sConnectionError, match=message) as raised:
        api_call("read Deployment ns/web", _Flaky(*[error] * 10), _ApiClient(), _fast(1.0))
    assert isinstance(raised.value.__cause__, RetriesExhausted)


@pytest.mark.parametrize("status", [403, 404, 422])
def test_api_call_does_not_retry_a_refusal(status):
    call = _Flaky(ApiException(status=status, reason="refused"))
    with pytest.raises(K8sConnectionError, match=f"^cannot read Deployment ns/web: {status} refused$"):
        api_call("read Deployment ns/web", call, _ApiClient(), _fast(30.0))
    assert call.calls == 1


def test_connect_retries_an_api_server_that_is_down(monkeypatch):
    client = type("Client", (), {"client": type("Inner", (), {"client": "api client"})()})()
    flaky = _Flaky(MaxRetryError(None, "/version", NewConnectionError(None, "refused")))
    monkeypatch.setattr(k8s_connection, "get_api_client", lambda **options: flaky() and client)
    assert connect({"kubeconfig": "/k"}, retrier=_fast(30.0)) == "api client"
    assert flaky.calls == 2


def test_connect_to_an_api_server_that_stays_down_says_so(monkeypatch):
    def down(**options):
        refused = _chained(NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused"),
                           ConnectionRefusedError(111, "Connection refused"))
        raise MaxRetryError(None, "/version", refused)

    monkeypatch.setattr(k8s_connection, "get_api_client", down)
    with pytest.raises(K8sConnectionError, match=(
        r"^cannot reach the Kubernetes API for the port-forward: MaxRetryError \(NewConnectionError\), still failing "
        r"after 3 attempts in 1 s: \[Errno 111\] Connection refused; check the kubeconfig/context and that the cluster is up$"
    )):
        connect({"kubeconfig": "/k"}, purpose=" for the port-forward", retrier=_fast(1.0))


class _Dynamic:
    """The DynamicClient's request, recording what it was asked."""

    def __init__(self, data: bytes) -> None:
        self.data, self.asked = data, []

    def request(self, method, path, body=None, **params):
        self.asked.append((method, path, body, params))
        return type("Answer", (), {"data": self.data})()


@pytest.mark.parametrize(("data", "decoded"), [(b'{"kind": "Namespace"}', {"kind": "Namespace"}), (b"", {})])
def test_request_json_asks_by_path_and_decodes_the_answer(data, decoded):
    dynamic = _Dynamic(data)
    body = {"kind": "SelfSubjectAccessReview"}
    assert request_json(dynamic, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body,
                        field_manager="m") == decoded
    assert dynamic.asked == [("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body,
                              {"serialize": False, "field_manager": "m"})]
