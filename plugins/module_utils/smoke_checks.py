# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A service's smoke checks, in order, through one connection to the service.

Each check probes one URL (``health_probe.ProbeRun``) until it has answered as expected the
check's number of times in a row. The checks share their rounds: every ``interval`` each check
that has not passed yet is asked once, in order, and a round goes past a check only while that
check's latest answer was a success, so a check is never asked while one before it is failing.
Each check's time budget starts when every check before it has passed (as if they ran one after
the other), so the first check in order that runs out of its budget is the one that fails; the
checks after it are returned as skipped. Three checks of three answers at 1 s therefore take about
2 s, not 6 s. A check's result holds what a ``health_gate`` task registers (``passed``,
``failed``, ``msg``, ``urls``, ``elapsed``; ``failed_url``, ``last_status`` and ``body_excerpt``
on failure), so the report reads the checks as it read the health gate's tasks. The bearer token goes only to the
checks marked ``authenticated`` and is masked, as are the given secret values, in every check's
result. Pure apart from the probe function it is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.health_probe import ProbeRun, Response, fetch
from ansible_collections.vextrus.deploy.plugins.module_utils.redact import redact, redact_value

SKIPPED = {"changed": False, "skipped": True, "skip_reason": "an earlier smoke check failed"}


@dataclass(frozen=True)
class SmokeCheck:
    """One check: a URL that must answer ``successes`` times in a row as expected."""

    name: str
    url: str
    expected_status: tuple[int, ...] = (200,)
    json_match: Mapping[str, Any] | None = None
    successes: int | None = None  # None: the run's default
    authenticated: bool = False


@dataclass(frozen=True)
class ProbeBudget:
    """What every check shares: consecutive successes by default, pacing and time budget per check."""

    successes: int = 3
    interval: float = 1.0
    timeout: float = 60.0
    request_timeout: float = 5.0
    validate_certs: bool = True
    secrets: Sequence[str] = field(default_factory=tuple)


def parse_checks(raw: Sequence[Mapping[str, Any]]) -> list[SmokeCheck]:
    """The checks option as SmokeChecks; a check needs a name and a URL, names are unique."""
    checks = []
    for number, item in enumerate(raw or [], start=1):
        if not isinstance(item, Mapping) or not item.get("name") or not item.get("url"):
            raise ValueError(f"smoke check {number} needs a name and a url, got {item!r}")
        checks.append(
            SmokeCheck(
                name=str(item["name"]),
                url=str(item["url"]),
                expected_status=tuple(item.get("expected_status") or (200,)),
                json_match=item.get("json_match") or None,
                successes=item.get("successes"),
                authenticated=bool(item.get("authenticated")),
            )
        )
    names = [check.name for check in checks]
    if len(set(names)) != len(names):
        raise ValueError(f"smoke check names must be unique, got {', '.join(names)}")
    if not checks:
        raise ValueError("no smoke check to run")
    return checks


def _check_result(probed: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    result = dict(probed)
    result["msg"] = result.pop("message")
    result.update(extra)
    result["changed"] = False
    result["failed"] = not result["passed"]
    return result


def _first_pending(runs: Sequence[ProbeRun]) -> int | None:
    return next((number for number, run in enumerate(runs) if not run.passed()), None)


def _probe_round(runs: Sequence[ProbeRun]) -> None:
    """Ask, in order, each check that has not passed yet; stop at a check whose latest answer failed."""
    for run in runs:
        if run.passed():
            continue
        run.probe_round()
        if not run.passed() and not run.answering():
            return


def run_smoke_checks(
    checks: Sequence[SmokeCheck],
    budget: ProbeBudget,
    *,
    bearer_token: str | None = None,
    url_for: Callable[[str], str] = lambda url: url,
    extra: Mapping[str, Any] | None = None,
    fetcher: Callable[..., Response] = fetch,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """Run ``checks`` in shared rounds (``url_for`` rewrites each URL, e.g. to a port-forward's local
    end) and return ``passed``, ``msg`` and ``checks``: ``[{"name": ..., "result": ...}]``; ``extra``
    is added to the result of each check that ran (the port-forward's pod and ports)."""
    hidden = [secret for secret in (bearer_token, *budget.secrets) if secret]
    runs = [
        ProbeRun(
            [url_for(check.url)],
            expected_status=check.expected_status,
            json_match=check.json_match,
            successes=check.successes or budget.successes,
            timeout=budget.timeout,
            request_timeout=budget.request_timeout,
            bearer_token=bearer_token if check.authenticated else None,
            validate_certs=budget.validate_certs,
            secrets=hidden,
            fetcher=fetcher,
            clock=clock,
        )
        for check in checks
    ]
    failed: int | None = None
    while (pending := _first_pending(runs)) is not None:
        # the first check that has not passed: every check before it has, so its budget runs
        runs[pending].start_budget()
        if runs[pending].remaining() <= 0:
            failed = pending
            break
        _probe_round(runs)
        if (pending := _first_pending(runs)) is None:
            break
        runs[pending].start_budget()
        remaining = runs[pending].remaining()
        if remaining > 0:
            sleep(min(budget.interval, remaining))
    results: list[dict[str, Any]] = []
    for number, (check, run) in enumerate(zip(checks, runs)):
        if failed is not None and number > failed:
            results.append({"name": check.name, "result": dict(SKIPPED)})
        else:
            results.append({"name": check.name, "result": _check_result(run.result(), extra or {})})
    if failed is not None:
        msg = f"smoke check {checks[failed].name!r} failed: {results[failed]['result']['msg']}"
    else:
        msg = f"all {len(results)} smoke checks passed"
    return redact_value({"passed": failed is None, "msg": msg, "checks": results}, hidden)


def unreached(checks: Sequence[SmokeCheck], reason: str, secrets: Sequence[str] = ()) -> dict[str, Any]:
    """The result when the service could not be reached at all (no pod to forward to, no API): the
    first check failed with ``reason``, the others skipped - as a failed first health_gate task was."""
    reason = redact(reason, secrets)
    first = {"changed": False, "failed": True, "msg": reason}
    results = [{"name": checks[0].name, "result": first}]
    results += [{"name": check.name, "result": dict(SKIPPED)} for check in checks[1:]]
    return {"passed": False, "msg": f"smoke check {checks[0].name!r} failed: {reason}", "checks": results}
