"""The service shape: defaults, fall-backs and every rejected field."""

import pytest

from ansible.errors import AnsibleFilterError
from ansible_collections.vextrus.deploy.plugins.filter.service_shape import FilterModule, service_shape
from ansible_collections.vextrus.deploy.plugins.module_utils.service_shape import (
    DEFAULT_SHAPE,
    ShapeError,
    normalize_shape,
    start_command,
)


@pytest.mark.parametrize("given", [None, {}])
def test_empty_shape_is_the_example_service(given):
    shape = normalize_shape(given)
    assert shape == DEFAULT_SHAPE
    assert shape is not DEFAULT_SHAPE and shape["health"] is not DEFAULT_SHAPE["health"]


def test_readiness_startup_and_smoke_fall_back_to_liveness():
    shape = normalize_shape({"port": "3000", "health": {"liveness": "/healthz", "readiness": "", "startup": None, "smoke": "", "json": {}}})
    assert shape["port"] == 3000
    assert shape["health"] == {
        "liveness": "/healthz",
        "readiness": "/healthz",
        "startup": "/healthz",
        "smoke": "/healthz",
        "status": 200,
        "json": {},
    }


def test_smoke_falls_back_to_readiness_and_partial_health_keeps_defaults():
    shape = normalize_shape({"health": {"readiness": "/ready", "smoke": ""}})
    assert shape["health"]["smoke"] == "/ready"
    assert shape["health"]["liveness"] == "/health/live"
    assert shape["health"]["json"] == {"status": "ok"}


def test_env_values_become_strings():
    shape = normalize_shape({"env": {"LOG_LEVEL": "debug", "WORKERS": 2, "TELEMETRY": False}})
    assert shape["env"] == {"LOG_LEVEL": "debug", "WORKERS": "2", "TELEMETRY": "false"}


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"prot": 3000}, "unknown key(s) prot"),
        ({"health": {"live": "/x"}}, "unknown key(s) live in health"),
        ({"shutdown": {"grace": 5}}, "unknown key(s) grace in shutdown"),
        ({"port": 0}, "port must be an integer from 1 to 65535"),
        ({"port": 70000}, "port must be an integer from 1 to 65535"),
        ({"port": True}, "port must be an integer"),
        ({"port": "http"}, "port must be an integer"),
        ({"command": "node dist/main.js"}, "write it as a list"),
        ({"command": ["node", ""]}, "non-empty strings"),
        ({"health": {"liveness": ""}}, "health.liveness must be an HTTP path"),
        ({"health": {"liveness": "healthz"}}, "starting with '/'"),
        ({"health": {"readiness": "/a b"}}, "without spaces or empty for none"),
        ({"health": {"status": 99}}, "health.status must be an integer from 100 to 599"),
        ({"health": {"json": {"checks": {"db": "up"}}}}, "health.json.checks must be a scalar"),
        ({"health": "/health"}, "health must be a mapping"),
        ({"env": {"1BAD": "x"}}, "not a valid environment variable name"),
        ({"env": {"PORT": "3000"}}, "env PORT is set by the collection itself"),
        ({"env": {"NODE_ENV": "development"}}, "env NODE_ENV is set by the collection itself"),
        ({"env": {"LIST": [1, 2]}}, "env LIST must be a string"),
        ({"env": ["A=1"]}, "env must be a mapping"),
        ({"shutdown": {"grace_seconds": 0}}, "shutdown.grace_seconds must be an integer from 1"),
        ({"shutdown": {"prestop_seconds": -1}}, "shutdown.prestop_seconds must be an integer from 0"),
        ({"shutdown": {"grace_seconds": 5, "prestop_seconds": 5}}, "must be shorter than shutdown.grace_seconds"),
        ({"metrics_path": "metrics"}, "metrics_path must be an HTTP path"),
        ("port: 3000", "the service shape must be a mapping"),
    ],
)
def test_invalid_shapes_are_rejected_with_the_field(given, message):
    with pytest.raises(ShapeError) as caught:
        normalize_shape(given)
    assert message in str(caught.value)


def test_filter_raises_ansible_filter_error():
    with pytest.raises(AnsibleFilterError, match="unknown key"):
        service_shape({"nope": 1})
    assert FilterModule().filters()["service_shape"]({"port": 8080})["port"] == 8080


@pytest.mark.parametrize(
    ("shape_command", "workspace", "expected"),
    [
        ([], None, ["node", "dist/main.js"]),
        ([], ["node", "build/server.js"], ["node", "build/server.js"]),
        (["node", "--enable-source-maps", "x.js"], ["node", "build/server.js"], ["node", "--enable-source-maps", "x.js"]),
    ],
)
def test_start_command_prefers_the_shape_then_the_workspace(shape_command, workspace, expected):
    assert start_command({"command": shape_command}, workspace) == expected
