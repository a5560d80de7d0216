#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: health_gate
short_description: Require consecutive healthy HTTP answers within a time budget
version_added: 0.1.0
author:
  - Vextrus Platform Engineering (@vextrus)
description:
  - Probes each URL until it answered O(successes) times in a row with a status in O(expected_status) and,
    when O(json_match) is given, a JSON body with the expected values. Any failed probe resets the count.
  - Records latency per URL (p50, p95, max in milliseconds) and fails when the O(timeout) budget runs out,
    quoting the last status and an excerpt of the body. The bearer token is never returned and is masked in
    body excerpts, as are the values listed in O(redact).
  - With O(port_forward), the probes go through a port-forward to a Ready pod of a Service (as
    C(kubectl port-forward) does); the forward is always closed when the module ends.
  - Runs where the task runs; use C(delegate_to=localhost) to probe from the controller.
extends_documentation_fragment:
  - vextrus.deploy.health_gate_options
  - vextrus.deploy.health_gate_options.probe
  - vextrus.deploy.attributes
  - vextrus.deploy.attributes.gate
requirements:
  - "python >= 3.11"
  - "kubernetes >= 24.2.0 (only for O(port_forward))"
"""

EXAMPLES = r"""
- name: Smoke test through a port-forward to the Service
  vextrus.deploy.health_gate:
    urls:
      - http://finance-service/health
      - http://finance-service/api/v1/accounts
    json_match:
      status: ok
    bearer_token: "{{ smoke_jwt }}"
    successes: 3
    timeout: 60
    port_forward:
      kubeconfig: "{{ k8s_kubeconfig }}"
      namespace: vextrus-production
      service: finance-service
      port: 80
  delegate_to: localhost
  register: smoke
"""

RETURN = r"""
passed:
  description: Whether every URL reached O(successes) consecutive successes.
  returned: always
  type: bool
elapsed:
  description: Seconds spent probing.
  returned: always
  type: float
urls:
  description: Per URL results.
  returned: always
  type: list
  elements: dict
  contains:
    url:
      description: The probed URL (after rewriting for the port-forward).
      type: str
    attempts:
      description: Requests sent.
      type: int
    successes:
      description: Successful responses in total.
      type: int
    consecutive_successes:
      description: Successful responses in a row at the end.
      type: int
    passed:
      description: Whether this URL passed.
      type: bool
    last_status:
      description: HTTP status of the last response, null when the last request got no response.
      type: int
    last_detail:
      description: Why the last response counted as success or failure.
      type: str
    latency_ms:
      description: Latency percentiles C(p50), C(p95) and C(max) in milliseconds.
      type: dict
failed_url:
  description: The first URL that did not pass.
  returned: failure
  type: str
last_status:
  description: Last HTTP status of RV(failed_url).
  returned: failure
  type: int
body_excerpt:
  description: First 300 characters of the last body of RV(failed_url), with the token masked.
  returned: failure
  type: str
port_forward:
  description: Pod, remote port and local port of the port-forward.
  returned: when O(port_forward) is set
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.vextrus.deploy.plugins.module_utils.args_common import health_gate_argspec
from ansible_collections.vextrus.deploy.plugins.module_utils.health_probe import rewrite_url, run_probes
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import K8S_IMPORT_ERROR, K8sConnectionError
from ansible_collections.vextrus.deploy.plugins.module_utils.port_forward import PortForwardError, open_forward
from ansible_collections.vextrus.deploy.plugins.module_utils.redact import redact


def _probe(params: dict, urls: list[str]) -> dict:
    return run_probes(
        urls,
        expected_status=params["expected_status"],
        json_match=params["json_match"],
        successes=params["successes"],
        interval=params["interval"],
        timeout=params["timeout"],
        request_timeout=params["request_timeout"],
        bearer_token=params["bearer_token"],
        validate_certs=params["validate_certs"],
        secrets=params["redact"],
    )


def _probe_through_port_forward(params: dict) -> dict:
    with open_forward(params["port_forward"]) as forward:
        result = _probe(params, [rewrite_url(url, "127.0.0.1", forward["local_port"]) for url in params["urls"]])
    result["port_forward"] = forward
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=health_gate_argspec(), supports_check_mode=True)
    if module.params["port_forward"] and K8S_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=K8S_IMPORT_ERROR)
    try:
        if module.params["port_forward"]:
            result = _probe_through_port_forward(module.params)
        else:
            result = _probe(module.params, module.params["urls"])
    except (PortForwardError, K8sConnectionError, ValueError) as exc:
        module.fail_json(msg=redact(str(exc), module.params["redact"]))
    passed = result["passed"]
    msg = result.pop("message")
    if not passed:
        module.fail_json(msg=msg, changed=False, **result)
    module.exit_json(msg=msg, changed=False, **result)


if __name__ == "__main__":
    main()
