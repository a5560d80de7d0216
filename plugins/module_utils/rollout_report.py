# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run report of one rollout week: what went in, what changed, what the gates saw, the verdict.

The verdict is decided here and only here (``classify``), in one of three classes (docs/verdicts.md).
PASS: the rollout gate and the smoke test ran and passed, no rollback ran and no step failed. FAIL:
the release is at fault - its containers crash or are OOM-killed, its image cannot be pulled, its
pods are not ready in time, the smoke test or the image's runtime verification fails. ERROR: the
environment or the configuration is at fault - inputs, vault, secrets, RBAC, a server-side dry-run
refusal, the API unavailable, a lost node, pods no node has room for, a run lock held, an
interrupted run, any unexpected failure of a step. Each verdict carries a short ``cause``
(``CAUSES``). The class is decided from structured data - the gate's ``reason``, the failed step, task
and module and its HTTP status - not from the English of messages (except a vault decryption
failure, which Ansible reports only in words). The chain decides it once with ``run_verdict``
before the report and the release record take it; a report given no verdict decides it the same
way. Values of secrets never reach the report: keys that name a secret are dropped, and any known
secret value found in a string is masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from ansible_collections.vextrus.deploy.plugins.module_utils.redact import MARKER, redact_value

PASS = "PASS"
FAIL = "FAIL"
ERROR = "ERROR"
VERDICTS = (PASS, FAIL, ERROR)
MASK = MARKER
_SECRET_KEY = re.compile(r"(token|secret|password|passwd|authorization|api_key|private_key)", re.IGNORECASE)


class ReportError(ValueError):
    """The report's inputs are not usable."""


def scrub(value: Any, secret_values: Iterable[str] = ()) -> Any:
    """Return ``value`` without keys that name a secret and with known secret values masked (each
    value, its base64 forms and a URL's password: ``redact.redact_value``)."""
    return redact_value(_drop_secret_keys(value), secret_values)


def _drop_secret_keys(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_secret_keys(v) for k, v in value.items() if not _SECRET_KEY.search(str(k))}
    if isinstance(value, (list, tuple)):
        return [_drop_secret_keys(v) for v in value]
    return value


def _passed(result: Mapping[str, Any] | None) -> bool:
    if not result or result.get("skipped"):
        return False
    if "passed" in result:
        return bool(result["passed"]) and not result.get("failed")
    return not result.get("failed", True)


# The gate's reasons (rollout_status.FAILING_WAITING_REASONS, OOMKilled, RestartLimitExceeded,
# Unschedulable, ProgressDeadlineExceeded, Timeout) and the class and cause each stands for. A pod
# that no node has room for is the cluster's capacity or the inventory's requests, not the image:
# ERROR. A container the kubelet cannot configure lacks a Secret or ConfigMap key the manifests
# reference: ERROR. NodeLost and NodeNotReady are the reasons of a pod whose node went away.
GATE_REASONS: dict[str, tuple[str, str]] = {
    "CrashLoopBackOff": (FAIL, "crash"),
    "RestartLimitExceeded": (FAIL, "crash"),
    "RunContainerError": (FAIL, "crash"),
    "OOMKilled": (FAIL, "oom"),
    "ImagePullBackOff": (FAIL, "image-pull"),
    "ErrImagePull": (FAIL, "image-pull"),
    "InvalidImageName": (FAIL, "image-pull"),
    "ProgressDeadlineExceeded": (FAIL, "not-ready"),
    "Timeout": (FAIL, "not-ready"),
    "CreateContainerConfigError": (ERROR, "secrets"),
    "CreateContainerError": (ERROR, "container-runtime"),
    "Unschedulable": (ERROR, "unschedulable"),
    "NodeLost": (ERROR, "node-lost"),
    "NodeNotReady": (ERROR, "node-lost"),
    # the timeout passed while the API server could not be reached: the rollout was not judged
    "ApiUnavailable": (ERROR, "api"),
}
# Every cause a verdict can carry, and its class.
CAUSES: dict[str, str] = {
    "pass": PASS,
    **{cause: verdict for verdict, cause in GATE_REASONS.values()},
    "smoke": FAIL,
    "analysis": FAIL,
    "verification": FAIL,
    "api": ERROR,
    "rbac": ERROR,
    "dry-run": ERROR,
    "secrets": ERROR,
    "vault": ERROR,
    "config": ERROR,
    "build": ERROR,
    "smoke-setup": ERROR,
    "analysis-setup": ERROR,
    "lock-held": ERROR,
    "refused": ERROR,
    "interrupted": ERROR,
    "internal": ERROR,
}
# The task that takes the run's lease, and the start of its message when another run holds it.
LEASE_TASK = "Take the run's lease"
LOCK_HELD = "run lock held"
# The steps of the chain, in their order; rollout.yml's rescue names the one that failed.
STEPS = ("read", "build", "guard", "secrets", "snapshot", "apply", "gate", "analysis", "smoke", "finish")
_VAULT = re.compile(r"decryption failed|vault secret|vault password", re.IGNORECASE)
_FORBIDDEN = re.compile(r"\b403\b|forbidden", re.IGNORECASE)
_CHECKS = ("ansible.builtin.fail", "ansible.builtin.assert", "fail", "assert")
# the collection's modules that read or write Kubernetes objects as kubernetes.core's do
_K8S_MODULES = ("vextrus.deploy.read_objects", "read_objects", "vextrus.deploy.write_objects", "write_objects")


def _kubernetes_call(action: str) -> bool:
    return action.startswith("kubernetes.core.") or action in _K8S_MODULES


def _failure(failure: Any) -> dict[str, Any]:
    """The failed step as a mapping: task, action, msg, status, step and, from a step that knows it,
    cause (rollout.yml's rescue); a plain string is ``<task>: <message>``."""
    if not failure:
        return {}
    if isinstance(failure, Mapping):
        return {k: v for k, v in failure.items() if v not in (None, "")}
    if isinstance(failure, str):
        task, _colon, msg = failure.partition(": ")
        return {"text": failure, "task": task, "msg": msg} if msg else {"text": failure, "msg": failure}
    raise ReportError(f"the failed step must be a mapping (task, action, msg, status, step) or a string, "
                      f"got {type(failure).__name__}")


def failure_text(failure: Any) -> str:
    """``<task>: <message>`` of the failed step; '' when no step failed."""
    step = _failure(failure)
    if not step or "text" in step:
        return str(step.get("text", ""))
    msg = step.get("msg", "failed")
    if isinstance(msg, (list, tuple)):
        msg = " ".join(str(m) for m in msg)
    return f"{step.get('task') or 'a task'}: {msg}"


def _status(step: Mapping[str, Any]) -> int | None:
    try:
        return int(step["status"])
    except (KeyError, TypeError, ValueError):
        return None


def classify_failure(failure: Any) -> tuple[str, str]:
    """The class and cause of the step that stopped the chain (the gate's own result: ``classify_gate``)."""
    step = _failure(failure)
    action, task, where = str(step.get("action") or ""), str(step.get("task") or ""), step.get("step")
    msg = str(step.get("msg") or "")
    status = _status(step)
    if step.get("cause") in CAUSES:
        return CAUSES[step["cause"]], step["cause"]
    if msg.startswith(LOCK_HELD):
        return ERROR, "lock-held"
    if action.endswith("image_verify"):
        return FAIL, "verification"
    if _VAULT.search(msg):
        return ERROR, "vault"
    if status == 403 or (status is None and _kubernetes_call(action) and _FORBIDDEN.search(msg)):
        return ERROR, "rbac"
    if task.startswith("Dry-run"):
        return ERROR, "dry-run"
    if status is not None and (status in (404, 429) or status >= 500 or status <= 0):
        return ERROR, "api"
    if task == LEASE_TASK:  # the lease could not be read or written: the API's fault
        return ERROR, "api"
    if where == "read":  # the record and the live objects, before anything is planned
        return ERROR, "api" if _kubernetes_call(action) else "config"
    by_step = {"guard": "refused", "secrets": "secrets", "build": "build"}
    if where in by_step:
        return ERROR, by_step[where]
    if _kubernetes_call(action) or action in ("vextrus.deploy.access_review", "vextrus.deploy.rollout_gate"):
        return ERROR, "api"
    return ERROR, "config" if action in _CHECKS else "internal"


def classify_gate(gate: Mapping[str, Any]) -> tuple[str, str]:
    """The class and cause of a failed gate, by its reason; a gate that failed without one could not
    watch (the API refused or did not answer)."""
    if gate.get("reason"):
        return GATE_REASONS.get(str(gate["reason"]), (ERROR, "internal"))
    return (ERROR, "rbac") if _FORBIDDEN.search(str(gate.get("msg") or "")) else (ERROR, "api")


def _smoke_checked(smoke: Mapping[str, Any]) -> bool:
    """Whether any smoke check probed its URLs (a check the probe could not start - no port-forward,
    no API - has a message and no ``urls``, see smoke_checks.unreached)."""
    return any((check.get("result") or {}).get("urls") for check in smoke.get("checks") or [])


def classify(
    gate: Mapping[str, Any] | None,
    smoke: Mapping[str, Any] | None,
    rollback: Mapping[str, Any] | None,
    failure: Any = None,
    analysis: Mapping[str, Any] | None = None,
) -> tuple[str, str, str]:
    """Return the verdict, its reason and its cause; ``failure`` is the step that stopped the chain,
    if any (a mapping from rollout.yml's rescue, or ``<task>: <message>``); ``analysis`` is the traffic
    analysis' result (analysis_gate), None where it is not configured."""
    text = failure_text(failure)
    verdict, cause = classify_failure(failure) if failure else (ERROR, "internal")
    if failure and cause == "lock-held":
        return verdict, text, cause
    if not _passed(gate):
        if not gate or gate.get("skipped"):
            return verdict, f"the rollout gate did not run: {text}" if text else "the rollout gate did not run", cause
        reason = gate.get("reason") or "failed"
        where = f" in pod {gate['pod']}" if gate.get("pod") else ""
        message = str(gate.get("msg") or gate.get("message") or "")
        gate_verdict, gate_cause = classify_gate(gate)
        return gate_verdict, f"rollout gate: {reason}{where}: {message}".rstrip(": "), gate_cause
    if analysis and not analysis.get("skipped") and not _passed(analysis):
        # the analysis' own verdict: FAIL judged the release by its traffic; ERROR could not judge it
        why = str(analysis.get("reason") or analysis.get("msg") or "failed")
        if analysis.get("verdict") == FAIL:
            return FAIL, f"traffic analysis: {why}", "analysis"
        return ERROR, f"traffic analysis could not judge the release: {why}", "analysis-setup"
    if not _passed(smoke):
        if not smoke or smoke.get("skipped"):
            return verdict, f"the smoke test did not run: {text}" if text else "the smoke test did not run", cause
        if _smoke_checked(smoke):
            return FAIL, f"smoke test: {smoke.get('msg') or _first_failed_check(smoke)}", "smoke"
        return ERROR, f"smoke test could not probe the service: {smoke.get('msg') or text or 'no check ran'}", "smoke-setup"
    if failure:
        return verdict, text, cause
    if rollback and rollback.get("ran"):
        return ERROR, "a rollback ran", "internal"
    return PASS, "every gate passed", "pass"


def decide(
    gate: Mapping[str, Any] | None,
    smoke: Mapping[str, Any] | None,
    rollback: Mapping[str, Any] | None,
    failure: Any = None,
    analysis: Mapping[str, Any] | None = None,
) -> tuple[str, str]:
    """Return the verdict and its reason (``classify`` without the cause)."""
    verdict, reason, _cause = classify(gate, smoke, rollback, failure, analysis)
    return verdict, reason


def run_verdict(data: Mapping[str, Any]) -> dict[str, str]:
    """The verdict of a run, its reason and cause, and the failed step as text, from the chain's
    results: ``gate``, ``analysis``, ``smoke``, ``rollback`` and ``failure`` (the step that stopped the chain,
    if any)."""
    if not isinstance(data, Mapping):
        raise ReportError(f"run results must be a mapping, got {type(data).__name__}")
    failure = data.get("failure") or None
    verdict, reason, cause = classify(data.get("gate"), data.get("smoke"), data.get("rollback") or {"ran": False}, failure,
                                      data.get("analysis"))
    return {"verdict": verdict, "reason": reason, "cause": cause, "failure": failure_text(failure)}


def applied_resources(results: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Kind, name and changed of each item of a looped ``kubernetes.core.k8s`` apply."""
    resources = []
    for item in results or []:
        obj = item.get("result") or {}
        if not obj.get("kind"):
            obj = item.get(item.get("ansible_loop_var") or "item") or {}
        if not isinstance(obj, Mapping) or not obj.get("kind"):
            raise ReportError("expected the results of a looped kubernetes.core.k8s task (each with the applied object)")
        resources.append({"kind": obj["kind"], "name": (obj.get("metadata") or {}).get("name"), "changed": bool(item.get("changed"))})
    return resources


def _deployments(apply: Mapping[str, Any] | None, gate: Mapping[str, Any] | None) -> dict[str, Any]:
    """Ready pods and image per Deployment of the week, from resource_apply's result and the gate's counts."""
    ready = (gate or {}).get("ready") or {}
    deployments = {}
    for track in ("stable", "canary"):
        info = (apply or {}).get(track) or {}
        if info.get("name") and (int(info.get("replicas") or 0) > 0 or info["name"] in ready):
            deployments[info["name"]] = {"track": track, "replicas": info.get("replicas"),
                                         "ready": ready.get(info["name"], "-"), "image": info.get("image")}
    return deployments


def _first_failed_check(smoke: Mapping[str, Any]) -> str:
    for check in smoke.get("checks") or []:
        result = check.get("result") or {}
        if result.get("failed"):
            return f"{check.get('name')}: {result.get('msg') or 'failed'}"
    return "failed"


def build_report(data: Mapping[str, Any], secret_values: Iterable[str] = ()) -> dict[str, Any]:
    """Assemble the report from the chain's results (see the rollout_report filter's documentation)."""
    if not isinstance(data, Mapping):
        raise ReportError(f"report data must be a mapping, got {type(data).__name__}")
    for key in ("environment", "week", "image"):
        if key not in data:
            raise ReportError(f"report data lacks '{key}'; the rollout playbook sets it before the report")
    gate = data.get("gate")
    smoke = data.get("smoke")
    rollback = data.get("rollback") or {"ran": False}
    failure = data.get("failure") or None
    if data.get("verdict") is None:
        verdict, reason, cause = classify(gate, smoke, rollback, failure, data.get("analysis"))
    elif data["verdict"] in VERDICTS:
        verdict, reason, cause = data["verdict"], str(data.get("reason") or ""), str(data.get("cause") or "")
    else:
        raise ReportError(f"report data verdict must be {', '.join(VERDICTS)} (run_verdict), got {data['verdict']!r}")
    report = {
        "verdict": verdict,
        "reason": reason,
        "cause": cause,
        "failure": failure_text(failure) or None,
        "action": data.get("action") or "week",
        "environment": data["environment"],
        "namespace": data.get("namespace"),
        "service": data.get("service"),
        "week": data["week"],
        "weight": data.get("weight"),
        "image": data["image"],
        "started": data.get("started"),
        "finished": data.get("finished"),
        "resources": [
            {"kind": r.get("kind"), "name": r.get("name"), "changed": bool(r.get("changed"))}
            for r in data.get("resources") or []
        ],
        "deployments": data.get("deployments") or _deployments(data.get("apply"), gate),
        "gate": _gate_summary(gate),
        "analysis": _analysis_summary(data.get("analysis")),
        "smoke": _smoke_summary(smoke),
        "rollback": rollback,
        "release": _release_summary(data.get("release")),
    }
    if data.get("interrupted"):
        report["interrupted"] = data["interrupted"]
    return scrub(report, secret_values)


def _release_summary(release: Mapping[str, Any] | None) -> dict[str, Any]:
    """What the promotion guard decided for the run (see the release_guard filter)."""
    if not release:
        return {}
    keys = ("number", "new_release", "forced", "refusal", "previous_stable", "by")
    return {k: release[k] for k in keys if release.get(k) not in (None, "")}


def _gate_summary(gate: Mapping[str, Any] | None) -> dict[str, Any]:
    if not gate or gate.get("skipped"):
        return {"ran": False}
    keys = ("reason", "message", "deployment", "pod", "container", "exit_code", "restart_count", "logs", "log_source",
            "api_outages")
    summary = {"ran": True, "passed": _passed(gate), "elapsed": gate.get("elapsed"), "ready": gate.get("ready") or {}}
    summary.update({k: gate[k] for k in keys if gate.get(k) is not None})
    if gate.get("msg") and not _passed(gate):
        summary["msg"] = gate["msg"]
    return summary


def _condition(check: Mapping[str, Any]) -> str:
    """A check's threshold and how much worse than the baseline it may be, in words."""
    parts = [str(check.get("condition") or "")]
    if check.get("max_delta") is not None:
        parts.append(f"at most {check['max_delta']:g} worse than the baseline")
    if check.get("max_factor") is not None:
        parts.append(f"at most {check['max_factor']:g} x the baseline")
    return ", ".join(part for part in parts if part)


def _analysis_summary(analysis: Mapping[str, Any] | None) -> dict[str, Any]:
    """The traffic analysis' verdict, its load and every check's measurements over the window."""
    if analysis and analysis.get("judged"):
        return {"ran": False, "judged": str(analysis["judged"])}
    if not analysis or analysis.get("skipped") or "verdict" not in analysis:
        return {"ran": False}
    checks = [
        {key: check.get(key) for key in ("name", "phase", "query", "baseline_query")}
        | {"condition": _condition(check)}
        | {"measurements": [{key: m.get(key) for key in ("at", "phase", "value", "baseline", "detail")}
                            for m in check.get("measurements") or []]}
        for check in analysis.get("checks") or []
    ]
    return {"ran": True, "passed": _passed(analysis), "verdict": analysis["verdict"], "reason": analysis.get("reason") or "",
            "elapsed": analysis.get("elapsed"), "prometheus_url": analysis.get("prometheus_url"),
            "inconclusive_passed": list(analysis.get("inconclusive_passed") or []), "load": dict(analysis.get("load") or {}),
            "checks": checks}


def _smoke_summary(smoke: Mapping[str, Any] | None) -> dict[str, Any]:
    if not smoke or smoke.get("skipped"):
        return {"ran": False}
    checks = []
    for check in smoke.get("checks") or []:
        result = check.get("result") or {}
        checks.append(
            {
                "name": check.get("name"),
                "ran": not result.get("skipped", False) and bool(result),
                "passed": _passed(result),
                "urls": [_url_summary(u) for u in result.get("urls") or []],
                **({"msg": result["msg"]} if result.get("msg") and not _passed(result) else {}),
            }
        )
    judged = {"judged": str(smoke["judged"])} if smoke.get("judged") else {}
    return {"ran": True, "passed": _passed(smoke), **judged, "checks": checks}


def _url_summary(url: Mapping[str, Any]) -> dict[str, Any]:
    latency = url.get("latency_ms") or {}
    return {
        "url": url.get("url"),
        "passed": bool(url.get("passed")),
        "attempts": url.get("attempts"),
        "last_status": url.get("last_status"),
        "p50_ms": latency.get("p50"),
        "p95_ms": latency.get("p95"),
        "max_ms": latency.get("max"),
    }


def _cell(value: Any) -> str:
    return str(value if value is not None else "-").replace("|", "\\|").replace("\n", " ")


def _verdict_class(verdict: str) -> str:
    return {PASS: "every gate passed", FAIL: "the release is at fault",
            ERROR: "the environment or the configuration is at fault"}.get(verdict, verdict)


def _measured(measurement: Mapping[str, Any]) -> str:
    value = measurement.get("value")
    text = "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
    if measurement.get("baseline") is not None:
        baseline = measurement["baseline"]
        text += f" (baseline {baseline:.4g})" if isinstance(baseline, float) else f" (baseline {baseline})"
    return text if measurement.get("phase") == "successful" else f"{text} {measurement.get('phase')}"


def _analysis_markdown(analysis: Mapping[str, Any]) -> list[str]:
    """The traffic analysis section: verdict, load, and a table of every check's measurements."""
    lines = ["", "## Traffic analysis", ""]
    if not analysis.get("ran"):
        return lines + [f"Did not run: {analysis['judged']}." if analysis.get("judged") else "Did not run."]
    lines.append(f"{analysis['verdict']} after {_cell(analysis.get('elapsed'))} s, Prometheus {_cell(analysis.get('prometheus_url'))}"
                 + (f": {analysis['reason']}" if analysis.get("reason") else "."))
    load = analysis.get("load") or {}
    if load:
        latency = load.get("latency_ms") or {}
        lines += ["", f"Load: {_cell(load.get('requests'))} requests at {_cell(load.get('rate'))}/s, "
                      f"{_cell(load.get('failed'))} not 2xx/3xx, p50 {_cell(latency.get('p50'))} ms, p99 {_cell(latency.get('p99'))} ms"
                      + (f"; errors: {_cell('; '.join(load['errors']))}" if load.get("errors") else "") + "."]
    lines += [f"- inconclusive, passed by policy: {_cell(text)}" for text in analysis.get("inconclusive_passed") or []]
    lines += ["", "| check | condition | result | measurements | query |", "| --- | --- | --- | --- | --- |"]
    for check in analysis.get("checks") or []:
        measured = ", ".join(_measured(m) for m in check.get("measurements") or []) or "-"
        lines.append(f"| {_cell(check.get('name'))} | {_cell(check.get('condition'))} | {_cell(check.get('phase'))} | "
                     f"{_cell(measured)} | `{_cell(check.get('query'))}` |")
    return lines


def render_markdown(report: Mapping[str, Any]) -> str:
    """Render a report from build_report as Markdown."""
    action = report.get("action") or "week"
    what = f"week {report['week']}" if action == "week" else f"{action} (week {report['week']})"
    release = report.get("release") or {}
    lines = [
        f"# {report.get('service') or 'service'} - {report['environment']} {what}: **{report['verdict']}**",
        "",
        f"{report['reason']}.",
        "",
        *([f"Verdict {report['verdict']} ({_verdict_class(report['verdict'])}), cause `{report['cause']}`.", ""]
          if report.get("cause") else []),
        "| input | value |",
        "| --- | --- |",
        f"| week | {_cell(report['week'])} |",
        f"| weight | {_cell(report.get('weight'))} % |",
        f"| image | `{_cell(report['image'])}` |",
        f"| namespace | {_cell(report.get('namespace'))} |",
        f"| started | {_cell(report.get('started'))} |",
        f"| finished | {_cell(report.get('finished'))} |",
        *([f"| release | {_cell(release.get('number'))}{' (new)' if release.get('new_release') else ''} |"] if release else []),
        *([f"| run by | {_cell(release.get('by'))} |"] if release.get("by") else []),
        *([f"| FORCED | over: {_cell(release.get('refusal'))} |"] if release.get("forced") else []),
        "",
        "## Deployments",
        "",
        "| deployment | ready | image |",
        "| --- | --- | --- |",
    ]
    for name, info in sorted((report.get("deployments") or {}).items()):
        info = info or {}
        lines.append(f"| {_cell(name)} | {_cell(info.get('ready'))} | `{_cell(info.get('image'))}` |")
    lines += ["", "## Resources", "", "| resource | changed |", "| --- | --- |"]
    for res in report.get("resources") or []:
        lines.append(f"| {_cell(res['kind'])}/{_cell(res['name'])} | {'yes' if res['changed'] else 'no'} |")
    gate = report.get("gate") or {}
    lines += ["", "## Rollout gate", ""]
    if not gate.get("ran"):
        lines.append("Did not run.")
    else:
        lines.append(f"{'passed' if gate['passed'] else 'FAILED'} after {_cell(gate.get('elapsed'))} s; ready: "
                     + ", ".join(f"{k} {v}" for k, v in sorted((gate.get("ready") or {}).items())))
        if not gate["passed"]:
            lines += ["", f"- reason: {_cell(gate.get('reason'))}", f"- pod: {_cell(gate.get('pod'))}"]
            # a pod that was never scheduled (Unschedulable) has no container and no exit code to show
            if gate.get("container") is not None or gate.get("reason") != "Unschedulable":
                lines += [f"- container: {_cell(gate.get('container'))}", f"- exit code: {_cell(gate.get('exit_code'))}"]
            lines.append(f"- message: {_cell(gate.get('msg') or gate.get('message'))}")
            if gate.get("logs"):
                lines += ["", "```", *gate["logs"], "```"]
        lines += [""] if gate.get("api_outages") else []
        for outage in gate.get("api_outages") or []:  # transient API errors the gate rode out (or not: ended false)
            lines.append(f"- API outage: {_cell(outage.get('seconds'))} s from {_cell(outage.get('started'))}, "
                         f"{_cell(outage.get('error'))}" + ("" if outage.get("ended", True) else ", not over when the gate ended"))
    lines += _analysis_markdown(report.get("analysis") or {})
    smoke = report.get("smoke") or {}
    lines += ["", "## Smoke test", ""]
    if not smoke.get("ran"):
        lines.append("Did not run.")
    else:
        if smoke.get("judged"):
            lines += [f"One answer of each check, not several in a row: {_cell(smoke['judged'])}.", ""]
        lines += ["| check | url | result | attempts | p50 ms | p95 ms |", "| --- | --- | --- | --- | --- | --- |"]
        for check in smoke.get("checks") or []:
            result = "skipped" if not check["ran"] else ("pass" if check["passed"] else "FAIL")
            for url in check.get("urls") or [{}]:
                lines.append(f"| {_cell(check['name'])} | {_cell(url.get('url'))} | {result} | {_cell(url.get('attempts'))} | "
                             f"{_cell(url.get('p50_ms'))} | {_cell(url.get('p95_ms'))} |")
    interrupted = report.get("interrupted")
    if interrupted:
        lines += ["", "## Interrupted run found", "",
                  f"{_cell(interrupted.get('action'))} week {_cell(interrupted.get('week'))} of {_cell(interrupted.get('digest'))}, "
                  f"started {_cell(interrupted.get('started'))} by {_cell(interrupted.get('by'))}, ended without a verdict. "
                  f"Before this run's own step: {_cell(interrupted.get('recovery'))}."]
    rollback = report.get("rollback") or {}
    lines += ["", "## Rollback", "", ("Ran: " + _cell(rollback.get("summary") or "restored the previous state")) if rollback.get("ran") else "Not needed.", ""]
    return "\n".join(lines)
