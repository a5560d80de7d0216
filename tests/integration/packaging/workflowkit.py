"""A small walker of the AWX workflows as code (awx/controller/workflows.yml): it goes through a
workflow's graph the way the controller does, one node at a time. Pure: the test says how a job
node runs (run_job) and gets the path taken back.

- start: the nodes nothing points to (or the node asked for);
- a job node: run_job(identifier, job template) -> its status; then its success_nodes when the job
  was "successful", else its failure_nodes, and its always_nodes either way;
- an approval node: taken as approved (its success_nodes), unless it is one to stop at: then the
  walk ends there, waiting, as the controller's workflow job would.

The workflows and the job templates come from the controller files as tests/awx reads them
(tests/awx/controller_defs.py, loaded by path)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Protocol

from packkit import ROOT

APPROVAL = "workflow_approval"
APPROVED = "approved"
WAITING = "waiting for approval"


@cache
def controller_defs() -> Any:
    """tests/awx/controller_defs.py (the controller files' loader and graph helpers), loaded by path."""
    path = ROOT / "tests" / "awx" / "controller_defs.py"
    spec = importlib.util.spec_from_file_location("vextrus_controller_defs", path)
    assert spec and spec.loader, path
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def controller_objects() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(workflows by name, job templates by name) of awx/controller/*.yml."""
    variables = controller_defs().controller_vars()
    workflows = {w["name"]: w for w in variables["controller_workflows"]}
    templates = {t["name"]: t for t in variables["controller_templates"]}
    return workflows, templates


def survey_extra_vars(workflow: Mapping[str, Any], answers: Mapping[str, str]) -> dict[str, str]:
    """The extra vars a launch of the workflow with these survey answers gives its jobs: each
    question's answer or default, an empty text answer left out (the controller does not send it),
    refused like the controller refuses it when required and missing, too short or too long, or
    not one of the choices."""
    spec = workflow["survey_spec"]["spec"]
    unknown = set(answers) - {item["variable"] for item in spec}
    assert not unknown, f"{sorted(unknown)} are not questions of {workflow['name']}"
    extra: dict[str, str] = {}
    for item in spec:
        value = str(answers.get(item["variable"], item.get("default", "")))
        if value == "":
            assert not item["required"], f"{item['variable']} is required by {workflow['name']}"
            continue
        if item["type"] == "multiplechoice":
            assert value in item["choices"], f"{item['variable']}: {value!r} is not one of {item['choices']}"
        else:
            assert item.get("min", 0) <= len(value) <= item.get("max", len(value)), f"{item['variable']}: length {len(value)}"
        extra[item["variable"]] = value
    return extra


class JobOutcome(Protocol):
    """What the walker needs of a job run: the status the controller would show
    ("successful", "failed", ...)."""

    @property
    def status(self) -> str: ...


RunJob = Callable[[str, Mapping[str, Any]], JobOutcome]


@dataclass(frozen=True)
class Step:
    """One node the walk went through: a job and its outcome, or an approval."""

    identifier: str
    template: str
    status: str
    outcome: JobOutcome | None = None


def _next(node: Mapping[str, Any], status: str) -> list[str]:
    """The nodes after a node that ended with status: its success or failure edge, and always."""
    edges = controller_defs().node_edges
    followed = "success_nodes" if status in ("successful", APPROVED) else "failure_nodes"
    return [*edges(node, followed), *edges(node, "always_nodes")]


def walk(
    workflow: Mapping[str, Any],
    templates: Mapping[str, Mapping[str, Any]],
    run_job: RunJob,
    start: str | None = None,
    stop_at: Iterable[str] = (),
) -> list[Step]:
    """Walks the workflow from its start nodes (or from start), node after node; the path taken."""
    defs = controller_defs()
    nodes = defs.workflow_nodes(workflow)
    todo = [start] if start is not None else defs.start_nodes(workflow)
    assert todo and all(node in nodes for node in todo), f"no start node {todo} in {workflow['name']}"
    stops = set(stop_at)
    path: list[Step] = []
    while todo:
        identifier = todo.pop(0)
        node = nodes[identifier]
        ujt = node["unified_job_template"]
        if ujt["type"] == APPROVAL:
            status = WAITING if identifier in stops else APPROVED
            path.append(Step(identifier, ujt["name"], status))
        else:
            assert ujt["type"] == "job_template", f"{identifier}: a walker runs job templates only, not {ujt['type']}"
            outcome = run_job(identifier, templates[ujt["name"]])
            status = outcome.status
            path.append(Step(identifier, ujt["name"], status, outcome))
        if status != WAITING:
            todo.extend(_next(node, status))
    return path
