import pytest

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
