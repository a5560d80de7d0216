"""Images that build but do not match the service's shape fail the runtime verification, before
anything is pushed (so before any cluster write), with a message that names the shape's setting:
a start command whose file is not in the image, a service on another port than the shape's, a
health path that answers 404, a healthy answer without the shape's JSON field, and a service that
does not stop on SIGTERM within the grace period."""

from __future__ import annotations

import uuid

import pytest

from .conftest import BuildRunner, registry_tags
from .test_bad_input import assert_one_clear_failure

# A stand-in service run with the example's image (its node and its /app), answering every path
# with {"status": "ok"} on the port given, and optionally ignoring SIGTERM.
SERVER = (
    "require('http').createServer((q, s) => {{ s.setHeader('content-type', 'application/json');"
    " s.end(JSON.stringify({{status: 'ok'}})); }}).listen({port}, () => console.log('listening on {port}'));"
    "{sigterm}"
)


def stand_in(port: str, ignore_sigterm: bool = False) -> list[str]:
    sigterm = "process.on('SIGTERM', () => console.log('SIGTERM ignored'));" if ignore_sigterm else ""
    return ["node", "-e", SERVER.format(port=port, sigterm=sigterm)]


CASES = {
    "start command not in the image": (
        {"command": ["node", "dist/index.js"]},
        ["the entrypoint exited with code 1 instead of serving", "Cannot find module '/app/dist/index.js'"],
    ),
    "port mismatch": (
        {"command": stand_in("3999")},
        ["GET /health on port 3014 did not answer 200 with the expected JSON within 8 s: it never answered",
         "listens on port 3014", "the service shape: port and health.smoke"],
    ),
    "health path that 404s": (
        {"health": {"smoke": "/healthz"}},
        ["GET /healthz on port 3014 did not answer 200 with the expected JSON within 8 s: the last answer was 404"],
    ),
    "healthy answer without the shape's JSON": (
        {"health": {"json": {"status": "up"}}},
        ["did not answer 200 with the expected JSON", "status is 'ok' (expected 'up')"],
    ),
    "SIGTERM ignored": (
        {"command": stand_in("process.env.PORT", ignore_sigterm=True), "shutdown": {"grace_seconds": 3, "prestop_seconds": 1}},
        ["did not stop on SIGTERM within the termination grace period (3 s) and was killed (exit code 137",
         "SIGTERM ignored", "app.enableShutdownHooks()"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_image_not_matching_its_shape_fails_verification_and_is_not_pushed(
    case: str, run_build: BuildRunner, docker_client, tmp_path
) -> None:
    shape, messages = CASES[case]
    repository = f"vextrus/image-build-shape-{uuid.uuid4().hex[:8]}"
    run = run_build(
        {
            "image_build_repository": repository,
            "image_build_service_shape": shape,
            "image_build_verify_timeout": 8,
            "image_build_work_dir": str(tmp_path / "work"),
        }
    )
    assert_one_clear_failure(run, "failed runtime verification, nothing was pushed", *messages)
    assert registry_tags(repository) == []
