# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The service's shape: one description of how the service runs and answers, read by the image's
HEALTHCHECK, the image verification, the Deployment's probes and lifecycle, and the smoke test.

``normalize_shape`` fills the defaults (the example finance service) and checks every field, so a
typo or a wrong type is one clear error before anything is built or written. Pure Python, no
Ansible imports.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Set by the chain itself from the shape (PORT) or the track; the shape's env may not override them.
RESERVED_ENV = ("PORT", "NODE_ENV", "VEXTRUS_TRACK")
MAX_GRACE_SECONDS = 3600

DEFAULT_SHAPE: dict[str, Any] = {
    "port": 3014,
    "command": [],
    "health": {
        "liveness": "/health/live",
        "readiness": "/health/ready",
        "startup": "/health/live",
        "smoke": "/health",
        "status": 200,
        "json": {"status": "ok"},
    },
    "metrics_path": "",
    "env": {},
    "shutdown": {"grace_seconds": 30, "prestop_seconds": 5},
}


class ShapeError(ValueError):
    """The service shape is invalid; the message names the field, what was found and what to do."""


def _integer(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ShapeError(f"service shape: {field} must be an integer from {low} to {high}, found {value!r}")
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        value = int(value)
    if not isinstance(value, int) or not low <= value <= high:
        raise ShapeError(f"service shape: {field} must be an integer from {low} to {high}, found {value!r}")
    return value


def _path(value: Any, field: str, allow_empty: bool) -> str:
    if value is None and allow_empty:
        return ""
    if not isinstance(value, str):
        raise ShapeError(f"service shape: {field} must be an HTTP path such as /health, found {value!r}")
    value = value.strip()
    if not value and allow_empty:
        return ""
    if not value.startswith("/") or any(c.isspace() for c in value):
        hint = " or empty for none" if allow_empty else ""
        raise ShapeError(
            f"service shape: {field} must be an HTTP path starting with '/' without spaces{hint}, found {value!r}"
        )
    return value


def _unknown(given: Mapping[str, Any], known: Mapping[str, Any], where: str) -> None:
    extra = sorted(set(given) - set(known))
    if extra:
        raise ShapeError(
            f"service shape: unknown key(s) {', '.join(map(str, extra))} in {where}; "
            f"the keys are {', '.join(sorted(known))}. Fix the spelling."
        )


def _mapping(value: Any, field: str) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ShapeError(f"service shape: {field} must be a mapping, found {type(value).__name__} {value!r}")
    return value


def _command(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        raise ShapeError(
            f"service shape: command must be a list of arguments such as [node, dist/main.js] (exec form, "
            f"no shell), found the string {value!r}; write it as a list"
        )
    if not isinstance(value, (list, tuple)) or not all(isinstance(arg, str) and arg for arg in value):
        raise ShapeError(f"service shape: command must be a list of non-empty strings, found {value!r}")
    return list(value)


def _env(value: Any) -> dict[str, str]:
    env: dict[str, str] = {}
    for name, raw in _mapping(value, "env").items():
        if not isinstance(name, str) or not ENV_NAME.match(name):
            raise ShapeError(
                f"service shape: env name {name!r} is not a valid environment variable name "
                f"(letters, digits and '_', not starting with a digit)"
            )
        if name in RESERVED_ENV:
            raise ShapeError(
                f"service shape: env {name} is set by the collection itself ({', '.join(RESERVED_ENV)}); "
                f"remove it (PORT comes from the shape's port)"
            )
        if isinstance(raw, (dict, list, tuple)) or raw is None:
            raise ShapeError(f"service shape: env {name} must be a string, number or boolean, found {raw!r}")
        env[name] = str(raw).lower() if isinstance(raw, bool) else str(raw)
    return env


def _json_match(value: Any) -> dict[str, Any]:
    match = dict(_mapping(value, "health.json"))
    for key, expected in match.items():
        if isinstance(expected, (dict, list, tuple)):
            raise ShapeError(
                f"service shape: health.json.{key} must be a scalar (string, number, boolean or null) the "
                f"answer's top-level field is compared with, found {expected!r}"
            )
    return match


def normalize_shape(shape: Mapping[str, Any] | None) -> dict[str, Any]:
    """The shape with every default filled in and every field checked.

    Empty readiness or startup paths fall back to the liveness path (a service without a readiness
    endpoint is probed for readiness where it is probed for liveness); an empty smoke path falls
    back to the readiness path. A preStop delay must leave the service time to stop within the
    termination grace period.
    """
    given = _mapping(shape, "the service shape")
    _unknown(given, DEFAULT_SHAPE, "the service shape")
    health_given = _mapping(given.get("health"), "health")
    _unknown(health_given, DEFAULT_SHAPE["health"], "health")
    shutdown_given = _mapping(given.get("shutdown"), "shutdown")
    _unknown(shutdown_given, DEFAULT_SHAPE["shutdown"], "shutdown")
    health = {**DEFAULT_SHAPE["health"], **health_given}
    shutdown = {**DEFAULT_SHAPE["shutdown"], **shutdown_given}

    liveness = _path(health["liveness"], "health.liveness", allow_empty=False)
    readiness = _path(health["readiness"], "health.readiness", allow_empty=True) or liveness
    startup = _path(health["startup"], "health.startup", allow_empty=True) or liveness
    smoke = _path(health["smoke"], "health.smoke", allow_empty=True) or readiness
    grace = _integer(shutdown["grace_seconds"], "shutdown.grace_seconds", 1, MAX_GRACE_SECONDS)
    prestop = _integer(shutdown["prestop_seconds"], "shutdown.prestop_seconds", 0, MAX_GRACE_SECONDS)
    if prestop >= grace:
        raise ShapeError(
            f"service shape: shutdown.prestop_seconds ({prestop}) must be shorter than shutdown.grace_seconds "
            f"({grace}): Kubernetes counts the preStop delay against the grace period, so the service "
            f"would be killed before it could stop. Lower the delay or raise the grace period."
        )
    return {
        "port": _integer(given.get("port", DEFAULT_SHAPE["port"]), "port", 1, 65535),
        "command": _command(given.get("command")),
        "health": {
            "liveness": liveness,
            "readiness": readiness,
            "startup": startup,
            "smoke": smoke,
            "status": _integer(health["status"], "health.status", 100, 599),
            "json": _json_match(health["json"]),
        },
        "metrics_path": _path(given.get("metrics_path", ""), "metrics_path", allow_empty=True),
        "env": _env(given.get("env")),
        "shutdown": {"grace_seconds": grace, "prestop_seconds": prestop},
    }


def start_command(shape: Mapping[str, Any], workspace_command: list[str] | None) -> list[str]:
    """The command the image runs: the shape's when given, else the one derived from the workspace,
    else ``node dist/main.js``."""
    return list(shape.get("command") or workspace_command or ["node", "dist/main.js"])
