"""The verdict of image_build's runtime verification, from the texts real images produce."""

from __future__ import annotations

import json
import struct

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.image_verify import (
    clean_lines,
    decide,
    error_lines,
    log_output,
    parse_dependency_check,
    stop_message,
    stop_problem,
)

DEPENDENCIES = [
    "@nestjs/common",
    "@nestjs/core",
    "@nestjs/jwt",
    "@nestjs/platform-express",
    "@vextrus/money",
    "reflect-metadata",
    "rxjs",
]
IMAGE = "127.0.0.1:5000/vextrus/finance:src-4f935512ed760d20"

# What the seed's image printed (node 20, the broken pnpm layout), as `docker logs` returns it.
SEED_CRASH_LOG = """node:internal/modules/cjs/loader:1215
  throw err;
  ^

Error: Cannot find module '@nestjs/core'
Require stack:
- /app/dist/main.js
    at Module._resolveFilename (node:internal/modules/cjs/loader:1212:15)
    at Module._load (node:internal/modules/cjs/loader:1043:27)
    at Module.require (node:internal/modules/cjs/loader:1298:19)
    at require (node:internal/modules/helpers:182:18)
    at Object.<anonymous> (/app/dist/main.js:40:16)
    at Module._compile (node:internal/modules/cjs/loader:1529:14) {
  code: 'MODULE_NOT_FOUND',
  requireStack: [ '/app/dist/main.js' ]
}

Node.js v20.19.2
"""

HEALTHY_LOG = (
    "\x1b[32m[Nest] 1  - \x1b[39m11/26/2026, 8:09:01 AM \x1b[32m    LOG\x1b[39m \x1b[33m[NestFactory] \x1b[39m"
    "\x1b[32mStarting Nest application...\x1b[39m\r\n"
    "[Nest] 1  - 11/26/2026, 8:09:01 AM     LOG [NestApplication] Nest application successfully started\r\n"
)
CRASHED = {"Status": "exited", "Running": False, "ExitCode": 1, "OOMKilled": False, "Error": ""}
RUNNING_HEALTHY = {"Status": "running", "Running": True, "ExitCode": 0, "Health": {"Status": "healthy"}}


def check_output(resolved: list[str], missing: dict[str, str], uid: int = 10001) -> str:
    report = {
        "node": "v20.19.2",
        "uid": uid,
        "dir": "/app",
        "resolved": {name: f"/app/node_modules/{name}/index.js" for name in resolved},
        "missing": missing,
    }
    return "IMAGE_VERIFY " + json.dumps(report) + "\n"


SEED_DEPENDENCY_OUTPUT = check_output([], {name: f"Cannot find module '{name}'" for name in DEPENDENCIES}, uid=1001)
GOOD_DEPENDENCY_OUTPUT = check_output(DEPENDENCIES, {})


def test_seed_layout_fails_with_the_containers_own_error():
    verdict = decide(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=SEED_DEPENDENCY_OUTPUT,
        dependency_status=0,
        state=CRASHED,
        logs=SEED_CRASH_LOG,
        health_status=None,
    )
    assert not verdict.passed
    assert verdict.reason == "dependencies"
    assert "Error: Cannot find module '@nestjs/core'" in verdict.msg
    assert "Require stack: - /app/dist/main.js" in verdict.msg
    assert "nothing was pushed" in verdict.msg
    assert "7 of 7 production dependencies" in verdict.msg
    assert "pnpm --filter <service> deploy --prod" in verdict.msg
    assert "exited with code 1" in verdict.msg
    assert set(verdict.missing) == set(DEPENDENCIES)
    assert verdict.exit_code == 1
    assert verdict.log_tail[-1] == "Node.js v20.19.2"
    assert verdict.error_lines[0] == "Error: Cannot find module '@nestjs/core'"


def test_healthy_image_passes():
    verdict = decide(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=GOOD_DEPENDENCY_OUTPUT,
        dependency_status=0,
        state=RUNNING_HEALTHY,
        logs=HEALTHY_LOG,
        health_status=200,
    )
    assert verdict.passed, verdict.msg
    assert verdict.reason == "passed"
    assert verdict.resolved == sorted(DEPENDENCIES)
    assert verdict.user_id == 10001
    assert "7 production dependencies resolve" in verdict.msg
    assert all("\x1b" not in line for line in verdict.log_tail)


def test_one_missing_dependency_fails_even_when_the_service_answers():
    # a lazily required package: the server starts, but the first request that needs it would crash
    output = check_output([d for d in DEPENDENCIES if d != "@nestjs/jwt"], {"@nestjs/jwt": "Cannot find module '@nestjs/jwt'"})
    verdict = decide(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=output,
        dependency_status=0,
        state=RUNNING_HEALTHY,
        logs=HEALTHY_LOG,
        health_status=200,
    )
    assert not verdict.passed
    assert verdict.reason == "dependencies"
    assert verdict.missing == {"@nestjs/jwt": "Cannot find module '@nestjs/jwt'"}
    assert "1 of 7 production dependencies" in verdict.msg
    # nothing in a healthy log is an error line
    assert "Container output" not in verdict.msg


def test_dependency_the_check_did_not_report_counts_as_missing():
    output = check_output(DEPENDENCIES[:-1], {})
    verdict = decide(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=output,
        dependency_status=0,
        state=RUNNING_HEALTHY,
        logs="",
        health_status=200,
    )
    assert not verdict.passed
    assert verdict.missing == {"rxjs": "not reported by the check"}


def test_missing_secret_crash_quotes_the_services_message():
    log = (
        "finance: cannot start: JWT_SECRET is not set: the service signs nothing itself but must verify HS256 "
        "bearer tokens; provide the shared secret in the JWT_SECRET environment variable\n"
    )
    verdict = decide(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=GOOD_DEPENDENCY_OUTPUT,
        dependency_status=0,
        state=CRASHED,
        logs=log,
        health_status=-1,
    )
    assert not verdict.passed
    assert verdict.reason == "crashed"
    assert "finance: cannot start: JWT_SECRET is not set" in verdict.msg
    assert "Fix the start-up error" in verdict.msg


def test_oom_killed_is_named():
    state = {"Status": "exited", "Running": False, "ExitCode": 137, "OOMKilled": True}
    verdict = decide(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=GOOD_DEPENDENCY_OUTPUT,
        dependency_status=0,
        state=state,
        logs="<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n",
        health_status=-1,
    )
    assert verdict.reason == "crashed"
    assert "exited with code 137, killed for running out of memory (OOMKilled)" in verdict.msg
    assert "FATAL ERROR: Reached heap limit" in verdict.msg


def test_running_but_unhealthy_reports_the_last_answer():
    verdict = decide(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=GOOD_DEPENDENCY_OUTPUT,
        dependency_status=0,
        state={"Status": "running", "Running": True, "Health": {"Status": "starting"}},
        logs=HEALTHY_LOG,
        health_status=503,
        health_detail="GET /health: 503",
        timeout=30,
    )
    assert not verdict.passed
    assert verdict.reason == "unhealthy"
    assert "GET /health on port 3014 did not answer 200 within 30 s: the last answer was 503 (GET /health: 503)" in verdict.msg
    assert "raise image_build_verify_timeout" in verdict.msg


def test_never_answering_service():
    verdict = decide(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=GOOD_DEPENDENCY_OUTPUT,
        dependency_status=0,
        state={"Status": "running", "Running": True},
        logs="",
        health_status=-1,
        health_detail="connect ECONNREFUSED 127.0.0.1:3014",
    )
    assert verdict.reason == "unhealthy"
    assert "it never answered (connect ECONNREFUSED 127.0.0.1:3014)" in verdict.msg


def test_root_user_fails_unless_allowed():
    output = check_output(DEPENDENCIES, {}, uid=0)
    kwargs = dict(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=output,
        dependency_status=0,
        state=RUNNING_HEALTHY,
        logs=HEALTHY_LOG,
        health_status=200,
    )
    verdict = decide(**kwargs)
    assert verdict.reason == "root_user"
    assert "runs as root (uid 0)" in verdict.msg
    assert decide(**kwargs, require_non_root=False).passed


def test_image_without_node():
    output = (
        'Error response from daemon: failed to create shim task: OCI runtime create failed: runc create failed: '
        'unable to start container process: exec: "node": executable file not found in $PATH: unknown'
    )
    verdict = decide(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=output,
        dependency_status=127,
        state=CRASHED,
        logs="",
        health_status=-1,
    )
    assert verdict.reason == "dependency_check"
    assert 'exec: "node": executable file not found' in verdict.msg
    assert "(exit status 127)" in verdict.msg


def test_vanished_container():
    verdict = decide(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=GOOD_DEPENDENCY_OUTPUT,
        dependency_status=0,
        state={},
        logs="",
        health_status=-1,
    )
    assert verdict.reason == "crashed"
    assert "was not found" in verdict.msg


@pytest.mark.parametrize(
    ("log", "expected"),
    [
        (SEED_CRASH_LOG, ["Error: Cannot find module '@nestjs/core'", "Require stack: - /app/dist/main.js"]),
        (
            "TypeError [ERR_INVALID_ARG_TYPE]: The \"path\" argument must be of type string\n    at x\n",
            ['TypeError [ERR_INVALID_ARG_TYPE]: The "path" argument must be of type string'],
        ),
        ("one\ntwo\nthree\nfour\n", ["two", "three", "four"]),
    ],
)
def test_error_lines(log, expected):
    assert error_lines(clean_lines(log)) == expected


def test_report_line_found_among_other_output():
    output = "npm warn something\n" + GOOD_DEPENDENCY_OUTPUT + "trailing\n"
    report = parse_dependency_check(output)
    assert report.ran and report.uid == 10001 and set(report.resolved) == set(DEPENDENCIES)
    assert not parse_dependency_check("IMAGE_VERIFY {not json").ran


@pytest.mark.parametrize(
    ("status", "body", "expected_status", "json_match", "passed", "fragment"),
    [
        # a service whose health answers 204 with no body, as its shape says
        (204, "", 204, {}, True, "GET /healthz answered 204"),
        # the right status, but the body is not what the shape asks for
        (200, '{"ok": false}', 200, {"ok": True}, False, "the last answer was 200 but its body: ok is False (expected True)"),
        (200, "fine", 200, {"ok": True}, False, "body is not JSON"),
        (200, '{"ok": true}', 200, {"ok": True}, True, "GET /healthz answered 200"),
        # a health path that does not exist
        (404, '{"statusCode": 404}', 200, {}, False, "GET /healthz on port 3000 did not answer 200 within 60 s: the last answer was 404"),
    ],
)
def test_health_answer_is_checked_against_the_shape(status, body, expected_status, json_match, passed, fragment):
    verdict = decide(
        image=IMAGE,
        dependencies=DEPENDENCIES,
        dependency_output=GOOD_DEPENDENCY_OUTPUT,
        dependency_status=0,
        state=RUNNING_HEALTHY,
        logs=HEALTHY_LOG,
        health_status=status,
        health_body=body,
        health_expected_status=expected_status,
        health_json=json_match,
        health_path="/healthz",
        port=3000,
    )
    assert verdict.passed is passed, verdict.msg
    assert fragment in verdict.msg
    if not passed:
        assert "health.smoke, health.status, health.json" in verdict.msg


@pytest.mark.parametrize(
    ("state", "seconds", "fragment"),
    [
        ({"Running": False, "ExitCode": 0}, 1.2, ""),
        ({"Running": False, "ExitCode": 143}, 0.1, ""),  # an init passed SIGTERM on, the default action ended node
        ({"Running": False, "ExitCode": 137, "OOMKilled": False}, 30.2, "did not stop on SIGTERM within the termination grace period (30 s)"),
        ({"Running": True}, 30.5, "still ran 30.5 s after SIGTERM"),
        ({}, 0.0, "was gone before it could be stopped"),
    ],
)
def test_stop_problem(state, seconds, fragment):
    problem = stop_problem(state, seconds, 30)
    assert (problem == "") if not fragment else (fragment in problem)


def test_stop_message_names_the_fix_and_quotes_the_output():
    msg = stop_message(IMAGE, "the container did not stop on SIGTERM", "listening on 3000\nstill here\n")
    assert msg.startswith(f"image {IMAGE} failed runtime verification, nothing was pushed: the container did not stop")
    assert "Container output: listening on 3000 | still here." in msg
    assert "enableShutdownHooks" in msg and "image_build_entrypoint" in msg


def frame(stream: int, payload: bytes) -> bytes:
    """One frame of Docker's stream format (a container without a TTY)."""
    return struct.pack(">BxxxL", stream, len(payload)) + payload


@pytest.mark.parametrize(
    ("raw", "tty", "expected"),
    [
        (frame(1, b"listening on 3000\n") + frame(2, b"Error: Cannot find module '@nestjs/core'\n") + frame(1, b"bye\n"),
         False, b"listening on 3000\nError: Cannot find module '@nestjs/core'\nbye\n"),
        (frame(2, SEED_CRASH_LOG.encode()), False, SEED_CRASH_LOG.encode()),
        (frame(1, b"caf\xc3") + frame(1, b"\xa9\n"), False, "café\n".encode()),  # a character split across frames
        (frame(1, b""), False, b""),
        (b"", False, b""),
        (frame(1, b"whole\n") + struct.pack(">BxxxL", 2, 40)[:5], False, b"whole\n"),  # a cut-off header is dropped
        (frame(1, b"whole\n") + struct.pack(">BxxxL", 2, 40) + b"cut", False, b"whole\ncut"),  # a cut-off payload is kept
        (b"\x1b[32mtty output\r\n", True, b"\x1b[32mtty output\r\n"),
    ],
)
def test_log_output(raw, tty, expected):
    assert log_output(raw, tty) == expected
