# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the release record and the promotion guard: release_record, release_guard,
release_record_update, release_record_start, release_record_interrupted, release_record_configmap,
release_status.

Documentation lives in the sidecar files of the same names.
"""

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError
from ansible_collections.vextrus.deploy.plugins.module_utils.release_record import (
    DEFAULT_LAST_WEEK,
    WEEK,
    RecordError,
    configmap,
    decide,
    parse_record,
    record_interrupted,
    record_run,
    start_run,
    status,
)


def release_record(configmaps: Any, service: str) -> dict[str, Any]:
    try:
        return parse_record(configmaps, service)
    except RecordError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def release_guard(
    record: Any,
    action: str = WEEK,
    week: Any = 1,
    digest: str = "",
    force: Any = False,
    stable_image: str = "",
    command: str = "ansible-playbook",
    last_week: Any = DEFAULT_LAST_WEEK,
) -> dict[str, Any]:
    if not isinstance(record, dict) or "state" not in record:
        raise AnsibleFilterError("release_guard expects the result of the release_record filter")
    try:
        decision = decide(record, action, int(week), digest or "", _bool(force), stable_image or "", command, last_week)
    except (RecordError, ValueError) as exc:
        raise AnsibleFilterError(str(exc)) from exc
    # the decision says which week table it was made for, so release_record_update promotes at its last week
    return {**decision, "last_week": int(last_week)}


def _apply_run(name: str, apply: Callable[..., dict[str, Any]], record: Any, decision: Any, run: Any,
               action: str) -> dict[str, Any]:
    if not isinstance(record, dict) or "state" not in record:
        raise AnsibleFilterError(f"{name} expects the result of the release_record filter")
    if not isinstance(decision, dict) or "allowed" not in decision or not isinstance(run, dict):
        raise AnsibleFilterError(f"{name} expects the release_guard decision and a run mapping")
    try:
        return apply(record, decision, run, action)
    except RecordError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def release_record_update(record: Any, decision: Any, run: Any, action: str = WEEK) -> dict[str, Any]:
    return _apply_run("release_record_update", record_run, record, decision, run, action)


def release_record_start(record: Any, decision: Any, run: Any, action: str = WEEK) -> dict[str, Any]:
    return _apply_run("release_record_start", start_run, record, decision, run, action)


def release_record_interrupted(record: Any, finished: str, recovery: str) -> dict[str, Any]:
    if not isinstance(record, dict) or "state" not in record:
        raise AnsibleFilterError("release_record_interrupted expects the result of the release_record filter")
    try:
        return record_interrupted(record, str(finished), str(recovery))
    except RecordError as exc:
        raise AnsibleFilterError(str(exc)) from exc


def release_record_configmap(record: Any, name: str, namespace: str) -> dict[str, Any]:
    if not isinstance(record, dict) or "state" not in record:
        raise AnsibleFilterError("release_record_configmap expects a release record")
    return configmap(record, name, namespace)


def release_status(record: Any, deployments: Any = None) -> dict[str, Any]:
    if not isinstance(record, dict) or "state" not in record:
        raise AnsibleFilterError("release_status expects the result of the release_record filter")
    return status(record, list(deployments or []))


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
