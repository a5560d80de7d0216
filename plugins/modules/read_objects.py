#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module read_objects."""

from __future__ import annotations

DOCUMENTATION = r"""
module: read_objects
short_description: Read several Kubernetes objects in one call
version_added: 0.2.0
author: Vextrus Platform Engineering (@vextrus)
description:
  - Reads each of O(objects) - one object by name, or every object of a kind in a namespace - in one module
    call, and returns for each what M(kubernetes.core.k8s_info) returns as C(resources). The chain reads what
    a run starts from (the release record, the Deployments, the HPA, the objects a rollback restores) with it,
    instead of one C(k8s_info) call per object.
  - An object that does not exist, or whose kind's API the cluster lacks (a CRD not installed), reads as no
    object. Any other refusal fails the task with the object and the API server's answer; transient errors
    (connection refused, 429, 5xx) are tried again within a time budget first.
  - The objects read may hold secret data (a Secret); use C(no_log) on such a task, or O(secret_values=false)
    where the Secret's keys are enough.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - vextrus.deploy.attributes
  - vextrus.deploy.attributes.k8s_group
attributes:
  check_mode:
    support: full
    details: It only reads, so it reads in check mode too.
  diff_mode:
    support: none
options:
  namespace:
    description: Namespace of the objects that name none; cluster-scoped kinds (Namespace, Node, CRD) take none.
    type: str
  objects:
    description: The objects to read, in the order they are returned.
    type: list
    elements: dict
    required: true
    suboptions:
      api_version:
        description: API group and version, for example V(v1) or V(apps/v1).
        type: str
        required: true
        aliases:
          - apiVersion
      kind:
        description: Kind of the object, for example V(Deployment).
        type: str
        required: true
      name:
        description: Name of the object; without it every object of the kind in the namespace is read.
        type: str
      namespace:
        description: Namespace of this object, instead of O(namespace).
        type: str
      plural:
        description: Resource name of the kind in the API's URLs, when it is not the kind in lower case made
          plural in English (V(networkpolicies) is known).
        type: str
      ignore_forbidden:
        description:
          - Whether a refusal to read this object (403, the credentials lack the right) reads as no object, with
            the API server's answer in RV(objects[].forbidden), instead of failing the task. For what a deployer
            may well not be allowed to read, such as a CRD or the kube-system Namespace.
        type: bool
        default: false
  secret_values:
    description:
      - Whether a Secret is returned with its values. V(false) returns its keys only - each value of C(data) an
        empty string, no C(stringData), no C(kubectl.kubernetes.io/last-applied-configuration) annotation - so
        the task's result holds no secret and needs no C(no_log).
    type: bool
    default: true
  server_version:
    description:
      - Whether to read the API server's version too, returned as RV(server); one call then tells whether the
        API answers and reads the objects.
    type: bool
    default: false
requirements:
  - python >= 3.11
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: Read the release record, the Deployments and the HPA
  vextrus.deploy.read_objects:
    namespace: vextrus-production
    objects:
      - {api_version: v1, kind: ConfigMap, name: finance-service-release}
      - {api_version: apps/v1, kind: Deployment}
      - {api_version: autoscaling/v2, kind: HorizontalPodAutoscaler, name: finance-service}
  register: read

- name: The Deployments
  ansible.builtin.debug:
    msg: "{{ read.objects[1].resources | map(attribute='metadata.name') }}"

- name: The service account and the keys of the service's Secret, without its values
  vextrus.deploy.read_objects:
    namespace: vextrus-production
    objects:
      - {api_version: v1, kind: ServiceAccount, name: finance-service}
      - {api_version: v1, kind: Secret, name: finance-service-secrets}
    secret_values: false
  register: read

- name: Whether the API answers, its version, and the cluster's identity if the credentials may read it
  vextrus.deploy.read_objects:
    server_version: true
    objects:
      - {api_version: v1, kind: Namespace, name: kube-system, ignore_forbidden: true}
  register: cluster
"""

RETURN = r"""
server:
  description: The API server's address and version, with O(server_version).
  returned: when O(server_version=true)
  type: dict
  contains:
    host:
      description: The API server's URL, as the kubeconfig gives it.
      type: str
      sample: https://127.0.0.1:6443
    version:
      description: The API server's C(/version) answer (C(major), C(minor), C(gitVersion), ...).
      type: dict
      sample: {"major": "1", "minor": "34", "gitVersion": "v1.34.4"}
objects:
  description:
    - One entry per object of O(objects), in order.
    - Named C(objects), not C(results) - Ansible leaves a result's C(results) uncensored under C(no_log).
  returned: always
  type: list
  elements: dict
  contains:
    api_version:
      description: As asked.
      type: str
    kind:
      description: As asked.
      type: str
    name:
      description: As asked; empty for every object of the kind.
      type: str
    namespace:
      description: The namespace read; empty for a cluster-scoped kind.
      type: str
    resources:
      description: The objects found, as M(kubernetes.core.k8s_info) returns them; each item of a list read
        has its C(apiVersion) and C(kind).
      type: list
      elements: dict
    forbidden:
      description: The API server's refusal, for an object marked O(objects[].ignore_forbidden) that the
        credentials may not read; empty otherwise.
      type: str
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
from ansible_collections.vextrus.deploy.plugins.module_utils.args_common import read_objects_argspec
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
from ansible_collections.vextrus.deploy.plugins.module_utils.read_objects import (
    Forbidden,
    ReadObjectsError,
    parse_refs,
    read_objects,
)


def _getter(client, retrier: Retrier):
    def get(path: str, label: str):
        def call():
            try:
                return get_json(client, path)
            except ApiException as exc:
                if exc.status == 403:
                    raise Forbidden(f"cannot read {label}: {exc.status} {exc.reason}", refusal_message(exc)) from exc
                raise

        return api_call(f"read {label}", call, client.client, retrier)

    return get


def _server(client, retrier: Retrier) -> dict:
    """The API server's address and version (what ``kubectl version`` shows of the server)."""
    answer = api_call("read the API server's version", lambda: request_json(client, "GET", "/version"), client.client, retrier)
    return {"host": client.client.configuration.host, "version": answer}


def run_module(params: dict) -> dict:
    """Every object of ``objects`` read, in their order. The key is not ``results``: Ansible shows a
    task's ``results`` even under no_log (it takes them for a loop's, censored item by item)."""
    refs = parse_refs(params["objects"], params["namespace"] or "")
    retrier = Retrier.for_budget()  # every read of the call shares one budget
    client = connect_dynamic(params, retrier=retrier)
    result = {"changed": False}
    if params["server_version"]:
        result["server"] = _server(client, retrier)
    result["objects"] = read_objects(refs, _getter(client, retrier), params["secret_values"])
    if outages := retrier.log.as_result():
        result["api_outages"] = outages
    return result


def main() -> None:
    module = AnsibleModule(argument_spec=read_objects_argspec(), supports_check_mode=True)
    if K8S_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=K8S_IMPORT_ERROR)
    try:
        result = run_module(module.params)
    except (ReadObjectsError, Forbidden, K8sConnectionError) as exc:
        module.fail_json(msg=str(exc))
    for warning in outage_warnings(result.get("api_outages", [])):
        module.warn(warning)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
