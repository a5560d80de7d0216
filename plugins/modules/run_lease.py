#!/usr/bin/python
# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module run_lease."""

from __future__ import annotations

DOCUMENTATION = r"""
module: run_lease
short_description: One run at a time per service - take, keep and give back the service's run lock (a Lease)
version_added: 0.2.0
author: Vextrus Platform Engineering (@vextrus)
description:
  - The run lock of a service is the C(coordination.k8s.io/v1) Lease O(name) (the rollout chain names it
    C(<service>-rollout)) in the service's namespace. Its C(holderIdentity) names the run that holds it, with
    C(acquireTime), C(renewTime) and C(leaseDurationSeconds) (O(ttl)).
  - O(state=present) takes a free lease, renews the holder's own, and takes over a lease whose C(renewTime)
    plus its duration lies in the past (a run that was killed), with a warning naming the run it took it from.
    A lease another holder renewed within its duration is refused at once, writing nothing, with a message
    that starts C(run lock held by) and names the holder and since when.
  - Every write carries the resourceVersion it was decided on, so of two runs racing for a free or expired lease
    one wins, the other reads again and is refused.
  - O(state=renewing) keeps the lease alive while the run lasts - start it with C(async) and C(poll=0). It
    renews every O(interval) seconds and ends when the lease no longer names O(holder) (released or taken
    over), when O(renew_for) seconds have passed, or when the process O(watch_pid) has ended. It never renews a
    lease that does not name O(holder).
  - O(state=present) with O(renew_in_background=true) does the same as a O(state=renewing) task started right
    after it, in one call - a renewer process of its own session, its output on /dev/null, that ends as that
    task would. A run uses it to take its lock and keep it without a second task.
  - O(state=absent) gives the lease back (deletes it, on condition of the resourceVersion read) only when
    O(holder) holds it.
extends_documentation_fragment:
  - kubernetes.core.k8s_auth_options
  - vextrus.deploy.attributes
  - vextrus.deploy.attributes.k8s_group
attributes:
  check_mode:
    support: full
    details:
      - Reads the lease and says what it would do; a lease another run holds is refused as in a real run.
        Writes nothing; O(state=renewing) returns at once.
  diff_mode:
    support: full
    details: The holder, acquire and renew times before and after.
options:
  namespace:
    description: Namespace of the service, where the Lease lives.
    type: str
    required: true
  name:
    description: Name of the Lease; the rollout chain uses C(<service>-rollout).
    type: str
    required: true
  holder:
    description:
      - Who holds the lease, unique per run - the AWX job and its user, or the user, host and pid of the
        controller and the run's start time.
    type: str
    required: true
  state:
    description: Take or renew (V(present)), keep renewing (V(renewing)), or give back (V(absent)).
    type: str
    choices: [present, renewing, absent]
    default: present
  ttl:
    description:
      - The lease's duration in seconds (C(leaseDurationSeconds)); a lease not renewed for this long may be
        taken over by the next run.
    type: int
    default: 300
  create_namespace:
    description:
      - With O(state=present), create the namespace (bare, by name) when it does not exist yet, so that a first
        run can take its lock before anything else is written. Nothing is created in check mode. An identity
        that may not read namespaces (the deployer) takes the namespace as existing.
    type: bool
    default: false
  renew_in_background:
    description:
      - With O(state=present), once the lease is this run's, keep renewing it in a background process as
        O(state=renewing) does (O(interval), O(renew_for), O(watch_pid)). Not in check mode.
    type: bool
    default: false
  interval:
    description: With O(state=renewing) or O(renew_in_background), seconds between renewals; default a third of O(ttl).
    type: float
  renew_for:
    description:
      - With O(state=renewing) or O(renew_in_background), stop renewing after this many seconds whatever happens; the lease then expires
        O(ttl) seconds after its last renewal. Keep the C(async) of the task longer than this.
    type: int
    default: 7200
  watch_pid:
    description:
      - With O(state=renewing) or O(renew_in_background), stop renewing as soon as this process (on the host the module runs on) has
        ended - the C(ansible-playbook) process of the run, so a killed run's lease expires after O(ttl).
    type: int
requirements:
  - python >= 3.11
  - kubernetes >= 24.2.0
notes:
  - The identity needs C(create) on leases, and C(get), C(update) and C(delete) on the Lease O(name) in
    O(namespace) (the deployer Role of vextrus.deploy.namespace_secrets has exactly these).
seealso:
  - name: Leases
    description: Kubernetes' Lease object.
    link: https://kubernetes.io/docs/concepts/architecture/leases/
"""

EXAMPLES = r"""
- name: Take the run's lease
  vextrus.deploy.run_lease:
    namespace: vextrus-production
    name: finance-service-rollout
    holder: "awx job {{ awx_job_id }} ({{ awx_user_name }})"
    ttl: 300
  register: lease

- name: Keep it while the run lasts
  vextrus.deploy.run_lease:
    namespace: vextrus-production
    name: finance-service-rollout
    holder: "{{ lease.holder }}"
    ttl: 300
    state: renewing
    renew_for: 3600
  async: 3660
  poll: 0

- name: Give it back
  vextrus.deploy.run_lease:
    namespace: vextrus-production
    name: finance-service-rollout
    holder: "{{ lease.holder }}"
    state: absent
"""

RETURN = r"""
action:
  description:
    - What was done - V(acquire), V(take_over), V(renew) (the holder's own lease), V(release), V(none)
      (nothing to do), or for O(state=renewing) V(renewing).
  returned: always
  type: str
  sample: acquire
holder:
  description: The holder identity given.
  returned: always
  type: str
previous_holder:
  description: The holder the lease named before (the run taken over from, or this run).
  returned: always
  type: str
message:
  description: What was done, in words.
  returned: always
  type: str
lease:
  description: The Lease's spec as written (as read, or as it would be written in check mode); empty when there is none.
  returned: always
  type: dict
namespace_created:
  description: Whether the namespace was created (O(create_namespace)).
  returned: always
  type: bool
renewer_pid:
  description: With O(renew_in_background), the process id of the background renewer; 0 when none was started.
  returned: when state is present
  type: int
renewals:
  description: With O(state=renewing), how many times the lease was renewed.
  returned: when state is renewing
  type: int
stopped:
  description: With O(state=renewing), why renewing ended - V(lost), V(deadline) or V(gone).
  returned: when state is renewing
  type: str
failures:
  description: With O(state=renewing), how many renewals failed on an API error (each tried again at the next interval).
  returned: when state is renewing and not in check mode
  type: int
"""

import json
import os
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.vextrus.deploy.plugins.module_utils.args_common import run_lease_argspec
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import (
    K8S_IMPORT_ERROR,
    ApiException,
    K8sConnectionError,
    api_errors,
    connect_dynamic,
    request_json,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.run_lease import (
    LeaseConflict,
    LeaseError,
    acquire,
    keep_renewing,
    release,
)

try:
    from kubernetes.client import CoordinationV1Api
except ImportError:  # reported through K8S_IMPORT_ERROR
    pass


class KubernetesLease:
    """The LeaseApi of run_lease on the Kubernetes API: 404 reads as None, 409 as LeaseConflict."""

    def __init__(self, api_client: Any, namespace: str, name: str) -> None:
        self.api_client, self.namespace, self.name = api_client, namespace, name
        self.api = CoordinationV1Api(api_client)

    def _call(self, action: str, call: Any, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        where = f"Lease {self.namespace}/{self.name}"
        with api_errors(f"{action} {where}", self.api_client):
            try:
                answer = call(*args, _preload_content=False, **kwargs)
            except ApiException as exc:
                if exc.status == 404 and action == "create":
                    raise LeaseError(f"cannot create {where}: namespace {self.namespace} does not exist "
                                     "(create_namespace creates it)") from exc
                # 409: the resourceVersion moved or the Lease exists; 404 on a write: it was deleted meanwhile
                if exc.status == 409 or (exc.status == 404 and action != "read"):
                    raise LeaseConflict(f"{action} {where}: {exc.status} {exc.reason}") from exc
                if exc.status == 404:
                    return None
                raise
        return json.loads(answer.data or b"{}")

    def read(self) -> dict[str, Any] | None:
        return self._call("read", self.api.read_namespaced_lease, self.name, self.namespace)

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("create", self.api.create_namespaced_lease, self.namespace, body) or {}

    def replace(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("replace", self.api.replace_namespaced_lease, self.name, self.namespace, body) or {}

    def delete(self, resource_version: str) -> None:
        options = {"preconditions": {"resourceVersion": resource_version}} if resource_version else {}
        self._call("delete", self.api.delete_namespaced_lease, self.name, self.namespace, body=options)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _alive(pid: int | None) -> bool:
    if not pid:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _ensure_namespace(dynamic: Any, namespace: str, check_mode: bool) -> bool:
    api_client = dynamic.client
    with api_errors(f"read namespace {namespace}", api_client):
        try:
            request_json(dynamic, "GET", f"/api/v1/namespaces/{namespace}")
            return False
        except ApiException as exc:
            if exc.status == 403:  # the deployer may not read namespaces: its Role lives in this one
                return False
            if exc.status != 404:
                raise
    if check_mode:
        return True
    with api_errors(f"create namespace {namespace}", api_client):
        try:
            request_json(dynamic, "POST", "/api/v1/namespaces",
                         {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        except ApiException as exc:
            if exc.status != 409:  # created by another run meanwhile
                raise
    return True


def _spec(lease: dict[str, Any] | None) -> dict[str, Any]:
    return dict((lease or {}).get("spec") or {})


def _keep_renewing(params: dict[str, Any], lease: KubernetesLease) -> Any:
    ttl = params["ttl"]
    return keep_renewing(
        lease, params["name"], params["namespace"], params["holder"], ttl, clock=_now, sleep=time.sleep,
        until=_now() + timedelta(seconds=params["renew_for"]),
        interval=params["interval"] or ttl / 3, alive=lambda: _alive(params["watch_pid"]))


def _renew_in_background(params: dict[str, Any]) -> int:
    """Start the renewer as a daemon - forked twice, in a session of its own, stdio on /dev/null and no
    other inherited file, with a connection of its own - and return its pid. The forked processes never
    return into the caller's code (this may run inside Ansible's worker process)."""
    read_end, write_end = os.pipe()
    first = os.fork()
    if first == 0:
        try:
            os.close(read_end)
            os.setsid()
            daemon = os.fork()
            if daemon:
                os.write(write_end, str(daemon).encode())
            else:
                devnull = os.open(os.devnull, os.O_RDWR)
                for fd in (0, 1, 2):
                    os.dup2(devnull, fd)
                os.closerange(3, os.sysconf("SC_OPEN_MAX"))
                _keep_renewing(params, KubernetesLease(connect_dynamic(params).client, params["namespace"], params["name"]))
        finally:
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as pipe:
        pid = pipe.read()
    os.waitpid(first, 0)
    return int(pid or 0)


def run_module(params: dict[str, Any], check_mode: bool) -> dict[str, Any]:
    namespace, name, holder, ttl = params["namespace"], params["name"], params["holder"], params["ttl"]
    dynamic = connect_dynamic(params)
    lease = KubernetesLease(dynamic.client, namespace, name)
    result: dict[str, Any] = {"holder": holder, "namespace_created": False, "warnings": []}
    if params["state"] == "renewing":
        if check_mode:
            return {**result, "changed": False, "action": "renewing", "previous_holder": "", "lease": {},
                    "message": "check mode: nothing to renew", "renewals": 0, "stopped": "check_mode"}
        renewed = _keep_renewing(params, lease)
        return {**result, "changed": renewed.renewals > 0, "action": "renewing", "previous_holder": holder,
                "lease": {}, "message": renewed.message, "renewals": renewed.renewals, "stopped": renewed.stopped,
                "failures": renewed.failures}
    before = lease.read()
    if params["state"] == "absent":
        decision = release(lease, name, namespace, holder, ttl, _now, check_mode)
        written = None if decision.changed else before
    else:
        if params["create_namespace"]:
            result["namespace_created"] = _ensure_namespace(dynamic, namespace, check_mode)
        decision, written = acquire(lease, name, namespace, holder, ttl, _now, check_mode)
        renew = params["renew_in_background"] and not check_mode
        result["renewer_pid"] = _renew_in_background(params) if renew else 0
    return {**result, "changed": decision.changed or result["namespace_created"], "action": decision.action,
            "previous_holder": decision.previous_holder, "message": decision.message, "lease": _spec(written),
            "warnings": decision.warnings,
            "diff": {"before": _spec(before), "after": _spec(written)}}


def main() -> None:
    module = AnsibleModule(argument_spec=run_lease_argspec(), supports_check_mode=True)
    if K8S_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=K8S_IMPORT_ERROR)
    try:
        result = run_module(module.params, module.check_mode)
    except (LeaseError, K8sConnectionError) as exc:
        module.fail_json(msg=str(exc), holder=module.params["holder"])
    for warning in result.pop("warnings"):
        module.warn(warning)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
