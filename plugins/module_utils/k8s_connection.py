# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way the collection's modules reach the Kubernetes API.

- ``K8S_CONNECTION_ARG_SPEC``: the connection options (kubeconfig, context, host, api_key, client
  certificates, proxy, impersonation...) as kubernetes.core has them, documented by its
  ``kubernetes.core.k8s_auth_options`` fragment; the modules that take them at the top level form
  the action group ``vextrus.deploy.k8s`` (meta/runtime.yml), so a play sets them once with
  ``module_defaults: {group/vextrus.deploy.k8s: {...}}``;
- ``connect``: the kubernetes ApiClient for those options;
- ``api_errors``: API refusals and unreachable servers turned into ``K8sConnectionError``, whose
  message says what could not be done and what to check; the modules report it with fail_json;
- ``api_call``: one request with its transient errors (connection refused or reset, 429, 5xx)
  retried with backoff inside a budget (``api_retry.Retrier``), then as ``api_errors``;
- ``request_json``: one request by API path with the DynamicClient, its JSON answer decoded;
  ``path_client``: a DynamicClient for such requests on an ApiClient, without API discovery. The
  modules use them rather than kubernetes' typed API classes: importing ``CoreV1Api`` alone costs a
  third of a second of CPU in every module run (its methods are validated with pydantic), and its
  models parse every object again.

``connect`` retries too: the client's discovery already asks the API server.
"""

from __future__ import annotations

import copy
import json
import traceback
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC
from ansible_collections.vextrus.deploy.plugins.module_utils.api_retry import Retrier, RetriesExhausted, detail

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    from kubernetes.client.exceptions import ApiException
    from kubernetes.dynamic import DynamicClient
    from urllib3.exceptions import HTTPError

    K8S_IMPORT_ERROR = None
except ImportError:
    K8S_IMPORT_ERROR = traceback.format_exc()

    class ApiException(Exception):  # type: ignore[no-redef]
        """Stands in for the client's ApiException when the kubernetes library is missing."""

        status: int | None = None
        reason: str | None = None

    class CoreException(Exception):  # type: ignore[no-redef]
        """Stands in for kubernetes.core's CoreException when the kubernetes library is missing."""

    class HTTPError(Exception):  # type: ignore[no-redef]
        """Stands in for urllib3's HTTPError when the kubernetes library is missing."""


K8S_CONNECTION_ARG_SPEC: dict[str, dict[str, Any]] = copy.deepcopy(AUTH_ARG_SPEC)

_CHECK = "check the kubeconfig/context and that the cluster is up"

T = TypeVar("T")


class K8sConnectionError(Exception):
    """The Kubernetes API cannot be reached or refused a request; the message says what to check."""


def connection_options(params: Mapping[str, Any]) -> dict[str, Any]:
    """The connection options set in ``params``; those left unset are left out, so kubernetes.core's
    K8S_AUTH_* environment variables and the default kubeconfig apply to them."""
    return {name: params[name] for name in K8S_CONNECTION_ARG_SPEC if params.get(name) is not None}


def connect(params: Mapping[str, Any], purpose: str = "", retrier: Retrier | None = None) -> Any:
    """The kubernetes ApiClient for the connection options in ``params`` (a module's parameters, or
    a suboption such as health_gate's port_forward); ``purpose`` completes the error message. An
    API server that is down or overloaded is tried again while ``retrier``'s budget lasts (default
    ``api_retry.DEFAULT_BUDGET``)."""
    return connect_dynamic(params, purpose, retrier).client


def connect_dynamic(params: Mapping[str, Any], purpose: str = "", retrier: Retrier | None = None) -> Any:
    """As ``connect``, the kubernetes DynamicClient, whose ``request`` reads any API path with every
    version of the kubernetes library."""
    retrier = retrier or Retrier.for_budget()
    try:
        return retrier.call(lambda: get_api_client(**connection_options(params))).client
    except CoreException as exc:
        raise K8sConnectionError(str(exc)) from exc
    except RetriesExhausted as exc:
        raise K8sConnectionError(f"cannot reach the Kubernetes API{purpose}: {exc}{_said(exc.error)}; {_CHECK}") from exc
    except Exception as exc:  # the client's discovery raises many types for an unreachable or refusing API
        raise K8sConnectionError(f"cannot reach the Kubernetes API{purpose}: {exc}; {_CHECK}") from exc


def _said(error: BaseException) -> str:
    """What the system said under a transport error, as the end of a message: ``: [Errno 111] Connection refused``."""
    said = detail(error)
    return f": {said}" if said else ""


def _host(api_client: Any) -> str:
    return getattr(getattr(api_client, "configuration", None), "host", None) or "the API server"


def _message(action: str, error: BaseException, api_client: Any, retried: str = "") -> str | None:
    if isinstance(error, ApiException):
        return f"cannot {action}: {error.status} {error.reason}{retried}"
    if isinstance(error, (HTTPError, OSError)):  # urllib3's retries exhausted, connection refused, TLS errors
        return f"cannot reach the Kubernetes API at {_host(api_client)} to {action}: {type(error).__name__}{retried}{_said(error)}; {_CHECK}"
    return None


@contextmanager
def api_errors(action: str, api_client: Any = None) -> Iterator[None]:
    """Turn an API refusal or a transport error inside the block into K8sConnectionError, for
    example ``cannot read Deployment ns/name: 403 Forbidden``; ``action`` says what was being done.
    A transient error that outlasted its retries (``RetriesExhausted``) says how long it was tried."""
    try:
        yield
    except RetriesExhausted as exc:
        retried = f" (still failing after {exc.attempts} attempts in {exc.seconds:.0f} s)"
        raise K8sConnectionError(_message(action, exc.error, api_client, retried) or f"cannot {action}: {exc}") from exc
    except (ApiException, HTTPError, OSError) as exc:
        raise K8sConnectionError(_message(action, exc, api_client) or str(exc)) from exc


def api_call(action: str, call: Callable[[], T], api_client: Any = None, retrier: Retrier | None = None) -> T:
    """``call()`` (one request, a read or an idempotent request), tried again after a transient error
    while ``retrier``'s budget lasts (default ``api_retry.DEFAULT_BUDGET`` seconds), its failure a
    K8sConnectionError as ``api_errors`` words it."""
    with api_errors(action, api_client):
        return (retrier or Retrier.for_budget()).call(call)


def refusal_message(exc: Any) -> str:
    """The API server's own words in a refusal (the message of its Status answer), else the
    status and reason: ``secrets "s" is forbidden: User "u" cannot get resource ...``."""
    try:
        message = json.loads(exc.body or "{}").get("message")
    except (TypeError, ValueError, AttributeError):
        message = None
    return str(message) if message else f"{exc.status} {exc.reason}"


def request_json(dynamic: Any, method: str, path: str, body: Any = None, **params: Any) -> dict[str, Any]:
    """One ``method`` request of ``path`` (``/api/v1/namespaces/ns``) with the DynamicClient of
    ``connect_dynamic``, its JSON answer decoded (``{}`` when empty); ``params`` are the client's
    (``label_selector``, ``field_manager``...). Errors are the client's ApiException, with ``status``."""
    answer = dynamic.request(method, path, body=body, serialize=False, **params)
    return json.loads(answer.data or b"{}")


def get_json(dynamic: Any, path: str) -> dict[str, Any] | None:
    """A GET of ``path`` with ``request_json``; None when there is nothing there (404)."""
    try:
        return request_json(dynamic, "GET", path)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


def _no_discovery(_client: Any, _cache_file: Any) -> None:
    return None


def path_client(api_client: Any) -> Any:
    """A DynamicClient on ``api_client`` for requests by path (``request``, ``request_json``) only:
    made without the API discovery its ``resources`` would need, so without a request."""
    return DynamicClient(api_client, discoverer=_no_discovery)
