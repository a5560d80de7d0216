"""The release workflows as code (awx/controller/workflows.yml, infra.aap_configuration's
controller_workflows, passed to awx.awx.workflow_job_template): every node is valid for the module's
documented workflow_nodes options and for what its code reads, every reference resolves to a job
template of the workflow's environment, and the graph is the release: week 1 -> approval -> week 2
-> approval -> week 3 -> approval -> week 4, each week's failure to the abort job template, approvals
with a timeout; the "from week N" workflows are the same nodes from week N on.

The entries themselves are checked against the module's argument spec with the other controller
objects (test_controller_config.py, VAR_MODULES), their surveys with the controller's own survey
validation there too."""

from __future__ import annotations

import re
from typing import Any

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from controller_defs import (
    EDGES,
    ROOT,
    controller_vars,
    doc_argument_spec,
    load_yaml,
    module_doc_options,
    node_edges,
    plain,
    reachable,
    start_nodes,
    workflow_nodes,
)

VARS = controller_vars()
WORKFLOWS: list[dict[str, Any]] = VARS["controller_workflows"]
TEMPLATES = {t["name"]: t for t in VARS["controller_templates"]}
ENVIRONMENTS = ("staging", "production")
ORGANIZATION = "{{ vextrus_awx_organization }}"
RELEASE_PATH = ["week 1", "approve week 2", "week 2", "approve week 3", "week 3", "approve week 4", "week 4"]
# An approval waits for the next week's go-ahead: more than the week between two weeks, less than a month.
APPROVAL_TIMEOUT_RANGE = (7 * 86400, 30 * 86400)
NODE_SPEC = doc_argument_spec(module_doc_options("workflow_job_template")["workflow_nodes"]["suboptions"])


def _by_name() -> dict[str, dict[str, Any]]:
    return {w["name"]: w for w in WORKFLOWS}


def _release(env: str) -> dict[str, Any]:
    return _by_name()[f"vextrus {env} release"]


def _resumed(env: str, week: int) -> dict[str, Any]:
    return _by_name()[f"vextrus {env} release from week {week}"]


def _nodes() -> list[tuple[str, dict[str, Any]]]:
    return [(w["name"], node) for w in WORKFLOWS for node in w["workflow_nodes"]]


def _is_approval(node: dict[str, Any]) -> bool:
    return bool(node["unified_job_template"]["type"] == "workflow_approval")


def _template(node: dict[str, Any]) -> dict[str, Any]:
    return TEMPLATES[node["unified_job_template"]["name"]]


def _env(workflow: dict[str, Any]) -> str:
    match = re.fullmatch(r"vextrus (staging|production) release( from week [2-4])?", workflow["name"])
    assert match, f"{workflow['name']!r} is not a release workflow's name"
    return match.group(1)


def test_every_environment_has_its_workflows() -> None:
    want = sorted(f"vextrus {env} release{suffix}" for env in ENVIRONMENTS
                  for suffix in ("", " from week 2", " from week 3", " from week 4"))
    assert sorted(_by_name()) == want


@pytest.mark.parametrize(("workflow", "node"), _nodes(), ids=lambda v: v if isinstance(v, str) else v["identifier"])
def test_node_is_valid_for_the_module(workflow: str, node: dict[str, Any]) -> None:
    """The module declares workflow_nodes a list of dicts and reads them by its documented
    suboptions; its code indexes identifier, unified_job_template.name and .type unguarded."""
    result = ArgumentSpecValidator(NODE_SPEC).validate(plain(node))
    assert not result.unsupported_parameters, f"{sorted(result.unsupported_parameters)} are not workflow_nodes options"
    assert not result.error_messages, result.error_messages
    ujt = node["unified_job_template"]
    assert node["identifier"] and ujt["name"] and ujt["type"] in ("job_template", "workflow_approval"), node
    assert "state" not in node, "nodes take the workflow's state"
    assert set(node.get("related") or {}) <= set(EDGES), "nodes prompt for nothing (the templates ask for nothing on launch)"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w["name"])
def test_identifiers_are_unique_and_edges_resolve(workflow: dict[str, Any]) -> None:
    identifiers = [node["identifier"] for node in workflow["workflow_nodes"]]
    assert len(identifiers) == len(set(identifiers)), identifiers
    for node in workflow["workflow_nodes"]:
        for edge in EDGES:
            for target in node_edges(node, edge):
                assert target in identifiers, f"{node['identifier']} {edge} -> {target!r}: no such node"
                assert target != node["identifier"], f"{target} points to itself"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w["name"])
def test_job_nodes_run_templates_of_their_environment(workflow: dict[str, Any]) -> None:
    env = _env(workflow)
    for node in workflow["workflow_nodes"]:
        if _is_approval(node):
            continue
        ujt = node["unified_job_template"]
        assert ujt["name"] in TEMPLATES, f"{node['identifier']}: no job template {ujt['name']!r}"
        template = _template(node)
        assert template["inventory"] == f"vextrus {env}", f"{workflow['name']} runs {ujt['name']}"
        assert ujt["organization"] == {"name": ORGANIZATION} == {"name": template["organization"]}
        assert workflow["organization"] == ORGANIZATION
        want = "abort" if node["identifier"] == "abort" else node["identifier"].replace(" ", "")
        assert template["playbook"] == f"playbooks/{want}.yml", f"{node['identifier']} runs {template['playbook']}"


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w["name"])
def test_approvals_time_out_and_lead_to_the_next_week(workflow: dict[str, Any]) -> None:
    for node in workflow["workflow_nodes"]:
        if not _is_approval(node):
            continue
        ujt = node["unified_job_template"]
        low, high = APPROVAL_TIMEOUT_RANGE
        assert isinstance(ujt.get("timeout"), int) and low <= ujt["timeout"] <= high, f"{ujt['name']}: timeout {ujt.get('timeout')}"
        assert ujt.get("description"), f"{ujt['name']} says nothing to the approver"
        assert "organization" not in ujt, "an approval template belongs to its workflow"
        week = node["identifier"].removeprefix("approve ")
        assert node_edges(node, "success_nodes") == [week], node
        assert node_edges(node, "failure_nodes") == [] and node_edges(node, "always_nodes") == [], (
            "a denied or timed-out approval ends the workflow; it aborts nothing")
        assert ujt["name"].startswith(f"{workflow['name']}: "), "approval names are global: they carry the workflow's"


def test_approval_names_are_unique_in_the_controller() -> None:
    """awx.awx looks an approval template up by name among all unified job templates: a name twice
    would attach one workflow's approval to another, or fail the lookup."""
    names = [node["unified_job_template"]["name"] for _, node in _nodes() if _is_approval(node)]
    assert len(names) == len(set(names)), sorted(names)
    assert not set(names) & set(TEMPLATES), "an approval named like a job template"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_release_graph(env: str) -> None:
    workflow = _release(env)
    nodes = workflow_nodes(workflow)
    assert start_nodes(workflow) == ["week 1"]
    path, current = [], "week 1"
    while True:
        path.append(current)
        following = node_edges(nodes[current], "success_nodes")
        assert len(following) <= 1, f"{current} branches on success: {following}"
        if not following:
            break
        current = following[0]
    assert path == RELEASE_PATH
    assert sorted(reachable(workflow, "week 1")) == sorted(nodes), "every node is reachable from week 1"
    for week in range(1, 5):
        node = nodes[f"week {week}"]
        assert node_edges(node, "failure_nodes") == ["abort"], f"week {week} fails to the abort job"
        assert node_edges(node, "always_nodes") == []
    abort = nodes["abort"]
    assert _template(abort)["name"] == f"vextrus {env} abort"
    assert not any(node_edges(abort, edge) for edge in EDGES), "the abort job ends the workflow"


@pytest.mark.parametrize(("env", "week"), [(env, week) for env in ENVIRONMENTS for week in (2, 3, 4)])
def test_resumed_workflow_is_the_release_from_that_week(env: str, week: int) -> None:
    """What AWX cannot do (relaunch a workflow at a node), the "from week N" workflow does: the same
    nodes as the release from week N on, only the approvals named after it."""
    release, resumed = _release(env), _resumed(env, week)
    assert start_nodes(resumed) == [f"week {week}"]
    want = workflow_nodes(release)
    got = workflow_nodes(resumed)
    assert sorted(got) == sorted(reachable(release, f"week {week}")), sorted(got)
    assert sorted(reachable(resumed, f"week {week}")) == sorted(got)
    for identifier, node in got.items():
        if _is_approval(node):
            ujt = {**node["unified_job_template"], "name": want[identifier]["unified_job_template"]["name"]}
            assert {**node, "unified_job_template": ujt} == want[identifier], identifier
        else:
            assert node == want[identifier], identifier


def _survey(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    assert workflow.get("survey_enabled") is True, workflow["name"]
    return {item["variable"]: item for item in workflow["survey_spec"]["spec"]}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w["name"])
def test_workflow_survey_asks_what_the_weeks_ask(workflow: dict[str, Any]) -> None:
    """The workflow's survey answers reach every job of it: the same variables the week templates
    ask, week 1's image required where the workflow starts at week 1, optional (the release
    record's candidate) where it goes on later."""
    items = _survey(workflow)
    week_variables = {item["variable"] for t in TEMPLATES.values() if t.get("survey_enabled") for item in t["survey_spec"]["spec"]}
    assert set(items) == {"rollout_image", "rollout_force"} <= week_variables
    assert not workflow.get("extra_vars") and workflow.get("ask_variables_on_launch") is False
    assert workflow.get("allow_simultaneous") is False, "two releases of one environment at once"
    image = items["rollout_image"]
    starts = start_nodes(workflow)
    first = TEMPLATES[workflow_nodes(workflow)[starts[0]]["unified_job_template"]["name"]]
    first_image = {item["variable"]: item for item in first["survey_spec"]["spec"]}["rollout_image"]
    assert (image["required"], image["min"]) == (first_image["required"], first_image["min"]), workflow["name"]
    if starts == ["week 1"]:
        assert image["required"] is True and image["min"] >= len("r@sha256:") + 64
    else:
        assert image["required"] is False and image["default"] == ""
        assert "release record" in image["question_description"]
    assert items["rollout_force"]["default"] == "false"


def test_readme_shows_the_workflows() -> None:
    readme = (ROOT / "awx" / "README.md").read_text(encoding="utf-8")
    for name in ("vextrus staging release", "release from week", "workflow_approval", "rollout_force"):
        assert name in readme, f"awx/README.md does not mention {name!r}"


def test_workflows_file_header_says_how_the_digest_travels() -> None:
    text = (ROOT / "awx" / "controller" / "workflows.yml").read_text(encoding="utf-8")
    assert "release record" in text and "set_stats" in text
    assert load_yaml(ROOT / "awx" / "controller" / "workflows.yml")["controller_workflows"] == WORKFLOWS
