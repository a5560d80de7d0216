#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
module: image_verify
short_description: Decide whether a service image passed its runtime verification
version_added: 0.1.0
author:
  - Vextrus Platform Engineering (@vextrus)
description:
  - The last step of the runtime verification the P(vextrus.deploy.image_build#role) role runs before it
    pushes an image. Reads the state and the log output of the verification container O(container) (which
    ran the image's own entrypoint) from the Docker daemon and combines them with the output of the
    dependency check and the answer of the health endpoint (the service shape's C(health.smoke) path).
  - Passes only when every name in O(dependencies) resolved inside the image, the process does not run as
    root (unless O(require_non_root=false)), the container is still running, the health endpoint answered
    O(health_expected_status) (with the fields of O(health_json) when given) and, with O(stop_grace), the
    container then stopped by itself on SIGTERM within that many seconds.
  - "Otherwise fails with one message quoting the container's own error output (for example
    C(Error: Cannot find module '@nestjs/core')), the missing dependencies and what to do."
  - Values listed in O(redact) are masked in everything it returns.
  - Reads from the Docker daemon; with O(stop_grace) it also stops O(container) (C(docker stop -t)),
    after everything else passed. It neither starts nor removes containers.
extends_documentation_fragment:
  - community.docker.docker.api_documentation
  - vextrus.deploy.attributes
  - vextrus.deploy.attributes.gate
options:
  image:
    description: The image under test, named in the messages.
    type: str
    required: true
  container:
    description: Name or ID of the container that ran the image's entrypoint.
    type: str
    required: true
  dependencies:
    description: Production dependencies of the service (the keys of C(dependencies) in its C(package.json)).
    type: list
    elements: str
    required: true
  dependency_output:
    description:
      - Output of the dependency check run in the image (C(roles/image_build/files/dependency_check.js)),
        which prints one C(IMAGE_VERIFY {json}) line.
    type: str
    default: ""
  dependency_status:
    description: Exit status of the dependency check; V(-1) when it did not run.
    type: int
    default: -1
  health_status:
    description: HTTP status of the last C(GET) of the health endpoint; V(-1) when it never answered.
    type: int
    default: -1
  health_detail:
    description: A short description of the last health answer or connection error.
    type: str
    default: ""
  health_path:
    description: Path of the health endpoint, for the messages.
    type: str
    default: /health
  port:
    description: The service's port inside the container, for the messages.
    type: int
    default: 3014
  health_timeout:
    description: The time budget the health endpoint had, in seconds, for the messages.
    type: float
    default: 60
  require_non_root:
    description: Fail when the image's process runs as uid 0.
    type: bool
    default: true
  health_body:
    description: Body of the last answer of the health endpoint, checked against O(health_json).
    type: str
    default: ""
  health_expected_status:
    description: The HTTP status of a healthy answer.
    type: int
    default: 200
  health_json:
    description: Fields (dotted paths) the JSON body of a healthy answer must carry; empty checks no body.
    type: dict
    default: {}
  redact:
    description:
      - Secret values (the environment the container was started with) to mask with C(********) in the quoted
        container output, the messages and every returned value; each value also in its base64 forms and, for
        a URL, its password (see the P(vextrus.deploy.redact#filter) filter for the rule). Never logged.
    type: list
    elements: str
    default: []
  stop_grace:
    description:
      - When above 0 and every other check passed, stop O(container) with SIGTERM and this many seconds
        before SIGKILL, and fail when it had to be killed (exit code 137) - the service would then be
        killed at every Kubernetes pod termination.
    type: int
    default: 0
requirements:
  - "python >= 3.11"
  - "Docker API >= 1.25"
seealso:
  - module: vextrus.deploy.image_build_context
  - module: community.docker.docker_container
"""

EXAMPLES = r"""
- name: Decide
  vextrus.deploy.image_verify:
    image: 127.0.0.1:5000/vextrus/finance:src-3f2a9c0e1b2d4e5f
    container: image-verify-finance
    dependencies: "{{ workspace.service.dependencies }}"
    dependency_output: "{{ deps_run.container.Output | default(deps_run.msg | default('')) }}"
    dependency_status: "{{ deps_run.status | default(-1) }}"
    health_status: "{{ health.status | default(-1) }}"
    health_timeout: 60
"""

RETURN = r"""
passed:
  description: Whether the image passed.
  returned: always
  type: bool
reason:
  description: V(passed), or the first failed check (V(dependencies), V(dependency_check), V(root_user), V(crashed), V(unhealthy), V(sigterm)).
  returned: always
  type: str
problems:
  description: Each failed check, in words.
  returned: always
  type: list
  elements: str
missing:
  description: Production dependencies that did not resolve, with the error of each.
  returned: always
  type: dict
  sample: {"@nestjs/core": "Cannot find module '@nestjs/core'"}
resolved:
  description: Production dependencies that resolved.
  returned: always
  type: list
  elements: str
error_lines:
  description: The lines of the container's output that state its error.
  returned: always
  type: list
  elements: str
log_tail:
  description: The last lines of the container's output.
  returned: always
  type: list
  elements: str
exit_code:
  description: Exit code of the entrypoint when it was no longer running, else null.
  returned: always
  type: int
health_status:
  description: The HTTP status the health endpoint answered with last.
  returned: always
  type: int
user_id:
  description: The uid the image's process runs as.
  returned: always
  type: int
stop_seconds:
  description: Seconds the container took to exit after SIGTERM; null when O(stop_grace) was 0 or an earlier check failed.
  returned: always
  type: float
"""

import time
import traceback

from ansible.module_utils.common.text.converters import to_text
from ansible_collections.vextrus.deploy.plugins.module_utils.image_verify import (
    decide,
    log_output,
    stop_message,
    stop_problem,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.redact import redact, redact_value

try:
    from ansible_collections.community.docker.plugins.module_utils.common_api import AnsibleDockerClient
    from ansible_collections.community.docker.plugins.module_utils._api.errors import DockerException

    IMPORT_ERROR = None
except ImportError:  # pragma: no cover - community.docker is a collection dependency
    IMPORT_ERROR = traceback.format_exc()

ARGUMENT_SPEC = {
    "image": {"type": "str", "required": True},
    "container": {"type": "str", "required": True},
    "dependencies": {"type": "list", "elements": "str", "required": True},
    "dependency_output": {"type": "str", "default": ""},
    "dependency_status": {"type": "int", "default": -1},
    "health_status": {"type": "int", "default": -1},
    "health_detail": {"type": "str", "default": ""},
    "health_path": {"type": "str", "default": "/health"},
    "port": {"type": "int", "default": 3014},
    "health_timeout": {"type": "float", "default": 60},
    "require_non_root": {"type": "bool", "default": True},
    "health_body": {"type": "str", "default": ""},
    "health_expected_status": {"type": "int", "default": 200},
    "health_json": {"type": "dict", "default": {}},
    "stop_grace": {"type": "int", "default": 0},
    "redact": {"type": "list", "elements": "str", "default": [], "no_log": True},
}


def container_state_and_logs(client: "AnsibleDockerClient", name: str) -> tuple[dict, str]:
    """The container's ``State`` and its whole stdout and stderr; ({}, "") when it does not exist."""
    inspect = client.get_container(name)
    if not inspect:
        return {}, ""
    raw = client.get_binary(
        "/containers/{0}/logs",
        inspect["Id"],
        params={"stdout": 1, "stderr": 1, "timestamps": 0, "follow": 0, "tail": "all"},
    )
    text = log_output(raw, tty=bool((inspect.get("Config") or {}).get("Tty")))
    return dict(inspect.get("State") or {}), to_text(text, errors="surrogate_or_replace")


def main() -> None:
    if IMPORT_ERROR:
        from ansible.module_utils.basic import AnsibleModule

        AnsibleModule(argument_spec=ARGUMENT_SPEC).fail_json(
            msg="community.docker is required by vextrus.deploy.image_verify", exception=IMPORT_ERROR
        )
    client = AnsibleDockerClient(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    params = client.module.params
    secrets = params["redact"]

    def fail(msg: str, **result) -> None:
        client.module.fail_json(msg=redact(msg, secrets), changed=False, **redact_value(result, secrets))

    try:
        state, logs = container_state_and_logs(client, params["container"])
    except DockerException as exc:
        fail(f"cannot read container {params['container']} from the Docker daemon: {exc}")
    verdict = decide(
        image=params["image"],
        dependencies=params["dependencies"],
        dependency_output=params["dependency_output"],
        dependency_status=params["dependency_status"],
        state=state,
        logs=logs,
        health_status=params["health_status"],
        health_detail=params["health_detail"],
        health_path=params["health_path"],
        port=params["port"],
        timeout=params["health_timeout"],
        require_non_root=params["require_non_root"],
        health_body=params["health_body"],
        health_expected_status=params["health_expected_status"],
        health_json=params["health_json"],
    ).as_dict()
    msg = verdict.pop("msg")
    verdict["stop_seconds"] = None
    if not verdict["passed"]:
        fail(msg, **verdict)
    grace = params["stop_grace"]
    if grace > 0 and not client.module.check_mode:
        try:
            started = time.monotonic()
            client.post_call("/containers/{0}/stop", params["container"], params={"t": grace}, timeout=grace + 60)
            verdict["stop_seconds"] = round(time.monotonic() - started, 1)
            state, logs = container_state_and_logs(client, params["container"])
        except DockerException as exc:
            fail(f"cannot stop container {params['container']} with SIGTERM: {exc}")
        problem = stop_problem(state, verdict["stop_seconds"], grace)
        if problem:
            verdict.update(passed=False, reason="sigterm", problems=[problem])
            fail(stop_message(params["image"], problem, logs), **verdict)
        msg += f", and it stopped on SIGTERM in {verdict['stop_seconds']} s"
    client.module.exit_json(msg=redact(msg, secrets), changed=False, **redact_value(verdict, secrets))


if __name__ == "__main__":
    main()
