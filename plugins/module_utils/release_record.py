# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release record of a service and the promotion guard that reads it.

One record per service lives in its namespace as the ConfigMap ``<service>-release`` (as Helm keeps
its release records in the cluster): the candidate digest of the current release, the stable digest
it replaces, the highest week the candidate passed, the release's state and the runs that made it.

The guard is decided here and only here. Week N+1 promotes the digest that passed week N; week 1
with a new digest starts a new release; jumping ahead, re-running a release whose gate failed, or a
week with a digest that is not the candidate is refused with the digest, the week it reached and
the command to proceed - unless the run is forced, which the record then says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

RECORD_KEY = "release.json"
SCHEMA = 1
MAX_RUNS = 50
# The last week of the default week table (10/30/60/100 %). Callers that know the run's week table
# pass its length as ``last_week``: the guard and the record take the last week from there.
DEFAULT_LAST_WEEK = 4

# playbooks/week1.yml ... week4.yml; a later week of a longer week table runs rollout.yml -e rollout_week=N
WEEK_PLAYBOOKS = 4
WEEK = "week"
ABORT = "abort"
ROLLBACK = "rollback"
ACTIONS = (WEEK, ABORT, ROLLBACK)

NONE = "NONE"
IN_PROGRESS = "IN_PROGRESS"
PROMOTED = "PROMOTED"
FAILED = "FAILED"
ABORTED = "ABORTED"
ROLLED_BACK = "ROLLED_BACK"
STATES = (NONE, IN_PROGRESS, PROMOTED, FAILED, ABORTED, ROLLED_BACK)
# The verdict classes of a run (rollout_report): only a FAIL ends a release (docs/verdicts.md).
VERDICTS = ("PASS", "FAIL", "ERROR")
# What the record says of a run in progress (written before its first change, cleared by its verdict).
RUNNING_KEYS = ("action", "digest", "started", "by", "holder")
INTERRUPTED = "interrupted"


class RecordError(ValueError):
    """The record or the guard's inputs are not usable."""


def empty_record(service: str) -> dict[str, Any]:
    """The record of a service that has no release yet."""
    return {
        "schema": SCHEMA,
        "service": service,
        "release": 0,
        "state": NONE,
        "candidate": "",
        "previous_stable": "",
        "highest_week_passed": 0,
        "failed_week": None,
        "updated": None,
        "runs": [],
        "running": None,
    }


def parse_record(configmaps: list[Mapping[str, Any]] | Mapping[str, Any] | None, service: str) -> dict[str, Any]:
    """The record held by a ConfigMap (a k8s_info ``resources`` list or one object); empty if there is none."""
    if isinstance(configmaps, Mapping):
        configmaps = [configmaps]
    if not configmaps:
        return empty_record(service)
    configmap = configmaps[0]
    name = (configmap.get("metadata") or {}).get("name", f"{service}-release")
    raw = (configmap.get("data") or {}).get(RECORD_KEY)
    if not raw:
        raise RecordError(
            f"ConfigMap {name} has no '{RECORD_KEY}' key: it is not a release record of this collection. "
            f"Rename or delete it, or set another record name."
        )
    try:
        record = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RecordError(f"ConfigMap {name} key '{RECORD_KEY}' is not valid JSON ({exc}); fix or delete the record.") from exc
    if not isinstance(record, dict) or record.get("state") not in STATES:
        raise RecordError(
            f"ConfigMap {name} key '{RECORD_KEY}' is not a release record (state must be one of "
            f"{', '.join(STATES)}, found {record.get('state') if isinstance(record, dict) else type(record).__name__!r})."
        )
    merged = empty_record(service)
    merged.update(record)
    problems = record_problems(merged, service, configmap.get("data") or {})
    if problems:
        where = (configmap.get("metadata") or {}).get("namespace")
        delete = f"kubectl{' -n ' + where if where else ''} delete configmap {name}"
        raise RecordError(
            f"ConfigMap {name} key '{RECORD_KEY}' is not a usable release record: {'; '.join(problems)}. "
            f"It was edited by hand or written by something else, and the guard cannot decide on it. Restore "
            f"the record (its runs and the reports say what it held), or delete it ({delete}) to start again "
            f"with week 1. Nothing was written."
        )
    return merged


# The fields of the record and what each must hold: (check, expected).
_FIELDS: dict[str, tuple[Any, str]] = {
    "schema": (lambda v: _is_int(v) and v == SCHEMA, f"the integer {SCHEMA}"),
    "service": (lambda v: isinstance(v, str) and v != "", "the service's name"),
    "release": (lambda v: _is_int(v) and v >= 0, "an integer of 0 or more"),
    "candidate": (lambda v: isinstance(v, str), "a string (an image reference, or empty)"),
    "previous_stable": (lambda v: isinstance(v, str), "a string (an image reference, or empty)"),
    "highest_week_passed": (lambda v: _is_int(v) and v >= 0, "an integer of 0 or more"),
    "failed_week": (lambda v: v is None or (_is_int(v) and v >= 1), "null or a week number (1 or more)"),
    "updated": (lambda v: v is None or isinstance(v, str), "null or a UTC time"),
    "runs": (lambda v: isinstance(v, list) and all(isinstance(run, dict) for run in v), "a list of runs (mappings)"),
    "running": (lambda v: v is None or (isinstance(v, dict) and _is_int(v.get("week"))
                                        and all(isinstance(v.get(key), str) for key in RUNNING_KEYS)),
                "null or the run in progress (a mapping of week, an integer, and " + ", ".join(RUNNING_KEYS) + ", strings)"),
}
# The keys of the ConfigMap's data beside release.json, for reading at a glance: (data key, record field).
_FLAT_KEYS = (("state", "state"), ("candidate", "candidate"), ("previous-stable", "previous_stable"),
              ("highest-week-passed", "highest_week_passed"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _found(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"


def record_problems(record: Mapping[str, Any], service: str, data: Mapping[str, Any] | None = None) -> list[str]:
    """What makes a parsed record unusable: a field of the wrong type or range, a record of another
    service, a state its fields contradict, or flat keys of the ConfigMap (``data``) that disagree
    with the record (an edit of one and not the other). Each names the field, what was expected and
    what was found; [] for a usable record."""
    problems = [f"'{field}' must be {expected}, found {_found(record.get(field))}"
                for field, (check, expected) in _FIELDS.items() if not check(record.get(field))]
    if problems:
        return problems
    if record["service"] != service:
        problems.append(f"'service' must be {service!r} (the record of this service), found {record['service']!r}")
    state = record["state"]
    if state != NONE and not record["candidate"]:
        problems.append(f"state {state} needs a 'candidate' digest, found none")
    if state == NONE and (record["candidate"] or record["highest_week_passed"]):
        problems.append(f"state {NONE} (no release) cannot have a candidate or a week passed, found candidate "
                        f"{record['candidate']!r} and highest_week_passed {record['highest_week_passed']}")
    if state == FAILED and record["failed_week"] is None:
        problems.append(f"state {FAILED} needs 'failed_week', found null")
    for key, field in _FLAT_KEYS:
        if data and key in data and str(data[key]) != str(record[field]):
            problems.append(f"the ConfigMap's key '{key}' is {data[key]!r} but '{RECORD_KEY}' says {record[field]!r} "
                            f"(field '{field}'): the two must agree")
    return problems


def _proceed(command: str, week: int, digest: str = "") -> str:
    image = f" -e rollout_image={digest}" if digest else ""
    playbook = f"week{week}.yml" if week <= WEEK_PLAYBOOKS else f"rollout.yml -e rollout_week={week}"
    return f"{command} playbooks/{playbook}{image}".strip()


def _short(digest: str) -> str:
    return digest or "(none)"


def _refusal(record: Mapping[str, Any], digest: str) -> str:
    """Why a run for ``digest`` is refused when the record's release ended badly, else ''."""
    state = record["state"]
    if digest != record["candidate"]:
        return ""
    last = next((r for r in reversed(record["runs"]) if r.get("digest") == digest and r.get("verdict") == "FAIL"), {})
    if state == FAILED:
        when = f" at {last['finished']}" if last.get("finished") else ""
        why = f" ({last['reason']})" if last.get("reason") else ""
        return (f"digest {_short(digest)} failed week {record['failed_week']}{when}{why}; it reached week "
                f"{record['highest_week_passed']}. A release whose gate failed is not re-run")
    if state == ABORTED:
        return f"the release of digest {_short(digest)} was aborted; it reached week {record['highest_week_passed']}"
    if state == ROLLED_BACK:
        return f"digest {_short(digest)} was rolled back after week {record['highest_week_passed']}"
    return ""


def decide(
    record: Mapping[str, Any],
    action: str,
    week: int,
    digest: str = "",
    force: bool = False,
    stable_image: str = "",
    command: str = "ansible-playbook",
    last_week: int = DEFAULT_LAST_WEEK,
) -> dict[str, Any]:
    """Decide whether a run may go ahead, and with which digest.

    ``digest`` is the image the user asked for (or the one week 1 just built); empty means "the
    candidate of the current release". ``stable_image`` is what the stable Deployment runs now.
    ``last_week`` is the length of the week table: the week that promotes the release, and the week
    a rollback is recorded at.
    Returns ``allowed``, ``digest`` (what to deploy), ``week``, ``new_release``, ``forced``,
    ``refusal`` (the reason a forced run overrode, or the reason it is refused) and ``message``.
    """
    if action not in ACTIONS:
        raise RecordError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
    last_week = _last_week(last_week)
    if action == WEEK and not 1 <= int(week) <= last_week:
        raise RecordError(f"week must be 1 to {last_week}, got {week!r}")
    week = int(week)
    candidate = record["candidate"]
    highest = int(record["highest_week_passed"])
    service = record["service"]

    if action == ABORT:
        return _decide_abort(record, force)
    if action == ROLLBACK:
        return _decide_rollback(record, force, command, last_week)

    wanted = digest or candidate
    if not wanted:
        refusal = (f"no release of {service} is recorded, and week {week} promotes the digest that passed week "
                   f"{week - 1}. Start a release with week 1: {_proceed(command, 1)}")
        return _result(False, "", week, False, force, refusal, forceable=False)
    new_release = wanted != candidate
    refusal = ""
    if new_release and week > 1:
        refusal = (f"digest {wanted} is not the candidate of the current release "
                   + (f"({candidate}, which reached week {highest})" if candidate else "(there is none)")
                   + f"; week {week} deploys only the digest that passed week {week - 1}. Start a new release "
                   f"with week 1: {_proceed(command, 1, wanted)}")
    elif not new_release:
        ended = _refusal(record, wanted)
        if ended:
            refusal = (f"{ended}. Build a fixed image and start a new release with week 1: {_proceed(command, 1)}")
        elif week > highest + 1:
            refusal = (f"week {week} needs week {week - 1} passed, and digest {wanted} reached week {highest}. "
                       f"Proceed with: {_proceed(command, highest + 1)}")
    return _result(not refusal or force, wanted, week, new_release, force, refusal,
                   previous_stable=(stable_image if new_release and stable_image != wanted else None))


def _decide_abort(record: Mapping[str, Any], force: bool) -> dict[str, Any]:
    refusal = ""
    if record["state"] == NONE:
        refusal = f"no release of {record['service']} is recorded: there is nothing to abort"
    elif record["state"] in (PROMOTED, ROLLED_BACK):
        refusal = (f"the release of {record['candidate']} is {record['state'].lower().replace('_', ' ')}: it has no "
                   f"canary to abort; use playbooks/rollback.yml to restore the previous stable digest")
    return _result(not refusal or force, record["candidate"], int(record["highest_week_passed"]), False, force, refusal)


def _decide_rollback(record: Mapping[str, Any], force: bool, command: str, last_week: int) -> dict[str, Any]:
    previous = record["previous_stable"]
    refusal = ""
    if record["state"] not in (PROMOTED, ROLLED_BACK):
        refusal = (f"the release of {_short(record['candidate'])} is {record['state'].lower().replace('_', ' ')}, "
                   f"not promoted by week {last_week}: stable still runs the previous version; remove the canary with "
                   f"{command} playbooks/abort.yml")
    elif not previous:
        refusal = (f"the record of {record['service']} has no previous stable digest to restore (the release of "
                   f"{record['candidate']} was the first); deploy a known-good digest with week 1 instead")
    if not previous:
        return _result(False, "", last_week, False, False, refusal, forceable=False)
    return _result(not refusal or force, previous, last_week, False, force, refusal)


def _last_week(value: Any) -> int:
    """The length of the week table, as an int (a decimal string, as templating may give it, is accepted)."""
    text = str(value).strip()
    if isinstance(value, bool) or not text.isdigit() or int(text) < 1:
        raise RecordError(f"last_week must be the length of the week table (an integer of 1 or more), got {value!r}")
    return int(text)


def _result(allowed: bool, digest: str, week: int, new_release: bool, force: bool, refusal: str,
            previous_stable: str | None = None, forceable: bool = True) -> dict[str, Any]:
    """The decision; a refusal that no force can lift (nothing to deploy) does not offer force."""
    forced = bool(refusal) and force and allowed
    if not allowed:
        way_on = "; or force it with -e rollout_force=true" if forceable else " (rollout_force cannot help: there is no digest to deploy)"
        message = f"Refused, nothing was written: {refusal}{way_on}."
    elif forced:
        message = f"Forced (rollout_force=true) over: {refusal}."
    else:
        message = "Allowed: " + ("a new release starts with " + digest if new_release else f"{digest or 'the release'}")
    return {"allowed": allowed, "digest": digest, "week": week, "new_release": new_release, "forced": forced,
            "refusal": refusal, "message": message,
            **({"previous_stable": previous_stable} if previous_stable is not None else {})}


def record_run(record: Mapping[str, Any], decision: Mapping[str, Any], run: Mapping[str, Any], action: str = WEEK,
               last_week: int | None = None) -> dict[str, Any]:
    """The record after a run the guard allowed; ``run`` has ``verdict``, ``started``, ``finished``,
    ``by`` and optionally ``reason``, ``cause``, ``report`` and ``analysed`` (the traffic analysis judged the
    pods the run left: it passed them, or they are the pods a run before judged). A pass of ``last_week`` promotes the
    release; without it, the decision's ``last_week`` (a run plan carries it), else DEFAULT_LAST_WEEK.
    A FAIL (the release is at fault) ends the release: the guard refuses its digest again. An ERROR
    (the environment or the configuration is at fault) is only added to the runs: the release, its
    candidate and state stay as they were, so the same week with the same digest may run again."""
    if not decision.get("allowed"):
        raise RecordError("a refused run is not recorded: nothing was written for it")
    verdict = run.get("verdict")
    if verdict not in VERDICTS:
        raise RecordError(f"run verdict must be {', '.join(VERDICTS)}, got {verdict!r}")
    last_week = _last_week(last_week if last_week is not None else decision.get("last_week", DEFAULT_LAST_WEEK))
    new = json.loads(json.dumps(dict(record)))
    week = int(decision["week"])
    passed = verdict == "PASS"
    if action not in ACTIONS:
        raise RecordError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
    if action == WEEK and verdict != "ERROR":
        if decision.get("new_release"):
            new["release"] = int(new["release"]) + 1
            new["candidate"] = decision["digest"]
            new["previous_stable"] = decision.get("previous_stable") or ""
            new["highest_week_passed"] = 0
        if passed:
            new["highest_week_passed"] = max(int(new["highest_week_passed"]), week)
            new["failed_week"] = None
            new["state"] = PROMOTED if week == last_week else IN_PROGRESS
        else:
            new["failed_week"] = week
            new["state"] = FAILED
    elif action == ABORT and passed:
        new["state"] = ABORTED
    elif action == ROLLBACK and passed:
        new["state"] = ROLLED_BACK
    entry = {
        "release": new["release"],
        "action": action,
        "week": week,
        "digest": decision["digest"],
        "verdict": verdict,
        "started": run.get("started"),
        "finished": run.get("finished"),
        "by": run.get("by") or "unknown",
        "forced": bool(decision.get("forced")),
    }
    if decision.get("forced"):
        entry["overrode"] = decision.get("refusal")
    for key in ("reason", "cause", "report"):
        if run.get(key):
            entry[key] = run[key]
    if action == WEEK and passed and boolean(run.get("analysed", False), strict=False):
        # the traffic analysis judged the pods this run left (judged_run)
        entry["analysed"] = True
    new["runs"] = (list(new["runs"]) + [entry])[-MAX_RUNS:]
    new["updated"] = run.get("finished")
    new["running"] = None
    return new


def judged_run(record: Mapping[str, Any], week: int, digest: str) -> Mapping[str, Any] | None:
    """The run whose traffic analysis judged the pods of ``week`` with ``digest``, when it is the record's last
    run: a pass of that week with that digest that was ``analysed``. Any run since (a failed or interrupted one,
    an abort, a rollback, another week) or one in progress may have changed the pods: then None."""
    runs = record.get("runs") or []
    if not runs or record.get("running") or not digest or record.get("candidate") != digest:
        return None
    last = runs[-1]
    if ((last.get("action"), last.get("week"), last.get("digest"), last.get("verdict")) == (WEEK, int(week), digest, "PASS")
            and last.get("analysed") is True):
        return last
    return None


def start_run(record: Mapping[str, Any], decision: Mapping[str, Any], run: Mapping[str, Any], action: str = WEEK) -> dict[str, Any]:
    """The record with the run in progress (``running``), written before the run's first change: a run that
    finds it later knows this one ended without a verdict. ``run`` has ``started``, ``by`` and ``holder``
    (the run lease's holder)."""
    if not decision.get("allowed"):
        raise RecordError("a refused run is not recorded: nothing was written for it")
    if action not in ACTIONS:
        raise RecordError(f"action must be one of {', '.join(ACTIONS)}, got {action!r}")
    new = json.loads(json.dumps(dict(record)))
    new["running"] = {
        "action": action,
        "week": int(decision["week"]),
        "digest": str(decision.get("digest") or ""),
        "started": str(run.get("started") or ""),
        "by": str(run.get("by") or "unknown"),
        "holder": str(run.get("holder") or ""),
    }
    return new


def record_interrupted(record: Mapping[str, Any], finished: str, recovery: str) -> dict[str, Any]:
    """The record after a run found the run in progress of another one that ended without a verdict
    (killed, its machine lost): the interrupted run is added to the runs as ERROR, cause ``interrupted``,
    with ``recovery`` (what was done about it), and ``running`` is cleared. Like any ERROR it does not end
    the release: its week may run again with the same digest."""
    running = record.get("running")
    if not isinstance(running, Mapping):
        raise RecordError("the record holds no run in progress")
    new = json.loads(json.dumps(dict(record)))
    entry = {
        "release": new["release"],
        "action": running.get("action", WEEK),
        "week": running.get("week"),
        "digest": running.get("digest", ""),
        "verdict": "ERROR",
        "cause": INTERRUPTED,
        "reason": f"the run ended without a verdict (interrupted: killed, or its machine lost); {recovery}",
        "started": running.get("started"),
        "finished": finished,
        "by": running.get("by") or "unknown",
        "forced": False,
    }
    new["runs"] = (list(new["runs"]) + [entry])[-MAX_RUNS:]
    new["updated"] = finished
    new["running"] = None
    return new


def configmap(record: Mapping[str, Any], name: str, namespace: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The ConfigMap that holds ``record``: the whole record as JSON plus a few flat keys to read at a glance."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/name": record["service"], "app.kubernetes.io/managed-by": "vextrus-deploy",
                       "vextrus.io/record": "release", **(labels or {})},
        },
        "data": {
            RECORD_KEY: json.dumps(record, indent=2, sort_keys=True),
            "state": record["state"],
            "candidate": record["candidate"],
            "previous-stable": record["previous_stable"],
            "highest-week-passed": str(record["highest_week_passed"]),
        },
    }


def status(record: Mapping[str, Any], deployments: list[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The record with ready x/y and image of the stable and canary Deployments, and a short table."""
    tracks: dict[str, dict[str, Any]] = {}
    for dep in deployments or []:
        name = (dep.get("metadata") or {}).get("name", "")
        track = "canary" if name.endswith("-canary") else "stable" if name.endswith("-stable") else ""
        if not track:
            continue
        spec = dep.get("spec") or {}
        containers = ((spec.get("template") or {}).get("spec") or {}).get("containers") or [{}]
        tracks[track] = {
            "name": name,
            "ready": f"{(dep.get('status') or {}).get('readyReplicas') or 0}/{spec.get('replicas') or 0}",
            "image": containers[0].get("image", ""),
        }
    last = (record.get("runs") or [{}])[-1]
    summary = {
        "service": record["service"],
        "release": record["release"],
        "state": record["state"],
        "candidate": record["candidate"],
        "previous_stable": record["previous_stable"],
        "highest_week_passed": record["highest_week_passed"],
        "failed_week": record.get("failed_week"),
        "stable": tracks.get("stable"),
        "canary": tracks.get("canary"),
        "last_run": last or None,
        "running": record.get("running"),
    }
    rows = [
        ("service", f"{record['service']} (release {record['release']})"),
        ("state", record["state"] + (f" at week {record['failed_week']}" if record.get("failed_week") else "")),
        ("highest week passed", str(record["highest_week_passed"])),
        ("candidate", record["candidate"] or "-"),
        ("previous stable", record["previous_stable"] or "-"),
    ]
    for track in ("stable", "canary"):
        info = tracks.get(track)
        rows.append((track, f"ready {info['ready']}  {info['image']}" if info else "none"))
    if last:
        forced = " FORCED" if last.get("forced") else ""
        what = f"week {last.get('week')}" if last.get("action") == WEEK else f"{last.get('action')} (week {last.get('week')})"
        cause = f" ({last['cause']})" if last.get("cause") else ""
        rows.append(("last run", f"{what} {last.get('verdict')}{cause}{forced} by {last.get('by')} at {last.get('finished')}"))
    running = record.get("running")
    if running:
        rows.append(("in progress", f"week {running.get('week')} ({running.get('action')}) by {running.get('by')} since "
                                    f"{running.get('started')}, holder {running.get('holder')}; if that run is gone, "
                                    f"the next run restores the state before it"))
    width = max(len(row[0]) for row in rows)
    summary["table"] = [f"{key.ljust(width)}  {value}" for key, value in rows]
    return summary
