# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdict of a runtime verification of a service image, from what was observed:

- the output of the dependency check (``roles/image_build/files/dependency_check.js`` run with
  ``node`` in the image: one ``IMAGE_VERIFY {json}`` line with the resolved and missing packages),
- the state of the container that ran the image's own entrypoint (``docker inspect`` ``State``),
- that container's log output (``GET /containers/{id}/logs``, see ``log_output``),
- the answer of ``GET <health path>`` on its published port,
- how the container stopped when it was sent SIGTERM (``docker stop`` with the grace period).

Pure functions, no I/O: unit-tested with the texts real images produce.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.health_probe import check_response

MARKER = "IMAGE_VERIFY "
LOG_TAIL = 40
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
# "Error: Cannot find module '@nestjs/core'", "TypeError [ERR_X]: ...", "SyntaxError: ...",
# "finance: cannot start: JWT_SECRET is not set", "FATAL ERROR: ... JavaScript heap out of memory"
_ERROR_LINE = re.compile(
    r"(?:^|\s)(?:[A-Za-z]*(?:Error|Exception)(?:\s*\[[A-Z0-9_]+\])?:\s)|\bcannot start\b|\bFATAL\b|\bstartup failed\b",
)

HINT_DEPENDENCIES = (
    "The runtime stage must hold a self-contained production folder (for a pnpm workspace: "
    "`pnpm --filter <service> deploy --prod <dir>` copied whole), not copies of node_modules/.pnpm or of "
    "a package's node_modules, whose pnpm links are relative and point outside the image."
)
HINT_CRASH = "Fix the start-up error quoted above; the task result carries the container's last log lines (log_tail)."
HINT_UNHEALTHY = (
    "Check that the service listens on port {port} on all interfaces and answers GET {path} with {status}"
    "{json} (the service shape: port and health.smoke, health.status, health.json), "
    "or raise image_build_verify_timeout if it needs longer to start."
)
HINT_SIGTERM = (
    "PID 1 of the container must pass SIGTERM on to the service and the service must then exit: use a "
    "runtime base whose entrypoint is an init (the local bases run tini) or set image_build_entrypoint to "
    "one, and let the service stop on SIGTERM (NestJS: app.enableShutdownHooks()), or raise the shape's "
    "shutdown.grace_seconds if it needs longer to drain."
)
SIGKILL_EXIT = 137
# Docker's stream format of a container without a TTY: per frame 1 byte stream (1 stdout, 2 stderr),
# 3 zero bytes and the payload's length as a big-endian 32-bit number, then the payload
_FRAME_HEADER = struct.Struct(">BxxxL")
HINT_ROOT = "Set a numeric, unprivileged USER in the runtime stage (the role's Dockerfile uses image_build_user_uid)."


@dataclass
class DependencyReport:
    ran: bool
    node: str = ""
    uid: int | None = None
    directory: str = ""
    resolved: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    raw: str = ""


@dataclass
class Verdict:
    passed: bool
    reason: str
    msg: str
    problems: list[str]
    missing: dict[str, str]
    resolved: list[str]
    error_lines: list[str]
    log_tail: list[str]
    exit_code: int | None
    health_status: int | None
    user_id: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def log_output(raw: bytes, tty: bool) -> bytes:
    """stdout and stderr as one text from the body of the Docker Engine API's container logs
    endpoint: as it is for a container with a TTY, else the payloads of its frames in order."""
    if tty:
        return raw
    payloads = []
    offset = 0
    while offset + _FRAME_HEADER.size <= len(raw):
        _stream, length = _FRAME_HEADER.unpack_from(raw, offset)
        offset += _FRAME_HEADER.size
        payloads.append(raw[offset : offset + length])
        offset += length
    return b"".join(payloads)


def clean_lines(text: str | None) -> list[str]:
    """Log text as lines: ANSI colours and carriage returns removed, trailing blank lines dropped."""
    lines = [_ANSI.sub("", line).rstrip() for line in (text or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def parse_dependency_check(output: str | None, status: int | None = 0) -> DependencyReport:
    """The report printed by dependency_check.js; ``ran=False`` when there is none (node missing,
    the container failed to start...), with the raw output kept for the message."""
    text = output or ""
    for line in clean_lines(text):
        index = line.find(MARKER)
        if index == -1:
            continue
        try:
            data = json.loads(line[index + len(MARKER) :])
        except ValueError:
            continue
        if not isinstance(data, Mapping):
            continue
        uid = data.get("uid")
        return DependencyReport(
            ran=True,
            node=str(data.get("node") or ""),
            uid=uid if isinstance(uid, int) else None,
            directory=str(data.get("dir") or ""),
            resolved={str(k): str(v) for k, v in (data.get("resolved") or {}).items()},
            missing={str(k): str(v) for k, v in (data.get("missing") or {}).items()},
            raw=text,
        )
    return DependencyReport(ran=False, raw=text)


def error_lines(lines: Sequence[str], limit: int = 4, fallback: bool = True) -> list[str]:
    """The lines of a log that state the error: Node's ``Error: ...`` line (with the first entry of a
    ``Require stack``), or the service's own ``cannot start`` line. Falls back to the last lines."""
    found: list[str] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("at "):
            continue
        if _ERROR_LINE.search(stripped):
            if stripped not in found:
                found.append(stripped)
            if index + 2 < len(lines) and lines[index + 1].strip() == "Require stack:":
                entry = f"Require stack: {lines[index + 2].strip()}"
                if entry not in found:
                    found.append(entry)
        if len(found) >= limit:
            break
    if not found and fallback:
        found = [line.strip() for line in lines if line.strip()][-3:]
    return found[:limit]


def _first_line(text: str) -> str:
    return next((line for line in clean_lines(text) if line.strip()), "").strip()


def _exit_description(state: Mapping[str, Any]) -> str:
    code = state.get("ExitCode")
    parts = [f"exited with code {code}"]
    if state.get("OOMKilled"):
        parts.append("killed for running out of memory (OOMKilled)")
    if state.get("Error"):
        parts.append(f"Docker reported: {state['Error']}")
    return ", ".join(parts)


def decide(
    *,
    image: str,
    dependencies: Sequence[str],
    dependency_output: str | None,
    dependency_status: int | None,
    state: Mapping[str, Any] | None,
    logs: str | None,
    health_status: int | None,
    health_detail: str = "",
    health_path: str = "/health",
    port: int = 3014,
    timeout: float = 60,
    require_non_root: bool = True,
    health_body: str = "",
    health_expected_status: int = 200,
    health_json: Mapping[str, Any] | None = None,
) -> Verdict:
    """Passed only when every production dependency resolves in the image, the process does not run
    as root (unless allowed), the container still runs and ``GET <health_path>`` answered with the
    expected status (and, with ``health_json``, a JSON body carrying those fields)."""
    report = parse_dependency_check(dependency_output, dependency_status)
    state = dict(state or {})
    lines = clean_lines(logs)
    problems: list[str] = []
    reasons: list[str] = []
    hints: list[str] = []

    expected = sorted(dict.fromkeys(dependencies))
    missing: dict[str, str] = {}
    if not report.ran:
        detail = _first_line(report.raw) or "no output"
        problems.append(
            f"the dependency check could not run in the image (exit status {dependency_status}): {detail}"
        )
        reasons.append("dependency_check")
        hints.append("The runtime image must provide `node` on its PATH.")
    else:
        missing = {name: report.missing.get(name, "not reported by the check") for name in expected if name not in report.resolved}
        if missing:
            listed = "; ".join(f"{name}: {why}" for name, why in missing.items())
            problems.append(
                f"{len(missing)} of {len(expected)} production dependencies of package.json do not resolve "
                f"from {report.directory or 'the working directory'}: {listed}"
            )
            reasons.append("dependencies")
            hints.append(HINT_DEPENDENCIES)
        if require_non_root and report.uid == 0:
            problems.append("the image runs as root (uid 0)")
            reasons.append("root_user")
            hints.append(HINT_ROOT)

    running = bool(state.get("Running"))
    exit_code = state.get("ExitCode") if not running else None
    errors = error_lines(lines, fallback=not running)
    if not state:
        problems.append("the verification container was not found, so the entrypoint was never observed")
        reasons.append("crashed")
        hints.append(HINT_CRASH)
    elif not running:
        problems.append(f"the entrypoint {_exit_description(state)} instead of serving")
        reasons.append("crashed")
        hints.append(HINT_CRASH)
    else:
        healthy, detail = check_response(
            health_status if health_status and health_status > 0 else None,
            health_body,
            [health_expected_status],
            health_json,
        )
        if not healthy:
            wanted = f"{health_expected_status}" + (" with the expected JSON" if health_json else "")
            if not health_status or health_status < 0:
                answer = "it never answered"
            elif health_status != health_expected_status:
                answer = f"the last answer was {health_status}"
            else:
                answer = f"the last answer was {health_status} but its body: {detail}"
            if health_detail and health_detail not in answer:
                answer += f" ({health_detail})"
            problems.append(f"GET {health_path} on port {port} did not answer {wanted} within {timeout:g} s: {answer}")
            reasons.append("unhealthy")
            json_hint = f" and JSON fields {dict(health_json)}" if health_json else ""
            hints.append(HINT_UNHEALTHY.format(port=port, path=health_path, status=health_expected_status, json=json_hint))

    tail = lines[-LOG_TAIL:]
    if not problems:
        msg = (
            f"image {image} passed runtime verification: {len(expected)} production dependencies resolve, "
            f"the entrypoint runs as uid {report.uid} and GET {health_path} answered {health_status}"
        )
        return Verdict(True, "passed", msg, [], {}, sorted(report.resolved), [], tail, None, health_status, report.uid)

    msg = f"image {image} failed runtime verification, nothing was pushed: " + "; ".join(problems) + "."
    if errors:
        msg += " Container output: " + " | ".join(errors) + "."
    msg += " " + " ".join(dict.fromkeys(hints))
    return Verdict(
        False,
        reasons[0],
        msg,
        problems,
        missing,
        sorted(report.resolved),
        errors,
        tail,
        exit_code,
        health_status,
        report.uid,
    )


def stop_problem(state: Mapping[str, Any] | None, seconds: float, grace: int) -> str:
    """What went wrong when the verification container was stopped with SIGTERM and ``grace``
    seconds before SIGKILL (``docker stop -t grace``); "" when it exited by itself in time."""
    state = dict(state or {})
    if not state:
        return "the verification container was gone before it could be stopped with SIGTERM"
    if state.get("Running"):
        return f"the container still ran {seconds:.1f} s after SIGTERM and a {grace} s grace period"
    if state.get("ExitCode") == SIGKILL_EXIT and not state.get("OOMKilled"):
        return (
            f"the container did not stop on SIGTERM within the termination grace period ({grace} s) and was "
            f"killed (exit code {SIGKILL_EXIT} after {seconds:.1f} s)"
        )
    return ""


def stop_message(image: str, problem: str, logs: str | None) -> str:
    """The failure message of a container that did not stop on SIGTERM, with its last log lines."""
    tail = [line.strip() for line in clean_lines(logs) if line.strip()][-3:]
    msg = f"image {image} failed runtime verification, nothing was pushed: {problem}."
    if tail:
        msg += " Container output: " + " | ".join(tail) + "."
    return f"{msg} {HINT_SIGTERM}"
