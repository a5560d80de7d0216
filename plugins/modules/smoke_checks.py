#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: smoke_checks
short_description: Run a service's smoke checks in shared rounds through one port-forward
version_added: 0.2.0
author:
  - Vextrus Platform Engineering (@vextrus)
description:
  - Runs each of O(checks) as M(vextrus.deploy.health_gate) probes one URL - O(successes) answers in a row
    with an expected status (and JSON values) within O(timeout).
  - The checks share their rounds; every O(interval) each check that has not passed yet is asked once, in
    order, and a round goes on past a check only while that check's latest answer was a success, so no
    check is asked while one before it fails. Three checks of three answers at 1 s take about 2 s.
  - A check's O(timeout) counts from the moment every check before it has passed, as if the checks ran one
    after the other. The first check in order that runs out of it fails; the checks after it are returned
    as skipped.
  - With O(port_forward), every check goes through the one port-forward the module opens to a Ready pod of
    the Service and always closes when it ends. While no pod is Ready it looks again every second for up to
    O(timeout) seconds before the first check fails.
  - The bearer token goes only to the checks marked O(checks[].authenticated). It is never returned, and it and
    the values of O(redact) are masked in every body excerpt, detail and message returned.
  - With O(bearer_token_secret) (mutually exclusive with O(bearer_token)) the module mints the token itself from a
    key of a Secret it reads, so the signing key and the token never appear in the task's arguments or result;
    every value of that Secret is masked too. A Secret or key that is missing fails every check as not run, with
    the reason.
  - Fails when a check did not pass, with the result of every check.
  - Runs where the task runs; use C(delegate_to=localhost) to probe from the controller.
extends_documentation_fragment:
  - vextrus.deploy.health_gate_options.probe
  - vextrus.deploy.bearer_token_secret
  - vextrus.deploy.attributes
  - vextrus.deploy.attributes.gate
options:
  checks:
    description:
      - The checks, in the order they run.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the check in the result (unique).
        type: str
        required: true
      url:
        description:
          - The check's URL; through O(port_forward) only its scheme, path and query count.
        type: str
        required: true
      expected_status:
        description:
          - The answers this check takes as a success, for example V(401) for a call without a token.
        type: list
        elements: int
        default:
          - 200
      json_match:
        description:
          - Dotted paths into the JSON response body and the value each must have, as
            M(vextrus.deploy.health_gate) takes them.
        type: dict
      successes:
        description:
          - Consecutive successful responses this check needs; unset takes O(successes).
        type: int
      authenticated:
        description:
          - Send O(bearer_token) with this check's requests.
        type: bool
        default: false
requirements:
  - "python >= 3.11"
  - "kubernetes >= 24.2.0 (only for O(port_forward))"
"""

EXAMPLES = r"""
- name: Smoke test through one port-forward to the Service
  vextrus.deploy.smoke_checks:
    checks:
      - name: health
        url: http://finance-service/health
        json_match:
          status: ok
      - name: authenticated API call
        url: http://finance-service/api/v1/accounts
        authenticated: true
      - name: API call without a token gets 401
        url: http://finance-service/api/v1/accounts
        expected_status: [401]
        successes: 1
    bearer_token: "{{ smoke_jwt }}"
    redact: "{{ service_secret_values }}"
    port_forward:
      namespace: vextrus-production
      service: finance-service
      port: 80
  delegate_to: localhost
  register: smoke

- name: The same, the token minted from the service's Secret (the key never passes through a variable)
  vextrus.deploy.smoke_checks:
    checks:
      - name: authenticated API call
        url: http://finance-service/api/v1/accounts
        authenticated: true
    bearer_token_secret:
      namespace: vextrus-production
      name: finance-service-secrets
      key: JWT_SECRET
      claims:
        sub: smoke-test
        roles: [reader]
    port_forward:
      namespace: vextrus-production
      service: finance-service
      port: 80
  delegate_to: localhost
"""

RETURN = r"""
passed:
  description: Whether every check passed.
  returned: always
  type: bool
checks:
  description:
    - One entry per check, in order, each with C(name) and C(result).
    - C(result) is what a M(vextrus.deploy.health_gate) task of the check registers (C(passed), C(failed),
      C(msg), C(elapsed), C(urls) with attempts, status and latency percentiles; C(failed_url), C(last_status)
      and C(body_excerpt) when it failed; C(port_forward)), or C(skipped) and C(skip_reason) for a check
      that did not run after an earlier one failed.
  returned: always
  type: list
  elements: dict
  sample:
    - name: health
      result:
        passed: true
        failed: false
        msg: all 1 URLs answered 3 times in a row
        elapsed: 2.04
        urls:
          - url: http://127.0.0.1:40211/health
            attempts: 3
            successes: 3
            consecutive_successes: 3
            passed: true
            last_status: 200
            last_detail: status 200
            latency_ms: {p50: 4.1, p95: 5.3, max: 5.3}
port_forward:
  description: Pod, remote port and local port of the port-forward.
  returned: when O(port_forward) is set and a pod was found
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.vextrus.deploy.plugins.module_utils.args_common import smoke_checks_argspec
from ansible_collections.vextrus.deploy.plugins.module_utils.bearer_token import TokenError, secret_token
from ansible_collections.vextrus.deploy.plugins.module_utils.health_probe import rewrite_url
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import K8S_IMPORT_ERROR, K8sConnectionError
from ansible_collections.vextrus.deploy.plugins.module_utils.port_forward import PortForwardError, open_forward
from ansible_collections.vextrus.deploy.plugins.module_utils.smoke_checks import (
    ProbeBudget,
    SmokeCheck,
    parse_checks,
    run_smoke_checks,
    unreached,
)


def _run(params: dict, checks: list[SmokeCheck], token: str | None, secrets: list[str]) -> dict:
    budget = ProbeBudget(
        successes=params["successes"],
        interval=params["interval"],
        timeout=params["timeout"],
        request_timeout=params["request_timeout"],
        validate_certs=params["validate_certs"],
        secrets=tuple(secrets),
    )
    if not params["port_forward"]:
        return run_smoke_checks(checks, budget, bearer_token=token)
    # the checks' own budget covers a moment without a Ready pod (the gate saw them Ready just before)
    with open_forward(params["port_forward"], ready_within=params["timeout"]) as forward:
        result = run_smoke_checks(
            checks,
            budget,
            bearer_token=token,
            url_for=lambda url: rewrite_url(url, "127.0.0.1", forward["local_port"]),
            extra={"port_forward": forward},
        )
    result["port_forward"] = forward
    return result


def main() -> None:
    module = AnsibleModule(
        argument_spec=smoke_checks_argspec(),
        mutually_exclusive=[("bearer_token", "bearer_token_secret")],
        supports_check_mode=True,
    )
    params = module.params
    if (params["port_forward"] or params["bearer_token_secret"]) and K8S_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=K8S_IMPORT_ERROR)
    try:
        checks = parse_checks(params["checks"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
        return
    token, values = params["bearer_token"], []
    secrets = [token or "", *params["redact"]]
    try:
        if params["bearer_token_secret"]:
            token, values = secret_token(params["bearer_token_secret"])
            module.no_log_values.add(token)  # never returned, not even in the invocation's arguments
            secrets = [token, *values, *params["redact"]]
        result = _run(params, checks, token, [*values, *params["redact"]])
    except (PortForwardError, K8sConnectionError, TokenError, ValueError) as exc:
        result = unreached(checks, str(exc), secrets)
    if not result["passed"]:
        module.fail_json(changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
