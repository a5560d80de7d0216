# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Paired with ROLLOUT_GATE_ARG_SPEC in plugins/module_utils/args_common.py.


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  namespace:
    description: Namespace of the Deployments.
    type: str
    required: true
  deployments:
    description:
      - Names of the Deployments whose rollout is gated, for example the stable and the canary Deployment.
      - The gate passes only when every one of them has completed its rollout.
    type: list
    elements: str
    required: true
  allow_missing:
    description:
      - When V(true), a Deployment that does not exist or is scaled to 0 replicas is reported in RV(deployments)
        and ignored. When V(false) it fails the gate.
    type: bool
    default: false
  timeout:
    description: Seconds to wait for all rollouts to complete before failing.
    type: int
    default: 300
  max_restarts:
    description: A container of the new ReplicaSet restarting more often than this fails the gate.
    type: int
    default: 1
  log_lines:
    description: Number of log lines of the failed container to return (previous instance first).
    type: int
    default: 20
  unschedulable_grace:
    description:
      - Seconds a pod of the new ReplicaSet may stay unschedulable (condition C(PodScheduled) C(False) with
        reason C(Unschedulable), for example C(Insufficient cpu), a node selector no node matches, or taints
        no toleration covers) before the gate fails with reason C(Unschedulable), the pod and the scheduler's
        message.
      - The time counts from the moment the gate first sees the pod unschedulable, on the controller's own
        clock, so clock skew between controller and cluster does not matter; a gate that is run again waits
        the full grace again.
      - V(0) fails as soon as such a pod is seen. A grace longer than O(timeout) never applies; the gate then
        fails with reason C(Timeout) and names the unschedulable pod in its message.
      - Pods of older ReplicaSets are never judged.
    type: int
    default: 60
  redact:
    description:
      - Secret values to mask in everything the module returns - the quoted log lines in RV(logs) and the
        message, the API's messages - with C(********); each value also in its base64 forms and, for a URL,
        its password (see the P(vextrus.deploy.redact#filter) filter for the rule).
      - The chain passes the service's secrets (C(namespace_secrets_secret_values)). Never logged.
    type: list
    elements: str
    default: []
"""
