#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module access_review."""

from __future__ import annotations

DOCUMENTATION = r"""
module: access_review
short_description: Check that the current credentials may do what a rollout needs
version_added: 0.1.0
author: Vextrus Platform Engineering (@vextrus)
description:
  - Asks the API server, with one C(SelfSubjectAccessReview) per rule, whether the current identity may
    perform every action the rollout chain performs in O(namespace) - apply Deployments, Services,
    autoscalers, disruption budgets, network policies, secrets and the release record, watch pods and
    read their logs, open port-forwards.
  - Fails with one message naming every denied action before anything is written; reports nothing as
    changed (access reviews are not stored).
  - When the namespace does not exist yet, also checks that namespaces may be created.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - vextrus.deploy.attributes
  - vextrus.deploy.attributes.k8s_group
attributes:
  check_mode:
    support: full
    details: Access reviews write nothing, so they run in check mode too.
  diff_mode:
    support: none
options:
  namespace:
    description: Namespace of the service.
    type: str
    required: true
  extra_rules:
    description: More rules to check, each with C(verb), C(resource) and optionally C(group), C(subresource), C(name).
    type: list
    elements: dict
    default: []
  lease:
    description:
      - Name of the run's Lease (vextrus.deploy.run_lease, C(<service>-rollout)). When set, also checks that
        leases may be created and that this Lease may be read, updated and deleted.
    type: str
    version_added: 0.2.0
requirements:
  - python >= 3.11
  - kubernetes >= 24.2.0
"""

EXAMPLES = r"""
- name: The deployer may run the chain in vextrus-production
  vextrus.deploy.access_review:
    namespace: vextrus-production

- name: And may take the run lock of finance-service
  vextrus.deploy.access_review:
    namespace: vextrus-production
    lease: finance-service-rollout
"""

RETURN = r"""
allowed:
  description: Rules that were allowed, as C(verb resource (group)).
  returned: always
  type: list
  elements: str
denied:
  description: Rules that were denied, with the API server's reason.
  returned: always
  type: list
  elements: dict
namespace_exists:
  description: Whether the namespace exists.
  returned: always
  type: bool
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.vextrus.deploy.plugins.module_utils.access_review import (
    AccessReviewError,
    chain_rules,
    denial_message,
    describe,
    review_body,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.api_retry import Retrier
from ansible_collections.vextrus.deploy.plugins.module_utils.args_common import access_review_argspec
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import (
    K8S_IMPORT_ERROR,
    ApiException,
    K8sConnectionError,
    api_call,
    connect_dynamic,
    request_json,
)

_REVIEWS = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def _namespace_exists(dynamic, namespace: str) -> bool:
    try:
        request_json(dynamic, "GET", f"/api/v1/namespaces/{namespace}")
    except ApiException as exc:
        if exc.status in (403, 404):
            return exc.status == 403  # forbidden to read it: let the review say so
        raise
    return True


def run_module(params: dict) -> dict:
    """Every rule of the chain reviewed for the current identity; ``denied`` lists the refused ones."""
    namespace = params["namespace"]
    retrier = Retrier.for_budget()  # every request of the review shares one budget
    dynamic = connect_dynamic(params, retrier=retrier)
    api_client = dynamic.client
    exists = api_call(f"read namespace {namespace}", lambda: _namespace_exists(dynamic, namespace), api_client, retrier)
    allowed, denied = [], []
    for rule in chain_rules(exists, params["extra_rules"], params["lease"] or ""):
        status = api_call(
            f"review whether the current identity may {describe(rule)}",
            lambda rule=rule: request_json(dynamic, "POST", _REVIEWS, review_body(rule, namespace)).get("status") or {},
            api_client,
            retrier,
        )
        if status.get("allowed"):
            allowed.append(describe(rule))
        else:
            denied.append({**rule, "reason": status.get("reason") or status.get("evaluationError") or ""})
    return {"changed": False, "allowed": allowed, "denied": denied, "namespace_exists": exists}


def main() -> None:
    module = AnsibleModule(argument_spec=access_review_argspec(), supports_check_mode=True)
    if K8S_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=K8S_IMPORT_ERROR)
    try:
        result = run_module(module.params)
    except (AccessReviewError, K8sConnectionError) as exc:
        module.fail_json(msg=str(exc))
    if result["denied"]:
        module.fail_json(msg=denial_message(result["denied"], module.params["namespace"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
