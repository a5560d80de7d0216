# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run plan: every decision of one run (a week, an abort or a rollback), made once.

``plan_run(record, live, inputs, action)`` reads the release record, the live objects as read once
from the API (the stable and canary Deployments, the HPA), the inventory's inputs and the action,
and returns a ``RunPlan``: whether the run may go ahead (the promotion guard of release_record),
the digest, week and weight, the stable/canary split (rollout_plan.split_replicas), the name, image
and replicas of each track, the bounds of each track's HPA, whether to build, apply and remove the
canary, the release number and the last week of the week table.

The split under autoscaling: each track has its own HPA while a canary runs (``<service>`` scales
stable, ``<service>-canary`` the canary), with the week's split of the service's bounds, so both grow
and shrink with the same per-pod load and the canary's share stays near the week's weight. The size a
week splits is the pods both tracks run now (what their HPAs chose; the inventory's replicas on a
first install and when they changed since the last run), within the service's bounds, so a week moves
pods between the tracks but leaves the service's capacity as the HPAs made it. A run that finds the
tracks within their bounds and the canary within one pod of the weight keeps their counts (a week run
again asks for the replicas the HPAs chose). It is pure: it reads and writes nothing and calls no API.

The plan carries the guard decision's keys (allowed, digest, week, new_release, forced, refusal,
message, previous_stable) plus ``last_week``, so it serves as the decision when the run is recorded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vextrus.deploy.plugins.module_utils.release_record import (
    ABORT,
    ACTIONS,
    ROLLBACK,
    WEEK,
    RecordError,
    decide,
    judged_run,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.rollout_plan import (
    RolloutPlanError,
    _as_int,
    normalize_weights,
    split_replicas,
    validate_week,
)

# The annotation resource_apply writes on each Deployment: the inventory's replicas of the run that applied it.
REPLICAS_ANNOTATION = "vextrus.io/inventory-replicas"

REQUIRED_INPUTS = ("service", "replicas", "hpa_min", "hpa_max", "weights")
OPTIONAL_INPUTS = {"week": 1, "image": "", "built_digest": "", "force": False, "command": "ansible-playbook",
                   "stable_image": ""}
_TRACKS = ("stable", "canary")
_SERVICE_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,54}[a-z0-9])?$")


class RunPlanError(ValueError):
    """An input of the run plan is invalid; nothing has been written. The message says what was found."""


@dataclass(frozen=True)
class RunInputs:
    """The inventory's inputs of one run; ``from_mapping`` checks them (plan_run checks every RunInputs)."""

    service: str
    replicas: int
    hpa_min: int
    hpa_max: int
    weights: dict[int, int]
    # checked against the week table only for a week; an abort or a rollback takes its week from the record
    week: int | str = 1
    image: str = ""
    built_digest: str = ""
    force: bool = False
    command: str = "ansible-playbook"
    stable_image: str = ""

    @classmethod
    def from_mapping(cls, inputs: Mapping[str, Any]) -> RunInputs:
        """Check a mapping of inputs (strings as extra-vars give them are accepted for numbers and force)."""
        if not isinstance(inputs, Mapping):
            raise RunPlanError(f"run_plan: inputs must be a mapping, got {type(inputs).__name__}")
        unknown = sorted(set(inputs) - set(REQUIRED_INPUTS) - set(OPTIONAL_INPUTS))
        missing = [key for key in REQUIRED_INPUTS if key not in inputs]
        if unknown or missing:
            raise RunPlanError(f"run_plan: inputs need {', '.join(REQUIRED_INPUTS)} and may have "
                               f"{', '.join(OPTIONAL_INPUTS)}; missing {missing or 'none'}, unknown {unknown or 'none'}")
        values = {**OPTIONAL_INPUTS, **inputs}
        try:
            weights = normalize_weights(values["weights"])
            replicas, hpa_min, hpa_max = (_as_int(values[key], f"run_plan: {key}") for key in ("replicas", "hpa_min", "hpa_max"))
            force = boolean(values["force"], strict=True)
        except (RolloutPlanError, TypeError) as exc:
            raise RunPlanError(str(exc)) from None
        service = str(values["service"])
        if not _SERVICE_NAME.match(service):
            raise RunPlanError(f"run_plan: service {service!r} must be a DNS-1123 label of at most 56 characters")
        if not 1 <= hpa_min <= replicas <= hpa_max:
            raise RunPlanError(f"run_plan: replicas {replicas} must be at least 1 and within the HPA bounds "
                               f"{hpa_min}..{hpa_max} (min at least 1, min <= max)")
        return cls(service=service, replicas=replicas, hpa_min=hpa_min, hpa_max=hpa_max, weights=weights,
                   week=values["week"], image=str(values["image"] or ""), built_digest=str(values["built_digest"] or ""),
                   force=force, command=str(values["command"] or "ansible-playbook"),
                   stable_image=str(values["stable_image"] or ""))


@dataclass(frozen=True)
class Track:
    """One Deployment as the run leaves it: replicas 0 and image '' mean it does not exist."""

    name: str
    image: str
    replicas: int


@dataclass(frozen=True)
class Hpa:
    """One track's autoscaler as the run leaves it; 0..0 means there is none."""

    name: str
    min: int
    max: int


@dataclass(frozen=True)
class RunPlan:
    """Everything one run needs; ``as_dict()`` gives it to templates."""

    action: str
    decided: bool
    allowed: bool
    forced: bool
    refusal: str
    message: str
    digest: str
    week: int
    last_week: int
    weight: int
    effective_weight: int
    split: dict[str, int]
    stable: Track
    canary: Track
    hpa: Hpa
    canary_hpa: Hpa
    new_pods_deployment: str
    stable_image_now: str
    canary_exists: bool
    build: bool
    apply: bool
    remove_canary: bool
    release: int
    new_release: bool
    previous_stable: str
    weights: dict[int, int]
    basis: dict[str, dict[str, Any]]
    size_bounds: dict[str, int]
    resize: bool = False
    warnings: tuple[str, ...] = ()
    # a week run again: the passing run whose traffic analysis judged the pods this week's apply leaves as they
    # are (traffic_judged); empty otherwise
    judged: str = ""

    def as_dict(self) -> dict[str, Any]:
        plan = asdict(self)
        plan["warnings"] = list(self.warnings)
        return plan


@dataclass(frozen=True)
class _Live:
    stable: Mapping[str, Any] | None
    canary: Mapping[str, Any] | None
    hpa: Mapping[str, Any] | None
    canary_hpa: Mapping[str, Any] | None = None


def plan_run(record: Mapping[str, Any], live: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None,
             inputs: RunInputs | Mapping[str, Any], action: str = WEEK) -> RunPlan:
    """Decide one run. ``record`` is a parsed release record (release_record.parse_record), ``live`` the
    objects k8s_info returned for the Deployments and the HPA (any order; none on a first install),
    ``inputs`` a RunInputs or its mapping, ``action`` week, abort or rollback.

    Raises RunPlanError for unusable inputs; a refused run is a plan with ``allowed`` false.
    """
    if action not in ACTIONS:
        raise RunPlanError(f"run_plan: action must be one of {', '.join(ACTIONS)}, got {action!r}")
    if not isinstance(record, Mapping) or "state" not in record:
        raise RunPlanError("run_plan: record must be a parsed release record (the release_record filter)")
    given = RunInputs.from_mapping(asdict(inputs) if isinstance(inputs, RunInputs) else inputs)
    stable_name, canary_name = f"{given.service}-stable", f"{given.service}-canary"
    objects = _classify(live, given.service, stable_name, canary_name)
    last_week = len(given.weights)
    week = 0
    if action == WEEK:
        try:
            week = validate_week(given.week, given.weights)
        except RolloutPlanError as exc:
            raise RunPlanError(str(exc)) from None
    stable_now = _image(objects.stable, given.service)
    build = action == WEEK and week == 1 and not given.image
    common = {"action": action, "last_week": last_week, "weights": given.weights, "stable_image_now": stable_now,
              "canary_exists": objects.canary is not None, "build": build, "basis": _basis(objects),
              "size_bounds": {"min": given.hpa_min, "max": given.hpa_max}}

    if build and not given.built_digest:
        weight = given.weights[week]
        return _unchanged(common, objects, given, week, weight, decided=False, release=int(record["release"]),
                          message=("Week 1 builds the image first (no rollout_image): plan the run again with the "
                                   "built digest; the guard decides then, before anything is written."))

    try:
        decision = decide(record, action, week, given.image or given.built_digest, given.force, stable_now,
                          given.command, last_week)
    except RecordError as exc:
        raise RunPlanError(str(exc)) from None
    weight = 0 if action == ABORT else 100 if action == ROLLBACK else given.weights[week]
    new_release = bool(decision["allowed"] and decision["new_release"])
    guard = {"allowed": decision["allowed"], "forced": decision["forced"], "refusal": decision["refusal"],
             "message": decision["message"], "digest": decision["digest"], "new_release": new_release,
             "previous_stable": decision.get("previous_stable") or "",
             "release": int(record["release"]) + (1 if new_release else 0)}
    if not decision["allowed"]:
        return _unchanged(common, objects, given, decision["week"], weight, decided=True, **guard)
    if action == ABORT:
        return _abort(common, objects, given, decision["week"], guard)
    judged = judged_run(record, decision["week"], decision["digest"]) if action == WEEK else None
    return _change(common, objects, given, decision["week"], weight, guard,
                   judged=f"week {decision['week']} passed its traffic analysis with this digest ({judged.get('finished')})"
                   if judged else "")


def _inventory_changed(objects: _Live, given: RunInputs) -> bool:
    """Whether the inventory's replicas differ from those the last run applied (the Deployments' annotation):
    the operator resized the service."""
    noted = {((d.get("metadata") or {}).get("annotations") or {}).get(REPLICAS_ANNOTATION, "")
             for d in (objects.stable, objects.canary) if d is not None} - {""}
    return bool(noted) and noted != {str(given.replicas)}


def _size(objects: _Live, given: RunInputs) -> int:
    """The pods the service runs now, both tracks (what their HPAs chose), within the service's HPA bounds;
    the inventory's replicas when no Deployment runs yet or when they changed since the last run."""
    live = _replicas(objects.stable) + _replicas(objects.canary)
    if not live or _inventory_changed(objects, given):
        return given.replicas
    return min(max(live, given.hpa_min), given.hpa_max)


def _bounds(given: RunInputs, weight: int) -> tuple[Hpa, Hpa]:
    """Each track's HPA bounds: the week's split of the service's bounds (at least one pod each); no canary
    HPA at 100 %."""
    low, high = split_replicas(given.hpa_min, weight), split_replicas(given.hpa_max, weight)
    stable_min = max(1, low["stable"])
    stable = Hpa(given.service, stable_min, max(stable_min, high["stable"]))
    if weight >= 100 or not high["canary"]:
        return stable, Hpa(f"{given.service}-canary", 0, 0)
    canary_min = max(1, low["canary"])
    return stable, Hpa(f"{given.service}-canary", canary_min, max(canary_min, high["canary"]))


def _within(count: int, hpa: Hpa) -> bool:
    return hpa.min <= count <= hpa.max


def _change(common: dict[str, Any], objects: _Live, given: RunInputs, week: int, weight: int,
            guard: dict[str, Any], judged: str = "") -> RunPlan:
    """A week or a rollback: the objects of the weight, applied; the canary goes at 100 % after the gate."""
    digest = guard["digest"]
    size = _size(objects, given)
    split = split_replicas(size, weight)
    stable_hpa, canary_hpa = _bounds(given, weight)
    stable_image = digest if weight == 100 else (given.stable_image or common["stable_image_now"] or digest)
    canary_image = digest if split["canary"] else ""
    resize = _inventory_changed(objects, given)
    # the tracks already run this week's images: keep the counts the HPAs chose when the rule allows it
    same_images = (_image(objects.canary, given.service) == canary_image
                   and _image(objects.stable, given.service) == stable_image)
    replicas = _counts(_replicas(objects.stable), _replicas(objects.canary), size, weight, stable_hpa, canary_hpa,
                       keep=same_images and not resize)
    stable = Track(f"{given.service}-stable", stable_image, replicas["stable"])
    canary = Track(f"{given.service}-canary", canary_image, replicas["canary"])
    return RunPlan(**common, **guard, decided=True, week=week, weight=weight,
                   effective_weight=_effective(stable, canary, digest), split=split, stable=stable, canary=canary,
                   hpa=stable_hpa, canary_hpa=canary_hpa,
                   new_pods_deployment=canary.name if split["canary"] else stable.name,
                   apply=True, remove_canary=weight == 100, resize=resize, warnings=_warnings(split, size, weight),
                   judged=judged)


def traffic_judged(plan: Mapping[str, Any], applied: Mapping[str, Any] | None) -> str:
    """Why the traffic analysis need not run, or empty when it must. It need not when the plan found the
    week's pods judged (``judged``: the record's last run passed this week with this digest and its analysis)
    and the apply left them as they were: no Deployment changed (``applied``: resource_apply_result, its
    ``resources``) and no track's replicas written. Any change there means new pods, and they are judged."""
    if not isinstance(plan, Mapping) or "judged" not in plan:
        raise RunPlanError("traffic_judged: expected a run plan (the run_plan filter)")
    if not plan["judged"] or not isinstance(applied, Mapping):
        return ""
    deployments_changed = any(r.get("changed") for r in applied.get("resources") or [] if r.get("kind") == "Deployment")
    replicas_written = any(t.get("changed") for t in applied.get("replicas") or [])
    if deployments_changed or replicas_written:
        return ""
    return f"the pods are those {plan['judged']}; this run changed no Deployment"


def _counts(stable: int, canary: int, size: int, weight: int, stable_hpa: Hpa, canary_hpa: Hpa, *,
            keep: bool) -> dict[str, int]:
    """Each track's replicas for ``weight``: the split of ``size``, or, with ``keep``, the counts the tracks
    run when both are within their HPA's bounds and the canary within one pod of the weight (a week run
    again asks for what the HPAs chose)."""
    split = split_replicas(size, weight)
    if (keep and split["canary"] and canary and _within(stable, stable_hpa) and _within(canary, canary_hpa)
            and abs(100 * canary - weight * (stable + canary)) <= 100):
        return {"stable": stable, "canary": canary}
    return split


def _abort(common: dict[str, Any], objects: _Live, given: RunInputs, week: int, guard: dict[str, Any]) -> RunPlan:
    """An abort applies no template: stable, on the image it runs, takes the service's size (the pods both
    tracks run, within the service's bounds) and its HPA, if there is one, the service's bounds; once stable
    is ready the canary and its HPA go. So the service never has fewer ready pods than before the abort, and
    its PodDisruptionBudget, counted over both tracks, holds."""
    live = _track(objects.stable, f"{given.service}-stable", given.service)
    stable = Track(live.name, live.image, max(live.replicas, _size(objects, given)) if live.image else 0)
    canary = Track(f"{given.service}-canary", "", 0)
    hpa = Hpa(given.service, given.hpa_min, given.hpa_max) if objects.hpa else _hpa(None, given.service)
    return RunPlan(**common, **guard, decided=True, week=week, weight=0,
                   effective_weight=_effective(stable, canary, guard["digest"]),
                   split=split_replicas(given.replicas, 0), stable=stable, canary=canary,
                   hpa=hpa, canary_hpa=_hpa(None, f"{given.service}-canary"), new_pods_deployment=stable.name,
                   apply=False, remove_canary=True, resize=_inventory_changed(objects, given))


def _unchanged(common: dict[str, Any], objects: _Live, given: RunInputs, week: int, weight: int, *, decided: bool,
               release: int, message: str, allowed: bool = False, forced: bool = False, refusal: str = "",
               digest: str = "", new_release: bool = False, previous_stable: str = "") -> RunPlan:
    """A run that writes nothing (refused, or waiting for the digest week 1 builds): the live state."""
    stable = _track(objects.stable, f"{given.service}-stable", given.service)
    canary = _track(objects.canary, f"{given.service}-canary", given.service)
    return RunPlan(**common, decided=decided, allowed=allowed, forced=forced, refusal=refusal, message=message,
                   digest=digest, week=week, weight=weight, effective_weight=_effective(stable, canary, digest),
                   split=split_replicas(given.replicas, weight), stable=stable, canary=canary,
                   hpa=_hpa(objects.hpa, given.service), canary_hpa=_hpa(objects.canary_hpa, f"{given.service}-canary"),
                   new_pods_deployment="", apply=False, remove_canary=False,
                   release=release, new_release=new_release, previous_stable=previous_stable)


def track_counts(plan: Mapping[str, Any], live: Mapping[str, int],
                 expected: Mapping[str, int] | None = None) -> dict[str, int]:
    """The replicas each existing track should have now, as the run writes them apart from its apply.

    ``plan`` is a RunPlan's ``as_dict()``, ``live`` the tracks that exist now (``stable``/``canary`` -> the
    replicas read now), ``expected`` the counts the tracks should still have (default: the plan's
    ``basis``, the counts it was made from). While no track moved from ``expected``, or when the plan
    resizes the service (an inventory change), the answer is the plan's counts. A track whose HPA only
    brought it within the bounds the run just applied (week 4 lifts stable from 4 to its new minimum 10)
    did not move either: the plan's counts already honour those bounds. A track that moved otherwise was
    scaled by its HPA for its load after the plan read it: the plan's rule is applied again to the counts the HPAs
    chose (the abort's: stable takes the service's size; a week's: the split of the pods both tracks run,
    or the counts kept when within the bounds and one pod of the weight), so the run never writes back a
    count the HPA has just replaced. Tracks the plan leaves at 0 (the canary at 100 % or on an abort,
    removed once stable is ready) keep their count.
    """
    planned = {track: int(plan[track]["replicas"]) for track in _TRACKS}
    wanted = {track: planned[track] for track in live if planned[track] > 0}
    if expected is None:
        expected = {track: int(seen["replicas"]) for track, seen in (plan.get("basis") or {}).items()}
    if plan.get("resize") or not scaled_for_load(plan, live, expected):
        return wanted
    # a track this run created counts with the replicas it was created for
    now = {track: int(live[track]) if track in expected else planned[track] for track in _TRACKS if track in live}
    bounds = plan["size_bounds"]
    size = min(max(sum(now.values()), int(bounds["min"])), int(bounds["max"]))
    if plan["action"] == ABORT:
        counts = {"stable": max(now.get("stable", 0), size), "canary": now.get("canary", 0)}
    else:
        counts = _counts(now.get("stable", 0), now.get("canary", 0), size, int(plan["weight"]),
                         _hpa_of(plan["hpa"]), _hpa_of(plan["canary_hpa"]), keep=True)
    return {track: counts[track] for track in wanted}


def scaled_for_load(plan: Mapping[str, Any], live: Mapping[str, int], expected: Mapping[str, int]) -> bool:
    """Whether an HPA scaled a track that existed when the plan read it (``expected``) to its ``live`` count
    for its load: not when it only clamped the count into the bounds the plan gives that track's HPA (a
    track without an HPA has max 0)."""
    hpas = {"stable": _hpa_of(plan["hpa"]), "canary": _hpa_of(plan["canary_hpa"])}
    for track in live:
        if track not in expected:
            continue
        hpa, was = hpas[track], int(expected[track])
        clamped = min(max(was, hpa.min), hpa.max) if hpa.max else was
        if int(live[track]) not in (was, clamped):
            return True
    return False


def replicas_owners(deployment: Mapping[str, Any] | None) -> list[str]:
    """The field managers that own a Deployment's ``spec.replicas`` (its managedFields), sorted."""
    owners = set()
    for entry in ((deployment or {}).get("metadata") or {}).get("managedFields") or []:
        fields = (entry.get("fieldsV1") or {}).get("f:spec") or {}
        if "f:replicas" in fields:
            owners.add(str(entry.get("manager") or ""))
    return sorted(owners)


def _basis(objects: _Live) -> dict[str, dict[str, Any]]:
    """The tracks that exist as the plan read them: name, replicas and the managers that own the replicas."""
    return {track: {"name": (deployment.get("metadata") or {}).get("name", ""), "replicas": _replicas(deployment),
                    "owners": replicas_owners(deployment)}
            for track, deployment in (("stable", objects.stable), ("canary", objects.canary)) if deployment is not None}


def _hpa_of(bounds: Mapping[str, Any]) -> Hpa:
    return Hpa(str(bounds.get("name", "")), int(bounds["min"]), int(bounds["max"]))


def _effective(stable: Track, canary: Track, digest: str) -> int:
    """The share of the pods the run leaves that run ``digest``: the canary's, and the stable track's
    too when it runs the digest (a first install, 100 %, or an abort after one)."""
    total = stable.replicas + canary.replicas
    new = sum(track.replicas for track in (stable, canary) if digest and track.image == digest)
    return _share(new, total) if total else 0


def _share(pods: int, total: int) -> int:
    """``pods`` as a share of ``total`` in percent, rounded half up."""
    return (200 * pods + total) // (2 * total)


def _warnings(split: Mapping[str, int], total: int, weight: int) -> tuple[str, ...]:
    """Say where the split departs from the nearest whole number of pods to the weight.

    Rounding to whole pods is expected and only shows in ``effective_weight``. These are the cases
    where split_replicas keeps a rule instead: at least one canary pod (every week tests the new
    version on a real pod), and at least one stable pod below 100 % when there are two or more.
    The run goes ahead with that split; the warning says what the traffic really is.
    """
    if weight in (0, 100):
        return ()
    nearest = (total * weight + 50) // 100
    exact = f"{total * weight / 100:g}"
    share = _share(split["canary"], total)
    if split["stable"] == 0:
        return (f"{total} replica cannot be split: the canary takes the only pod and stable runs none, so the new "
                f"version gets 100 % of the traffic instead of {weight} %, with no old-version pod to fall back to "
                f"(the HPA does not scale a Deployment at 0 replicas). Set 2 or more replicas to keep a stable pod.",)
    if nearest == 0:
        return (f"{weight} % of {total} pods is {exact} pods, less than one: the canary still runs 1 pod, so the new "
                f"version gets {share} % of the traffic instead of {weight} %.",)
    if split["canary"] < nearest:
        return (f"{weight} % of {total} pods rounds to all {total}: stable keeps 1 pod until 100 %, so the new "
                f"version gets {share} % of the traffic instead of {weight} %.",)
    return ()


def _classify(live: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None, service: str, stable_name: str,
              canary_name: str) -> _Live:
    """The stable and canary Deployments and their HPAs (``<service>``, ``<service>-canary``) among the live
    objects; others are ignored."""
    if isinstance(live, Mapping):
        live = [live]
    if live is not None and (isinstance(live, (str, bytes)) or not isinstance(live, Sequence)):
        raise RunPlanError(f"run_plan: live must be a list of objects as k8s_info returns them, got {type(live).__name__}")
    found: dict[str, Mapping[str, Any] | None] = {"stable": None, "canary": None, "hpa": None, "canary_hpa": None}
    for obj in live or []:
        if not isinstance(obj, Mapping):
            raise RunPlanError(f"run_plan: live must hold Kubernetes objects (mappings), got {type(obj).__name__}")
        name = (obj.get("metadata") or {}).get("name")
        spec = obj.get("spec") or {}
        if obj.get("kind") == "HorizontalPodAutoscaler" or "scaleTargetRef" in spec:
            if name in (service, canary_name):
                found["hpa" if name == service else "canary_hpa"] = obj
        elif obj.get("kind", "Deployment") == "Deployment" and name in (stable_name, canary_name):
            found["stable" if name == stable_name else "canary"] = obj
    return _Live(**found)


def _image(deployment: Mapping[str, Any] | None, service: str) -> str:
    """The image of the service's container (the container named as the service), '' if there is none."""
    template = ((deployment or {}).get("spec") or {}).get("template") or {}
    for container in (template.get("spec") or {}).get("containers") or []:
        if container.get("name") == service:
            return str(container.get("image") or "")
    return ""


def _replicas(deployment: Mapping[str, Any] | None) -> int:
    return int(((deployment or {}).get("spec") or {}).get("replicas") or 0)


def _track(deployment: Mapping[str, Any] | None, name: str, service: str) -> Track:
    return Track(name, _image(deployment, service), _replicas(deployment))


def _hpa(hpa: Mapping[str, Any] | None, service: str) -> Hpa:
    spec = (hpa or {}).get("spec") or {}
    return Hpa(service, int(spec.get("minReplicas") or (1 if hpa else 0)), int(spec.get("maxReplicas") or 0))
