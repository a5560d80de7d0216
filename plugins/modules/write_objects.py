#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module write_objects."""

from __future__ import annotations

DOCUMENTATION = r"""
module: write_objects
short_description: Apply (server-side) or delete a run's bookkeeping objects in one call
version_added: 0.2.0
author: Vextrus Platform Engineering (@vextrus)
description:
  - Applies each of O(objects) with a server-side apply, or deletes it, in one module call. The rollout chain
    writes its own bookkeeping with it - the release record (a ConfigMap) and the snapshot kept until a run's
    verdict (a Secret) - and the service's objects with M(kubernetes.core.k8s).
  - Every object is checked before the first write; it needs C(apiVersion), C(kind) and C(metadata.name), and
    C(metadata.namespace) unless its kind is cluster-scoped.
  - A C(metadata.resourceVersion) in a definition makes its apply conditional - the API server refuses it
    (409 Conflict) when the object changed since it was read - so two runs never overwrite each other's record.
  - Transient errors (connection refused, 429, 5xx) are tried again within a time budget; a refusal (400, 403,
    409, 422) fails the task at once with its HTTP status in RV(status), naming the object and quoting the API
    server's message, never the object's content.
  - In check mode every apply is a server-side dry run, so a task with C(check_mode=true) tells which objects
    a real apply would change, as M(kubernetes.core.k8s) in check mode does (RV(objects[].changed)).
  - The objects may hold secret data (a Secret); use C(no_log) on such a task.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - vextrus.deploy.attributes
  - vextrus.deploy.attributes.k8s_group
attributes:
  check_mode:
    support: full
    details: An apply is a dry run on the API server (C(dryRun=All)); nothing is deleted, the result says what would be.
  diff_mode:
    support: none
options:
  objects:
    description: The definitions to apply, or the objects to delete, in order.
    type: list
    elements: dict
    required: true
  state:
    description: Apply the objects (V(present)) or delete them (V(absent)); deleting an object that does not exist is no change.
    type: str
    choices: [present, absent]
    default: present
  field_manager:
    description: The field manager of the server-side apply.
    type: str
    default: vextrus-deploy
  force_conflicts:
    description: Take over the fields another field manager owns.
    type: bool
    default: true
requirements:
  - python >= 3.11
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Write the release record, on condition that nobody changed it since it was read
  vextrus.deploy.write_objects:
    objects:
      - apiVersion: v1
        kind: ConfigMap
        metadata:
          name: finance-service-release
          namespace: vextrus-production
          resourceVersion: "48213"
        data:
          record.json: "{{ record | to_json }}"
    field_manager: vextrus-deploy-release-record
  register: saved

- name: Remove the snapshot kept until the verdict
  vextrus.deploy.write_objects:
    objects:
      - {apiVersion: v1, kind: Secret, metadata: {name: finance-service-rollout-snapshot, namespace: vextrus-production}}
    state: absent
  no_log: true
"""

RETURN = r"""
objects:
  description:
    - One entry per object of O(objects), in order.
    - Named C(objects), not C(results) - Ansible leaves a result's C(results) uncensored under C(no_log).
  returned: always
  type: list
  elements: dict
  contains:
    api_version:
      description: The object's C(apiVersion).
      type: str
    kind:
      description: The object's C(kind).
      type: str
    name:
      description: The object's name.
      type: str
    namespace:
      description: The object's namespace; empty for a cluster-scoped kind.
      type: str
    changed:
      description: Whether the object was created, changed or deleted (would be, in check mode).
      type: bool
    result:
      description: The object as the API server returned it after the apply (in check mode, as it would be); empty after a delete.
      type: dict
status:
  description: The HTTP status of the API server's refusal.
  returned: when the API server refused a write
  type: int
  sample: 422
api_outages:
  description:
    - The times the Kubernetes API could not be used during the call (transient errors tried again), each also
      shown as a warning - C(started) (UTC), C(seconds) until a request succeeded again, the first C(error), C(ended).
  returned: when the API had an outage
  type: list
  elements: dict
  sample: [{"started": "2026-12-03T15:31:07Z", "seconds": 9.4, "error": "MaxRetryError (NewConnectionError)", "ended": true}]
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.vextrus.deploy.plugins.module_utils.api_retry import Retrier, outage_warnings
from ansible_collections.vextrus.deploy.plugins.module_utils.args_common import write_objects_argspec
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
from ansible_collections.vextrus.deploy.plugins.module_utils.write_objects import ObjectsApi, Refused, WriteObjectsError, write_objects

_APPLY_PATCH = "application/apply-patch+yaml"
# answers that are the request's fault, not the API's state: never tried again, quoted as the server says them
_REFUSALS = (400, 403, 409, 422)


def _api(dynamic, params: dict, check_mode: bool, retrier: Retrier) -> ObjectsApi:
    api_client = dynamic.client

    def get(path: str, label: str):
        return api_call(f"read {label}", lambda: get_json(dynamic, path), api_client, retrier)

    def apply(path: str, label: str, obj):
        def call():
            try:
                return request_json(dynamic, "PATCH", path, obj, content_type=_APPLY_PATCH, field_manager=params["field_manager"],
                                    force_conflicts=params["force_conflicts"], dry_run="All" if check_mode else None)
            except ApiException as exc:
                if exc.status in _REFUSALS:
                    said = refusal_message(exc)
                    said = said if said.startswith(str(exc.status)) else f"{exc.status} {said}"
                    raise Refused(f"cannot {'dry-run' if check_mode else 'apply'} {label}: {said}", exc.status) from exc
                raise

        return api_call(f"apply {label}", call, api_client, retrier)

    def delete(path: str, label: str) -> None:
        def call():
            try:
                request_json(dynamic, "DELETE", path)
            except ApiException as exc:
                if exc.status != 404:  # deleted meanwhile
                    raise

        api_call(f"delete {label}", call, api_client, retrier)

    return ObjectsApi(get=get, apply=apply, delete=delete)


def run_module(params: dict, check_mode: bool) -> dict:
    """Every object of ``objects`` applied or deleted, in order."""
    retrier = Retrier.for_budget()  # every call of the module shares one budget
    dynamic = connect_dynamic(params, retrier=retrier)
    written = write_objects(params["objects"], params["state"], _api(dynamic, params, check_mode, retrier), check_mode)
    result = {"changed": any(item["changed"] for item in written), "objects": written}
    if outages := retrier.log.as_result():
        result["api_outages"] = outages
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=write_objects_argspec(), supports_check_mode=True)
    if K8S_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=K8S_IMPORT_ERROR)
    try:
        result = run_module(module.params, module.check_mode)
    except Refused as exc:
        module.fail_json(msg=str(exc), status=exc.status)
    except (WriteObjectsError, K8sConnectionError) as exc:
        module.fail_json(msg=str(exc))
    for warning in outage_warnings(result.get("api_outages", [])):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
