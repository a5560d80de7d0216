# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Week table and replica split of a phased rollout (pure functions, no Ansible imports).

Traffic is split without a mesh: two Deployments (stable and canary) sit behind one Service
selector, so the share of traffic a version gets is its share of the ready pods.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any


class RolloutPlanError(ValueError):
    """An input of the rollout plan is invalid; the message says what was expected and found."""


def _as_int(value: Any, what: str) -> int:
    """Return ``value`` as int; accept ints and decimal strings (extra-vars arrive as strings)."""
    if isinstance(value, bool):
        raise RolloutPlanError(f"{what} must be an integer, got boolean {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]+\s*", value):
        return int(value.strip())
    raise RolloutPlanError(f"{what} must be an integer, got {type(value).__name__} {value!r}")


def split_replicas(total: Any, weight: Any) -> dict[str, int]:
    """Split ``total`` pods into stable and canary for a traffic ``weight`` in percent.

    - weight 0: no canary.
    - 0 < weight < 100: canary = max(1, round-half-up(total * weight / 100)); when total >= 2 the
      stable Deployment keeps at least one pod (canary <= total - 1).
    - weight 100: the stable Deployment takes the new image and every pod, the canary is removed,
      so the split is ``{"stable": total, "canary": 0}``.
    """
    total = _as_int(total, "replica_split: total")
    weight = _as_int(weight, "replica_split: weight")
    if total < 1:
        raise RolloutPlanError(
            f"replica_split: total must be at least 1, got {total}; set the service's replica count to 1 or more"
        )
    if not 0 <= weight <= 100:
        raise RolloutPlanError(f"replica_split: weight must be between 0 and 100 (percent), got {weight}")
    if weight in (0, 100):
        return {"stable": total, "canary": 0}
    canary = max(1, (total * weight + 50) // 100)
    if total >= 2:
        canary = min(canary, total - 1)
    return {"stable": total - canary, "canary": canary}


def normalize_weights(weights: Any) -> dict[int, int]:
    """Validate a week table and return it as ``{week: weight}`` with int keys in week order.

    ``weights`` is a mapping of week (int or decimal string, as YAML and extra-vars give it) to
    percent, or a list of percents for weeks 1..N. Weeks must be exactly 1..N, weights integers in
    0..100, strictly ascending, and the last week must reach 100.
    """
    if isinstance(weights, Mapping):
        items = list(weights.items())
    elif isinstance(weights, Sequence) and not isinstance(weights, (str, bytes)):
        items = [(index + 1, value) for index, value in enumerate(weights)]
    else:
        raise RolloutPlanError(
            "rollout_weights: expected a mapping of week to percent such as {1: 10, 2: 30, 3: 60, 4: 100}, "
            f"got {type(weights).__name__} {weights!r}"
        )
    if not items:
        raise RolloutPlanError("rollout_weights: the week table is empty; define at least one week with weight 100")

    table: dict[int, int] = {}
    for raw_week, raw_weight in items:
        try:
            week = _as_int(raw_week, "week")
        except RolloutPlanError:
            raise RolloutPlanError(
                f"rollout_weights: week keys must be integers 1..N, got {raw_week!r}"
            ) from None
        if week in table:
            raise RolloutPlanError(f"rollout_weights: week {week} is defined twice")
        try:
            weight = _as_int(raw_weight, f"rollout_weights: weight of week {week}")
        except RolloutPlanError as exc:
            raise RolloutPlanError(f"{exc}; use a whole percent such as 10") from None
        if not 0 <= weight <= 100:
            raise RolloutPlanError(
                f"rollout_weights: weight of week {week} must be between 0 and 100 (percent), got {weight}"
            )
        table[week] = weight

    weeks = sorted(table)
    expected = list(range(1, len(weeks) + 1))
    if weeks != expected:
        raise RolloutPlanError(
            f"rollout_weights: weeks must be numbered 1..{len(weeks)} without gaps, got {weeks}"
        )
    ordered = {week: table[week] for week in weeks}
    previous: int | None = None
    for week, weight in ordered.items():
        if previous is not None and weight <= previous:
            raise RolloutPlanError(
                f"rollout_weights: weights must increase strictly week by week, but week {week} has {weight} % "
                f"after {previous} % in week {week - 1}"
            )
        previous = weight
    last_week = weeks[-1]
    if ordered[last_week] != 100:
        raise RolloutPlanError(
            f"rollout_weights: the last week ({last_week}) must reach 100 %, got {ordered[last_week]} %; "
            "add a final week with weight 100"
        )
    return ordered


def validate_week(week: Any, weights: Any) -> int:
    """Return ``week`` as int after checking it is one of the weeks of the (validated) table."""
    table = normalize_weights(weights)
    valid = ", ".join(str(w) for w in table)
    try:
        number = _as_int(week, "rollout_week")
    except RolloutPlanError:
        raise RolloutPlanError(f"rollout_week must be one of {valid}, got {week!r}") from None
    if number not in table:
        raise RolloutPlanError(f"rollout_week must be one of {valid}, got {number}")
    return number
