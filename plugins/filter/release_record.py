# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the release record and the promotion guard: release_record, release_guard,
release_record_update, release_record_start, release_record_interrupted, release_record_configmap,
release_status.

Documentation lives in the sidecar files of the same names.

The module_utils are imported when a filter is called, not when this file is loaded
(see plugins/filter/README.md).
"""

from typing import Any

from ansible.errors import AnsibleFilterError


def release_record(configmaps: Any, service: str) -> dict[str, Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils import release_record as rr

    try:
        return rr.parse_record(configmaps, service)
    except rr.RecordError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def release_guard(
    record: Any,
    action: str | None = None,
    week: Any = 1,
    digest: str = "",
    force: Any = False,
    stable_image: str = "",
    command: str = "ansible-playbook",
    last_week: Any = None,
) -> dict[str, Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils import release_record as rr

    if not isinstance(record, dict) or "state" not in record:
        raise AnsibleFilterError("release_guard expects the result of the release_record filter")
    try:
        last_week = rr.DEFAULT_LAST_WEEK if last_week is None else last_week
        decision = rr.decide(record, rr.WEEK if action is None else action, int(week), digest or "", _bool(force),
                             stable_image or "", command, last_week)
    except (rr.RecordError, ValueError) as exc:
        raise AnsibleFilterError(str(exc)) from exc
    # the decision says which week table it was made for, so release_record_update promotes at its last week
    return {**decision, "last_week": int(last_week)}


def _apply_run(name: str, apply: str, record: Any, decision: Any, run: Any, action: str | None) -> dict[str, Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils import release_record as rr

    if not isinstance(record, dict) or "state" not in record:
        raise AnsibleFilterError(f"{name} expects the result of the release_record filter")
    if not isinstance(decision, dict) or "allowed" not in decision or not isinstance(run, dict):
        raise AnsibleFilterError(f"{name} expects the release_guard decision and a run mapping")
    try:
        return getattr(rr, apply)(record, decision, run, rr.WEEK if action is None else action)
    except rr.RecordError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def release_record_update(record: Any, decision: Any, run: Any, action: str | None = None) -> dict[str, Any]:
    return _apply_run("release_record_update", "record_run", record, decision, run, action)


def release_record_start(record: Any, decision: Any, run: Any, action: str | None = None) -> dict[str, Any]:
    return _apply_run("release_record_start", "start_run", record, decision, run, action)


def release_record_interrupted(record: Any, finished: str, recovery: str) -> dict[str, Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils import release_record as rr

    if not isinstance(record, dict) or "state" not in record:
        raise AnsibleFilterError("release_record_interrupted expects the result of the release_record filter")
    try:
        return rr.record_interrupted(record, str(finished), str(recovery))
    except rr.RecordError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def release_record_configmap(record: Any, name: str, namespace: str) -> dict[str, Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils import release_record as rr

    if not isinstance(record, dict) or "state" not in record:
        raise AnsibleFilterError("release_record_configmap expects a release record")
    return rr.configmap(record, name, namespace)


def release_status(record: Any, deployments: Any = None) -> dict[str, Any]:
    from ansible_collections.vextrus.deploy.plugins.module_utils import release_record as rr

    if not isinstance(record, dict) or "state" not in record:
        raise AnsibleFilterError("release_status expects the result of the release_record filter")
    return rr.status(record, list(deployments or []))


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("", "0", "false", "no", "off", "none"):
        return False
    raise AnsibleFilterError(f"force must be a boolean (true/false), got {value!r}")


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {
            "release_guard": release_guard,
            "release_record": release_record,
            "release_record_configmap": release_record_configmap,
            "release_record_update": release_record_update,
            "release_record_start": release_record_start,
            "release_record_interrupted": release_record_interrupted,
            "release_status": release_status,
        }
