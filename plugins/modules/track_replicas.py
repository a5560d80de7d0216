#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module track_replicas."""

from __future__ import annotations

DOCUMENTATION = r"""
module: track_replicas
short_description: Write the stable and canary replicas a run plan decides, never over an HPA's choice
version_added: 0.2.0
author: Vextrus Platform Engineering (@vextrus)
description:
  - The week's apply leaves C(spec.replicas) out of the service's Deployments, so that between runs the HPAs own
    it. This module writes it, under a field manager of its own (O(field_manager)), only where the run plan
    changes a count - a week that moves pods between the tracks, a resize from the inventory, an abort that gives
    stable the service's size.
  - Each write is a server-side apply of C(spec.replicas) alone, on condition that the Deployment has not changed
    since it was read (its resourceVersion). When an HPA scaled a track after the plan read it, the counts are
    decided again on what the HPA chose (the run plan's rule, C(vextrus.deploy.run_plan)), so the run never
    writes back a count an HPA has just replaced; RV(decided_again) says so.
  - The tracks that grow are written first.
  - A Deployment whose replicas O(take_over_from) alone owns (applied by an earlier version of the chain, or by a
    rollback restoring its snapshot) is taken over at the same count, so an apply that leaves C(spec.replicas) out
    does not set it back to the default of 1. The chain does this before its apply with O(counts=false).
  - Deployments that do not exist are left alone (the apply creates them).
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - vextrus.deploy.attributes
  - vextrus.deploy.attributes.k8s_group
attributes:
  check_mode:
    support: full
    details: Every write is a dry run on the API server (C(dryRun=All)).
  diff_mode:
    support: full
    details: The diff shows each changed Deployment's replicas before and after.
options:
  namespace:
    description: The namespace of the Deployments.
    type: str
    required: true
  plan:
    description:
      - The run plan, as the C(vextrus.deploy.run_plan) filter returns it. Its C(stable) and C(canary) name the
        Deployments and give their counts, C(basis) the counts the plan was made from.
    type: dict
    required: true
  counts:
    description: Write the plan's counts. V(false) only takes the replicas over (O(take_over_from)).
    type: bool
    default: true
  take_over_from:
    description: The field manager of the apply; where it alone owns a Deployment's replicas, take them over first.
    type: str
    default: ''
  field_manager:
    description: The field manager that owns the replicas the run writes.
    type: str
    default: vextrus-deploy-replicas
requirements:
  - python >= 3.11
  - kubernetes >= 24.2.0
seealso:
  - name: Transferring ownership (server-side apply)
    description: How a field like C(spec.replicas) is handed over to an HPA.
    link: https://kubernetes.io/docs/reference/using-api/server-side-apply/#transferring-ownership
"""

EXAMPLES = r"""
- name: Write the week's replicas where the plan changes them
  vextrus.deploy.track_replicas:
    namespace: vextrus-production
    plan: "{{ rollout_plan }}"
  register: counts

- name: Before an apply that leaves spec.replicas out, take the replicas over from it where it alone owns them
  vextrus.deploy.track_replicas:
    namespace: vextrus-production
    plan: "{{ rollout_plan }}"
    counts: false
    take_over_from: vextrus-deploy
"""

RETURN = r"""
tracks:
  description: One entry per track of the plan, stable first.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The Deployment's name.
      type: str
    exists:
      description: Whether the Deployment exists.
      type: bool
    before:
      description: Its replicas before the write (0 when it does not exist).
      type: int
    after:
      description: Its replicas after the write (in check mode, as they would be).
      type: int
    changed:
      description: Whether the module wrote its replicas.
      type: bool
    taken_over:
      description: Whether the write took the replicas over from O(take_over_from).
      type: bool
  sample:
    - {name: finance-service-stable, exists: true, before: 11, after: 8, changed: true, taken_over: false}
    - {name: finance-service-canary, exists: true, before: 1, after: 4, changed: true, taken_over: false}
decided_again:
  description: An HPA scaled a track after the plan read it; the counts written are the plan's rule applied to what it chose.
  returned: always
  type: bool
api_outages:
  description: The times the Kubernetes API could not be used during the call (transient errors tried again).
  returned: when the API had an outage
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.vextrus.deploy.plugins.module_utils.api_retry import Retrier, outage_warnings
from ansible_collections.vextrus.deploy.plugins.module_utils.args_common import track_replicas_argspec
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import (
    K8S_IMPORT_ERROR,
    ApiException,
    K8sConnectionError,
    api_call,
    connect_dynamic,
    get_json,
    refusal_message,
    request_json,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.track_replicas import (
    Conflict,
    ReplicasApi,
    TrackReplicasError,
    scale_definition,
    write_track_replicas,
)

_APPLY_PATCH = "application/apply-patch+yaml"


def _api(dynamic, params: dict, check_mode: bool, retrier: Retrier) -> ReplicasApi:
    namespace = params["namespace"]
    api_client = dynamic.client

    def _path(name: str) -> str:
        return f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"

    def get(name: str):
        return api_call(f"read Deployment {namespace}/{name}", lambda: get_json(dynamic, _path(name)), api_client, retrier)

    def apply(name: str, replicas: int, resource_version: str):
        def call():
            try:
                return request_json(dynamic, "PATCH", _path(name), scale_definition(name, namespace, replicas, resource_version),
                                    content_type=_APPLY_PATCH, field_manager=params["field_manager"], force_conflicts=True,
                                    dry_run="All" if check_mode else None)
            except ApiException as exc:
                if exc.status == 409:
                    raise Conflict(name) from exc
                if exc.status in (400, 403, 404, 422):
                    raise TrackReplicasError(f"cannot set the replicas of Deployment {namespace}/{name} to {replicas}: "
                                             f"{refusal_message(exc)}") from exc
                raise

        return api_call(f"write the replicas of Deployment {namespace}/{name}", call, api_client, retrier)

    return ReplicasApi(get=get, apply=apply)


def run_module(params: dict, check_mode: bool) -> dict:
    """The plan's counts written (or the replicas taken over), with a diff of the changed Deployments."""
    retrier = Retrier.for_budget()
    dynamic = connect_dynamic(params, retrier=retrier)
    result = write_track_replicas(params["plan"], _api(dynamic, params, check_mode, retrier), counts=params["counts"],
                                  take_over_from=params["take_over_from"], check_mode=check_mode)
    changed = [track for track in result["tracks"] if track["changed"]]
    result["changed"] = bool(changed)
    result["diff"] = {"before": {track["name"]: {"replicas": track["before"]} for track in changed},
                      "after": {track["name"]: {"replicas": track["after"]} for track in changed}}
    if outages := retrier.log.as_result():
        result["api_outages"] = outages
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=track_replicas_argspec(), supports_check_mode=True)
    if K8S_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=K8S_IMPORT_ERROR)
    try:
        result = run_module(module.params, module.check_mode)
    except (TrackReplicasError, K8sConnectionError) as exc:
        module.fail_json(msg=str(exc))
    for warning in outage_warnings(result.get("api_outages", [])):
        module.warn(warning)
    if not module._diff:
        result.pop("diff")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
