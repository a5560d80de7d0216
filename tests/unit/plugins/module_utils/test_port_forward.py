from types import SimpleNamespace

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils import port_forward
from ansible_collections.vextrus.deploy.plugins.module_utils.port_forward import PortForwardError, pick_target


def pod(name, ready=True, deleting=False, ports=None):
    meta = {"name": name}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-26T09:00:00Z"
    return {
        "metadata": meta,
        "spec": {"containers": [{"name": "finance", "ports": ports or [{"name": "http", "containerPort": 3014}]}]},
        "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]},
    }


SERVICE = {"metadata": {"name": "finance-service"}, "spec": {"ports": [{"port": 80, "targetPort": 3014}, {"port": 81, "targetPort": "http"}, {"port": 82}]}}


@pytest.mark.parametrize(
    ("pods", "service", "port", "expected"),
    [
        ([pod("b"), pod("a")], SERVICE, 80, ("a", 3014)),
        ([pod("a", ready=False), pod("b")], SERVICE, 80, ("b", 3014)),
        ([pod("a", deleting=True), pod("b")], SERVICE, 81, ("b", 3014)),
        ([pod("a")], SERVICE, 82, ("a", 82)),
        ([pod("a")], None, 3014, ("a", 3014)),
    ],
)
def test_pick_target(pods, service, port, expected):
    assert pick_target(service, pods, port) == expected


@pytest.mark.parametrize(
    ("pods", "service", "port", "message"),
    [
        ([], SERVICE, 80, "found 0 pods, none Ready"),
        ([pod("a", ready=False)], SERVICE, 80, "found 1 pods, none Ready"),
        ([pod("a")], SERVICE, 8080, "Service finance-service has no port 8080 (ports: 80, 81, 82)"),
        ([pod("a", ports=[{"name": "metrics", "containerPort": 9090}])], SERVICE, 81, "has no container port named 'http'"),
    ],
)
def test_pick_target_errors(pods, service, port, message):
    with pytest.raises(PortForwardError) as err:
        pick_target(service, pods, port)
    assert message in str(err.value)


class _Forwarder:
    """Stands in for PortForwarder: no socket, local port 40000."""

    def __init__(self, *_args):
        pass

    def __enter__(self):
        return 40000

    def __exit__(self, *_exc):
        return False


def test_the_target_is_looked_up_again_after_a_transient_api_error(monkeypatch):
    calls = []

    def resolve(*_args):
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionResetError(104, "Connection reset by peer")
        return "web-1", 3014

    monkeypatch.setattr(port_forward, "connect_dynamic", lambda forward, purpose="": SimpleNamespace(client="client"))
    monkeypatch.setattr(port_forward, "resolve_target", resolve)
    monkeypatch.setattr(port_forward, "PortForwarder", _Forwarder)
    with port_forward.open_forward({"namespace": "ns", "service": "web", "pod": None, "port": "http"}) as opened:
        assert opened == {"pod": "web-1", "remote_port": 3014, "local_port": 40000}
    assert len(calls) == 2


class _Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.mark.parametrize(("not_ready", "ready_within", "opens"), [(0, 0, True), (3, 10, True), (3, 2, False), (1, 0, False)])
def test_a_moment_without_a_ready_pod_is_waited_out_within_its_budget(monkeypatch, not_ready, ready_within, opens):
    calls = []

    def resolve(*_args):
        calls.append(1)
        if len(calls) <= not_ready:
            raise port_forward.NoReadyPod("no Ready pod to forward to (found 2 pods, none Ready)")
        return "web-1", 3014

    clock = _Clock()
    monkeypatch.setattr(port_forward, "connect_dynamic", lambda forward, purpose="": SimpleNamespace(client="client"))
    monkeypatch.setattr(port_forward, "resolve_target", resolve)
    monkeypatch.setattr(port_forward, "PortForwarder", _Forwarder)
    forward = {"namespace": "ns", "service": "web", "pod": None, "port": 80}
    if opens:
        with port_forward.open_forward(forward, ready_within=ready_within, clock=clock, sleep=clock.sleep) as opened:
            assert opened["pod"] == "web-1"
        assert len(calls) == not_ready + 1 and clock.now == not_ready
    else:
        with pytest.raises(PortForwardError, match="none Ready"):
            with port_forward.open_forward(forward, ready_within=ready_within, clock=clock, sleep=clock.sleep):
                pass
        assert clock.now <= ready_within + 1
