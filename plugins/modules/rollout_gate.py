#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rollout_gate
short_description: Wait for Deployment rollouts and fail fast when the new pods cannot run
version_added: 0.1.0
author:
  - Vextrus Platform Engineering (@vextrus)
description:
  - Follows the rollout of one or more Deployments through the Kubernetes API's watch on the Deployment,
    its ReplicaSets and its pods, and re-evaluates the rollout on every event (no polling).
  - Succeeds when every Deployment has observed its latest generation, all replicas are updated, ready and
    available, and no pod of an older ReplicaSet is left (terminating pods count as left, except those being
    deleted on a node lost for 60 s, which no kubelet will ever confirm; they go away only once the Node object is
    deleted).
  - Fails as soon as a pod of the NEW ReplicaSet shows C(CrashLoopBackOff), C(ImagePullBackOff),
    C(ErrImagePull), C(InvalidImageName), C(CreateContainerConfigError), C(CreateContainerError),
    C(RunContainerError), an C(OOMKilled) termination, more than O(max_restarts) restarts (init containers
    included), when a pod of the new ReplicaSet stays C(Unschedulable) for O(unschedulable_grace) seconds, or
    when the Deployment reports C(ProgressDeadlineExceeded). Pods of older ReplicaSets never fail the gate.
  - Fails with the reason C(NodeNotReady) or C(NodeLost) when a pod of the new ReplicaSet has not been ready for
    60 s because its node is lost, which is not the release's fault (the report classes it ERROR); the 60 s
    keep a control plane back from an outage, which marks every node not ready for a few seconds, from failing
    the gate. The evidence is that the pod's
    Node is gone or its C(Ready) condition is not C(True) (the gate reads the Nodes of the pods that are not
    ready every 10 s while it waits, when the credentials may C(get) Nodes; without that right it judges from
    the pods alone), the pod is being deleted by the pod garbage collector or evicted from an unreachable node
    (condition C(DisruptionTarget)), or the node lifecycle controller marked it not ready (C(Ready) false while
    C(ContainersReady) is true).
  - On failure it returns the pod, container, reason, exit code and the last O(log_lines) lines of the failed
    container's previous log (or current log), and quotes the first error line in the message.
  - Values listed in O(redact) are masked in everything it returns.
  - Transient errors of the Kubernetes API (connection refused or reset, HTTP 429 with its C(Retry-After), 5xx
    other than 501) are retried with backoff (0.5 s, 1 s, then every 2 s) within O(timeout), also while connecting;
    a watch broken by one, or ended by C(410 Gone), lists its objects again and goes on. Refusals (400, 401, 403,
    404, 409, 422) fail at once. Each outage is returned in RV(api_outages).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - vextrus.deploy.rollout_gate_options
  - vextrus.deploy.attributes
  - vextrus.deploy.attributes.gate
  - vextrus.deploy.attributes.k8s_group
requirements:
  - "python >= 3.11"
  - "kubernetes >= 24.2.0"
"""

EXAMPLES = r"""
- name: Gate the canary and the stable Deployment of week 2
  vextrus.deploy.rollout_gate:
    kubeconfig: "{{ k8s_kubeconfig }}"
    namespace: vextrus-production
    deployments:
      - finance-service
      - finance-service-canary
    allow_missing: "{{ rollout_week | int == 4 }}"
    timeout: 300
  register: gate

- name: Show the readiness per Deployment
  ansible.builtin.debug:
    var: gate.ready

- name: The connection set once for every module of the action group
  module_defaults:
    group/vextrus.deploy.k8s:
      kubeconfig: "{{ k8s_kubeconfig }}"
      context: production
  block:
    - name: The deployer may run the chain
      vextrus.deploy.access_review:
        namespace: vextrus-production

    - name: Gate the stable Deployment
      vextrus.deploy.rollout_gate:
        namespace: vextrus-production
        deployments:
          - finance-service
"""

RETURN = r"""
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 12.73
ready:
  description: Ready pods over desired replicas per Deployment.
  returned: always
  type: dict
  sample: {"finance-service": "9/9", "finance-service-canary": "1/1"}
deployments:
  description: State, reason, message and counts per Deployment (C(missing) or C(scaled_to_zero) when ignored).
  returned: always
  type: dict
deployment:
  description: The Deployment that failed.
  returned: failure
  type: str
pod:
  description: The pod of the new ReplicaSet that failed.
  returned: failure of a pod
  type: str
  sample: finance-service-6c9d8f7b5-h8d2k
container:
  description: The container that failed (may be an init container); null for C(Unschedulable), C(NodeNotReady)
    and C(NodeLost).
  returned: failure of a pod
  type: str
reason:
  description: Why the gate failed, for example C(CrashLoopBackOff), C(OOMKilled), C(RestartLimitExceeded),
    C(Unschedulable), C(NodeNotReady), C(NodeLost), C(ProgressDeadlineExceeded), C(Timeout), or C(ApiUnavailable)
    (the timeout passed while the Kubernetes API could not be reached, so the rollout itself was not judged).
  returned: failure
  type: str
message:
  description:
    - The detail behind RV(reason), as the API reports it.
    - >-
      For C(Unschedulable) it ends with the scheduler's message, for example
      "0/4 nodes are available: 1 Insufficient cpu, 3 node(s) didn't match Pod's node affinity/selector".
  returned: failure
  type: str
exit_code:
  description: Exit code of the last terminated instance of the container.
  returned: failure of a pod
  type: int
restart_count:
  description: Restarts of the failed container.
  returned: failure of a pod
  type: int
logs:
  description: Last lines of the failed container's log, previous instance first.
  returned: failure of a pod
  type: list
  elements: str
  sample: ["Error: Cannot find module '@nestjs/core'"]
log_source:
  description: C(previous) or C(current), or why no log could be read.
  returned: failure of a pod
  type: str
api_outages:
  description:
    - The times the Kubernetes API could not be used while the gate ran (transient errors retried), in time order;
      outages several watches saw at once are one.
    - C(started) (UTC), C(seconds) until a request succeeded again, the first C(error), and C(ended) (false when the
      API was still unavailable as the gate ended).
  returned: when the API had an outage
  type: list
  elements: dict
  sample: [{"started": "2026-12-03T15:31:07Z", "seconds": 11.4, "error": "MaxRetryError (NewConnectionError)", "ended": true}]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.vextrus.deploy.plugins.module_utils.args_common import rollout_gate_argspec
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import (
    K8S_IMPORT_ERROR,
    K8sConnectionError,
    connect,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.redact import redact
from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_watch import RolloutGateError, run_rollout_gate


def run_module(params: dict, check_mode: bool) -> dict:
    return run_rollout_gate(
        connect(params),
        namespace=params["namespace"],
        deployments=params["deployments"],
        timeout=params["timeout"],
        max_restarts=params["max_restarts"],
        log_lines=params["log_lines"],
        allow_missing=params["allow_missing"],
        check_mode=check_mode,
        unschedulable_grace=params["unschedulable_grace"],
        secrets=params["redact"],
    )


def main() -> None:
    module = AnsibleModule(argument_spec=rollout_gate_argspec(), supports_check_mode=True)
    if K8S_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=K8S_IMPORT_ERROR)
    try:
        result = run_module(module.params, module.check_mode)
    except (RolloutGateError, K8sConnectionError) as exc:
        module.fail_json(msg=redact(str(exc), module.params["redact"]))
    if result.pop("failed", False):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
