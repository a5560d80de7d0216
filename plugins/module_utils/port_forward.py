# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local 127.0.0.1 listener relaying connections to a pod port through the API's portforward."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import api_call, connect_dynamic, request_json

try:
    from kubernetes.stream import portforward
except ImportError:  # the modules check for the library through k8s_connection.K8S_IMPORT_ERROR
    pass


class PortForwardError(Exception):
    """No pod to forward to, or the service port cannot be mapped."""


class NoReadyPod(PortForwardError):
    """The Service's pods exist, none is Ready (yet, or for a moment: a node marked not ready)."""


def _ready(pod: Mapping[str, Any]) -> bool:
    if (pod.get("metadata") or {}).get("deletionTimestamp"):
        return False
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


def pick_target(service: Mapping[str, Any] | None, pods: list[Mapping[str, Any]], port: int) -> tuple[str, int]:
    """Choose a Ready pod (first by name) and the container port behind ``port`` (a Service port if given)."""
    ready = sorted((p for p in pods if _ready(p)), key=lambda p: p["metadata"]["name"])
    if not ready:
        raise NoReadyPod(
            f"no Ready pod to forward to (found {len(pods)} pods, none Ready); wait for the rollout gate first"
        )
    pod = ready[0]
    target: Any = port
    if service is not None:
        ports = (service.get("spec") or {}).get("ports") or []
        match = next((p for p in ports if p.get("port") == port), None)
        if match is None:
            known = ", ".join(str(p.get("port")) for p in ports) or "none"
            raise PortForwardError(f"Service {service['metadata']['name']} has no port {port} (ports: {known})")
        target = match.get("targetPort", port)
    if isinstance(target, str):
        for container in (pod.get("spec") or {}).get("containers") or []:
            for cport in container.get("ports") or []:
                if cport.get("name") == target:
                    return pod["metadata"]["name"], int(cport["containerPort"])
        raise PortForwardError(f"pod {pod['metadata']['name']} has no container port named {target!r}")
    return pod["metadata"]["name"], int(target)


def _relay(left: Any, right: Any, wake: Any) -> None:
    """Copy bytes both ways between ``left`` and ``right`` until either closes or ``wake`` turns readable."""
    sockets = [left, right]
    try:
        while True:
            readable = select.select([*sockets, wake], [], [])[0]
            if wake in readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (right if sock is left else left).sendall(data)
    except OSError:
        return
    finally:
        for sock in sockets:
            try:
                sock.close()
            except OSError:
                pass


class _PodPortForward:
    """What ``kubernetes.stream.portforward`` takes: a method of an object with an ``api_client``; it
    asks for the pod's portforward path through the DynamicClient, which the stream turns into a
    websocket. The typed ``CoreV1Api`` would do the same, but loading it costs half a second."""

    def __init__(self, dynamic: Any) -> None:
        self.dynamic = dynamic
        self.api_client = dynamic.client

    def open(self, name: str, namespace: str, ports: str, **params: Any) -> Any:
        path = f"/api/v1/namespaces/{namespace}/pods/{name}/portforward?ports={ports}"
        return self.dynamic.request("GET", path, serialize=False, **params)


class PortForwarder:
    """Context manager: ``with PortForwarder(dynamic_client, ns, pod, port) as local_port: ...``.

    Closing wakes every thread at once: the write end of a socket pair that each thread's select
    watches is closed, so the block ends without waiting for a poll interval."""

    def __init__(self, dynamic: Any, namespace: str, pod: str, port: int) -> None:
        self.pods = _PodPortForward(dynamic)
        self.namespace = namespace
        self.pod = pod
        self.port = port
        self.listener: socket.socket | None = None
        self.threads: list[threading.Thread] = []
        self._wake, self._waker = socket.socketpair()

    def __enter__(self) -> int:
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        thread = threading.Thread(target=self._accept, args=(self.listener,), name="port-forward listener", daemon=True)
        thread.start()
        self.threads.append(thread)
        return self.listener.getsockname()[1]

    def _accept(self, listener: socket.socket) -> None:
        while self._wake not in select.select([listener, self._wake], [], [])[0]:
            try:
                conn = listener.accept()[0]
            except OSError:
                continue
            try:
                forward = portforward(self.pods.open, self.pod, self.namespace, ports=str(self.port))
                remote = forward.socket(self.port)
            except Exception:
                conn.close()
                continue
            relay = threading.Thread(target=_relay, args=(conn, remote, self._wake), daemon=True)
            relay.start()
            self.threads.append(relay)

    def close(self) -> None:
        self._waker.close()
        for thread in self.threads:
            thread.join(timeout=2)
        if self.listener is not None:
            self.listener.close()
        self._wake.close()

    def __exit__(self, *exc: Any) -> None:
        self.close()


def resolve_target(dynamic: Any, namespace: str, service: str | None, pod: str | None, port: int) -> tuple[str, int]:
    """The pod (``pod``, or a Ready pod behind ``service``) and its container port for ``port``."""
    if pod:
        return pick_target(None, [request_json(dynamic, "GET", f"/api/v1/namespaces/{namespace}/pods/{pod}")], port)
    svc = request_json(dynamic, "GET", f"/api/v1/namespaces/{namespace}/services/{service}")
    selector = (svc.get("spec") or {}).get("selector") or {}
    if not selector:
        raise PortForwardError(f"Service {namespace}/{service} has no selector; name a pod instead")
    listing = request_json(
        dynamic, "GET", f"/api/v1/namespaces/{namespace}/pods", label_selector=",".join(f"{k}={v}" for k, v in sorted(selector.items()))
    )
    return pick_target(svc, listing.get("items") or [], port)


@contextmanager
def open_forward(forward: Mapping[str, Any], ready_within: float = 0.0,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], Any] = time.sleep) -> Iterator[dict[str, Any]]:
    """Open the port-forward that ``forward`` (the modules' ``port_forward`` option: namespace, service
    or pod, port, connection options) describes and close it when the block ends, also on error.
    Yields the ``pod``, its ``remote_port`` and the ``local_port`` on 127.0.0.1 that reaches it. While
    no pod is Ready it looks again every second for ``ready_within`` seconds (a node the control plane
    marked not ready for a moment, after an API server restart, takes its pods' readiness with it).
    Raises K8sConnectionError (API unreachable or refusing) and PortForwardError (no Ready pod)."""
    namespace = forward["namespace"]
    dynamic = connect_dynamic(forward, purpose=" for the port-forward")
    target = f"pod {forward['pod']}" if forward.get("pod") else f"Service {forward['service']}"
    deadline = clock() + ready_within
    while True:
        try:
            pod, remote_port = api_call(  # transient API errors are tried again for api_retry.DEFAULT_BUDGET seconds
                f"find the {target} in namespace {namespace} for the port-forward",
                lambda: resolve_target(dynamic, namespace, forward.get("service"), forward.get("pod"), forward["port"]),
                dynamic.client,
            )
            break
        except NoReadyPod:
            if clock() >= deadline:
                raise
            sleep(1.0)
    with PortForwarder(dynamic, namespace, pod, remote_port) as local_port:
        yield {"pod": pod, "remote_port": remote_port, "local_port": local_port}
