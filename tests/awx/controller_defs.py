"""Shared helpers for the AWX tests: paths, the controller-as-code files and the awx.awx modules'
argument specs."""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "awx"
CONTROLLER = AWX / "controller"
EE_FILE = AWX / "execution-environment.yml"


class Unsafe(str):
    """A value tagged !unsafe: Ansible passes it through untemplated."""


class _Loader(yaml.SafeLoader):
    pass


def _unsafe(loader: yaml.SafeLoader, node: yaml.Node) -> Unsafe:
    if not isinstance(node, yaml.ScalarNode):
        raise yaml.constructor.ConstructorError(None, None, "!unsafe on a non-scalar", node.start_mark)
    return Unsafe(loader.construct_scalar(node))


_Loader.add_constructor("!unsafe", _unsafe)


def load_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_Loader)  # the loader is a SafeLoader subclass


def controller_files() -> list[Path]:
    return sorted(CONTROLLER.glob("*.yml"))


def controller_vars() -> dict[str, Any]:
    """All files merged, as infra.aap_configuration's include_vars of the directory would; a variable
    defined in two files is an error here (include_vars would silently keep the last one)."""
    merged: dict[str, Any] = {}
    for path in controller_files():
        data = load_yaml(path)
        if not isinstance(data, dict):
            raise AssertionError(f"{path} is not a mapping of variables")
        for key, value in data.items():
            if key in merged:
                raise AssertionError(f"{key} is defined twice (again in {path.name})")
            merged[key] = value
    return merged


# infra.aap_configuration variable -> the awx.awx module its role passes each entry to
VAR_MODULES: dict[str, str] = {
    "controller_credential_types": "credential_type",
    "controller_credentials": "credential",
    "controller_execution_environments": "execution_environment",
    "controller_projects": "project",
    "controller_inventories": "inventory",
    "controller_inventory_sources": "inventory_source",
    "controller_templates": "job_template",
    "controller_workflows": "workflow_job_template",
}


@dataclass(frozen=True)
class ModuleSpec:
    argument_spec: dict[str, Any]
    constraints: dict[str, Any]


class _Captured(Exception):
    pass


def module_spec(name: str) -> ModuleSpec:
    """The argument spec an awx.awx module really builds in main(), captured at the point it would
    create its ControllerAPIModule (so no controller is contacted), plus the controller auth options
    every such module accepts."""
    module = importlib.import_module(f"ansible_collections.awx.awx.plugins.modules.{name}")
    api = importlib.import_module("ansible_collections.awx.awx.plugins.module_utils.controller_api")
    captured: dict[str, Any] = {}

    class Capture:
        def __init__(self, argument_spec: dict[str, Any], **kwargs: Any) -> None:
            captured["spec"] = argument_spec
            captured["kwargs"] = kwargs
            raise _Captured

    original = module.ControllerAPIModule
    module.ControllerAPIModule = Capture
    try:
        module.main()
    except _Captured:
        pass
    finally:
        module.ControllerAPIModule = original
    if "spec" not in captured:
        raise AssertionError(f"awx.awx.{name} did not build a ControllerAPIModule")
    spec = dict(api.ControllerModule.AUTH_ARGSPEC)
    spec.update(captured["spec"])
    keys = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")
    return ModuleSpec(spec, {k: v for k, v in captured["kwargs"].items() if k in keys})


def module_doc_options(name: str) -> dict[str, Any]:
    """The options an awx.awx module documents (its DOCUMENTATION), with their suboptions."""
    module = importlib.import_module(f"ansible_collections.awx.awx.plugins.modules.{name}")
    options: dict[str, Any] = yaml.safe_load(module.DOCUMENTATION)["options"]
    return options


_SPEC_KEYS = ("type", "elements", "choices", "required", "default", "aliases")


def doc_argument_spec(options: Mapping[str, Any]) -> dict[str, Any]:
    """An argument spec made of documented options: what a module that declares only `type='list'`
    for an option still expects of each element (awx.awx.workflow_job_template's workflow_nodes)."""
    spec: dict[str, Any] = {}
    for name, doc in options.items():
        entry = {key: doc[key] for key in _SPEC_KEYS if key in doc}
        if "suboptions" in doc:
            entry["options"] = doc_argument_spec(doc["suboptions"])
        spec[name] = entry
    return spec


# ------------------------------------------------------------ workflow graphs ---

EDGES = ("success_nodes", "failure_nodes", "always_nodes")


def node_edges(node: Mapping[str, Any], edge: str) -> list[str]:
    """The identifiers a workflow node points to on one edge (success_nodes, failure_nodes, always_nodes)."""
    return [str(target["identifier"]) for target in (node.get("related") or {}).get(edge) or []]


def workflow_nodes(workflow: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The nodes of a workflow by identifier."""
    return {str(node["identifier"]): node for node in workflow["workflow_nodes"]}


def start_nodes(workflow: Mapping[str, Any]) -> list[str]:
    """The nodes nothing points to: where the controller starts the workflow."""
    pointed = {target for node in workflow["workflow_nodes"] for edge in EDGES for target in node_edges(node, edge)}
    return [str(node["identifier"]) for node in workflow["workflow_nodes"] if node["identifier"] not in pointed]


def reachable(workflow: Mapping[str, Any], start: str) -> list[str]:
    """The identifiers reachable from start (start included), in the order first reached."""
    nodes = workflow_nodes(workflow)
    seen: list[str] = []
    todo = [start]
    while todo:
        current = todo.pop(0)
        if current in seen:
            continue
        seen.append(current)
        todo.extend(target for edge in EDGES for target in node_edges(nodes[current], edge))
    return seen


JINJA_VAR = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)")
VAULT_PLACEHOLDER = re.compile(r"^\{\{ *vault_[a-z0-9_]+ *\}\}$")


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def plain(value: Any) -> Any:
    """The value with !unsafe strings turned into plain str (what the module receives)."""
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Unsafe):
        return str(value)
    return value
