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
  message says what could not be done and what to check; the modules report it with fail_json.
"""

from __future__ import annotations

import copy
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ansible_collections.kubernetes.core.plugins.module_utils.args_common import AUTH_ARG_SPEC

try:
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.client import get_api_client
    from ansible_collections.kubernetes.core.plugins.module_utils.k8s.exceptions import CoreException
    from kubernetes.client.exceptions import ApiException
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


class K8sConnectionError(Exception):
    """The Kubernetes API cannot be reached or refused a request; the message says what to check."""


def connection_options(params: Mapping[str, Any]) -> dict[str, Any]:
    """The connection options set in ``params``; those left unset are left out, so kubernetes.core's
    K8S_AUTH_* environment variables and the default kubeconfig apply to them."""
    return {name: params[name] for name in K8S_CONNECTION_ARG_SPEC if params.get(name) is not None}


def connect(params: Mapping[str, Any], purpose: str = "") -> Any:
    """The kubernetes ApiClient for the connection options in ``params`` (a module's parameters, or
    a suboption such as health_gate's port_forward); ``purpose`` completes the error message."""
    try:
        return get_api_client(**connection_options(params)).client.client
    except CoreException as exc:
        raise K8sConnectionError(str(exc)) from exc
    except Exception as exc:  # the client's discovery raises many types for an unreachable or refusing API
        raise K8sConnectionError(f"cannot reach the Kubernetes API{purpose}: {exc}; {_CHECK}") from exc


def _host(api_client: Any) -> str:
    return getattr(getattr(api_client, "configuration", None), "host", None) or "the API server"


@contextmanager
def api_errors(action: str, api_client: Any = None) -> Iterator[None]:
    """Turn an API refusal or a transport error inside the block into K8sConnectionError, for
    example ``cannot read Deployment ns/name: 403 Forbidden``; ``action`` says what was being done."""
    try:
        yield
    except ApiException as exc:
        raise K8sConnectionError(f"cannot {action}: {exc.status} {exc.reason}") from exc
    except (HTTPError, OSError) as exc:  # urllib3's retries exhausted, connection refused, TLS errors
        raise K8sConnectionError(
            f"cannot reach the Kubernetes API at {_host(api_client)} to {action}: {type(exc).__name__}; {_CHECK}"
        ) from exc
