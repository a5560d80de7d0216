"""The AWX objects as code (awx/controller/*.yml, infra.aap_configuration's controller_* variables):
each entry is valid for the awx.awx module its role passes it to, every reference resolves, the
surveys pass the controller's own survey validation, and the survey variables are ones the
playbooks read."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.parsing.convert_bool import boolean
from controller_defs import (
    JINJA_VAR,
    ROOT,
    VAR_MODULES,
    VAULT_PLACEHOLDER,
    Unsafe,
    controller_files,
    controller_vars,
    load_yaml,
    module_spec,
    plain,
    strings,
)

VARS = controller_vars()
TEMPLATES: list[dict[str, Any]] = VARS["controller_templates"]
ENVIRONMENTS = ("staging", "production")
PLAYBOOKS = [f"playbooks/week{week}.yml" for week in range(1, 5)] + [
    "playbooks/status.yml",
    "playbooks/abort.yml",
    "playbooks/rollback.yml",
]

# Built-in credential types used here: their kind and input fields (AWX's managed definitions).
BUILTIN_TYPES: dict[str, tuple[str, dict[str, bool]]] = {
    "Vault": ("vault", {"vault_password": True, "vault_id": False}),
    "Container Registry": ("registry", {"host": False, "username": False, "password": True, "verify_ssl": False}),
}
# Credential kinds the controller lets a job template carry (JobTemplateCredentialsList.is_valid_relation).
TEMPLATE_KINDS = {"ssh", "vault", "cloud", "net", "kubernetes"}
# The controller's survey question types and the Python type a default must have (JobTemplateSurveySpec).
SURVEY_TYPES: dict[str, type | tuple[type, ...]] = {
    "multiplechoice": str,
    "multiselect": str,
    "password": str,
    "text": str,
    "textarea": str,
    "float": (float, int),
    "integer": int,
}


def _entries() -> list[tuple[str, dict[str, Any]]]:
    return [(var, entry) for var in VAR_MODULES for entry in VARS.get(var, [])]


def _names(var: str) -> set[str]:
    return {entry["name"] for entry in VARS.get(var, [])}


def _by_name(var: str) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in VARS.get(var, [])}


def _custom_fields(type_name: str) -> dict[str, bool]:
    fields = _by_name("controller_credential_types")[type_name]["inputs"]["fields"]
    return {field["id"]: bool(field.get("secret", False)) for field in fields}


def _kind(type_name: str) -> str:
    if type_name in BUILTIN_TYPES:
        return BUILTIN_TYPES[type_name][0]
    return str(_by_name("controller_credential_types")[type_name].get("kind", "cloud"))


def test_every_controller_variable_is_present() -> None:
    assert set(VAR_MODULES) <= set(VARS), f"missing: {sorted(set(VAR_MODULES) - set(VARS))}"
    for var in VAR_MODULES:
        assert isinstance(VARS[var], list) and VARS[var], f"{var} must be a non-empty list"


@pytest.mark.parametrize(("var", "entry"), _entries(), ids=lambda v: v if isinstance(v, str) else v.get("name"))
def test_entry_is_valid_for_its_awx_module(var: str, entry: dict[str, Any]) -> None:
    spec = module_spec(VAR_MODULES[var])
    result = ArgumentSpecValidator(spec.argument_spec, **spec.constraints).validate(plain(entry))
    assert not result.unsupported_parameters, f"{sorted(result.unsupported_parameters)} are not options of awx.awx.{VAR_MODULES[var]}"
    assert not result.error_messages, result.error_messages
    assert "state" not in entry, "objects take the dispatch role's platform_state"


@pytest.mark.parametrize("var", list(VAR_MODULES))
def test_names_are_unique(var: str) -> None:
    names = [entry["name"] for entry in VARS[var]]
    assert len(names) == len(set(names)), f"duplicate names in {var}: {names}"


def test_one_template_per_playbook_and_environment() -> None:
    got = sorted((t["inventory"], t["playbook"]) for t in TEMPLATES)
    want = sorted((f"vextrus {env}", playbook) for env in ENVIRONMENTS for playbook in PLAYBOOKS)
    assert got == want


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t["name"])
def test_template_playbook_exists(template: dict[str, Any]) -> None:
    path = ROOT / template["playbook"]
    assert path.is_file(), f"{template['name']}: {template['playbook']} does not exist in the project"
    plays = load_yaml(path)
    assert isinstance(plays, list) and plays, f"{template['playbook']} is not a playbook"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t["name"])
def test_template_references_resolve(template: dict[str, Any]) -> None:
    assert template["project"] in _names("controller_projects")
    assert template["inventory"] in _names("controller_inventories")
    assert template["execution_environment"] in _names("controller_execution_environments")
    credentials = _by_name("controller_credentials")
    assert template["credentials"], "a template needs the cluster and vault credentials"
    for name in template["credentials"]:
        assert name in credentials, f"credential {name!r} is not defined"
    env = template["inventory"].removeprefix("vextrus ")
    assert all(f" {env} " in name for name in template["credentials"]), "a template must use its own environment's credentials"


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t["name"])
def test_template_credentials_are_attachable(template: dict[str, Any]) -> None:
    credentials = _by_name("controller_credentials")
    seen: set[tuple[str, str]] = set()
    kinds = set()
    for name in template["credentials"]:
        credential = credentials[name]
        kind = _kind(credential["credential_type"])
        assert kind in TEMPLATE_KINDS, f"the controller refuses a {kind!r} credential ({name}) on a job template"
        key = (credential["credential_type"], str(credential.get("inputs", {}).get("vault_id", "")))
        assert key not in seen, f"two credentials of the same type/vault id on {template['name']}"
        seen.add(key)
        kinds.add(kind)
    assert {"cloud", "vault"} <= kinds, "every template needs the kubeconfig and the vault credential"


@pytest.mark.parametrize("credential", VARS["controller_credentials"], ids=lambda c: c["name"])
def test_credential_inputs_match_their_type(credential: dict[str, Any]) -> None:
    type_name = credential["credential_type"]
    if type_name in BUILTIN_TYPES:
        fields = BUILTIN_TYPES[type_name][1]
        required: list[str] = []
    else:
        assert type_name in _names("controller_credential_types"), f"credential type {type_name!r} is not defined"
        fields = _custom_fields(type_name)
        required = _by_name("controller_credential_types")[type_name]["inputs"].get("required", [])
    inputs = credential.get("inputs", {})
    assert set(inputs) <= set(fields), f"unknown inputs {sorted(set(inputs) - set(fields))} for {type_name}"
    assert set(required) <= set(inputs), f"missing required inputs {sorted(set(required) - set(inputs))}"
    for field, secret in fields.items():
        if secret and field in inputs:
            assert VAULT_PLACEHOLDER.match(str(inputs[field])), f"{field} must be a {{{{ vault_... }}}} placeholder, not a value"


def test_credential_types_inject_only_what_kubernetes_core_reads() -> None:
    args_common = ROOT / ".venv" / "lib"
    source = next(args_common.glob("python3*/site-packages/ansible_collections/kubernetes/core/plugins/module_utils/args_common.py"))
    tree = ast.parse(source.read_text(encoding="utf-8"))
    auth_keys: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "AUTH_ARG_SPEC" for t in node.targets):
            assert isinstance(node.value, ast.Dict)
            auth_keys = {key.value for key in node.value.keys if isinstance(key, ast.Constant)}
    assert "kubeconfig" in auth_keys
    readable = {f"K8S_AUTH_{key.upper()}" for key in auth_keys}
    for ctype in VARS["controller_credential_types"]:
        env = ctype.get("injectors", {}).get("env", {})
        assert env, f"{ctype['name']} injects no environment"
        assert set(env) <= readable, f"{sorted(set(env) - readable)} are not read by kubernetes.core"


@pytest.mark.parametrize("ctype", VARS["controller_credential_types"], ids=lambda c: c["name"])
def test_credential_type_injectors(ctype: dict[str, Any]) -> None:
    fields = {field["id"] for field in ctype["inputs"]["fields"]}
    files = {key.removeprefix("template.") for key in ctype["injectors"].get("file", {}) if key.startswith("template.")}
    for text in strings(ctype["injectors"]):
        if "{{" not in text:
            continue
        assert isinstance(text, Unsafe), f"{text!r} must be !unsafe, or Ansible templates it before the controller sees it"
        for ref in re.findall(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}", text):
            if ref.startswith("tower.filename."):
                assert ref.removeprefix("tower.filename.") in files, f"{ref} names no file injector"
            else:
                assert ref in fields, f"{ref} is not an input of {ctype['name']}"
    assert ctype["injectors"]["env"]["K8S_AUTH_KUBECONFIG"] == "{{ tower.filename.kubeconfig }}"
    assert ctype["kind"] in {"cloud", "net"}, "only cloud and net custom types can be created"


def test_execution_environment_pull_credential() -> None:
    credentials = _by_name("controller_credentials")
    for ee in VARS["controller_execution_environments"]:
        assert credentials[ee["credential"]]["credential_type"] == "Container Registry"
        assert "vextrus_awx_ee_image" in ee["image"]


def test_project_default_environment_is_defined() -> None:
    for project in VARS["controller_projects"]:
        assert project["default_environment"] in _names("controller_execution_environments")
        assert project["scm_type"] == "git"


@pytest.mark.parametrize("source", VARS["controller_inventory_sources"], ids=lambda s: s["name"])
def test_inventory_source_is_a_project_inventory(source: dict[str, Any]) -> None:
    assert source["inventory"] in _names("controller_inventories")
    assert source["source"] == "scm"
    assert source["source_project"] in _names("controller_projects")
    path = ROOT / source["source_path"]
    assert path.is_file(), f"{source['source_path']} does not exist in the project"
    data = load_yaml(path)
    assert isinstance(data, dict) and "all" in data, f"{source['source_path']} is not a YAML inventory"
    env = source["inventory"].removeprefix("vextrus ")
    assert Path(source["source_path"]).parts[:2] == ("inventories", env)
    assert (path.parent / "group_vars" / "all" / "deploy.yml").is_file(), "the profile beside the hosts file is imported with it"


def test_every_inventory_has_a_source() -> None:
    sourced = [source["inventory"] for source in VARS["controller_inventory_sources"]]
    assert sorted(sourced) == sorted(_names("controller_inventories"))


def test_jinja_references_are_settings_or_vault_placeholders() -> None:
    defined = set(VARS)
    for path in controller_files():
        data = load_yaml(path)
        for text in strings(data):
            if isinstance(text, Unsafe):
                continue
            for ref in JINJA_VAR.findall(text):
                assert ref in defined or ref.startswith("vault_"), f"{path.name}: {ref} is neither a setting nor a vault_ placeholder"
    assert not [key for key in defined if key.startswith("vault_")], "secrets must not be committed"


# job templates and workflows (test_workflow_config.py): the controller validates both surveys alike
SURVEY_TEMPLATES = [t for t in [*TEMPLATES, *VARS["controller_workflows"]] if t.get("survey_enabled")]


def test_week_templates_have_surveys() -> None:
    weeks = [t for t in TEMPLATES if re.search(r"/week\d\.yml$", t["playbook"])]
    assert len(weeks) == 8
    assert all(t.get("survey_enabled") for t in weeks)
    for template in TEMPLATES:
        if not template.get("survey_enabled"):
            assert not template.get("survey_spec"), f"{template['name']} has a survey that is not enabled"


@pytest.mark.parametrize("template", SURVEY_TEMPLATES, ids=lambda t: t["name"])
def test_survey_passes_controller_validation(template: dict[str, Any]) -> None:
    """A port of the controller's JobTemplateSurveySpec._validate_spec_data."""
    spec = template["survey_spec"]
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        assert isinstance(spec.get(field), kind), f"survey field {field!r} must be a {kind.__name__}"
    assert spec["spec"], "'spec' doesn't contain any items"
    variables: set[str] = set()
    for idx, item in enumerate(spec["spec"]):
        assert isinstance(item, dict), f"question {idx} is not an object"
        for field in ("type", "question_name", "variable"):
            assert isinstance(item.get(field), str), f"question {idx}: {field!r} must be a string"
        assert isinstance(item.get("required"), bool), f"question {idx}: 'required' must be a boolean"
        assert item["variable"] not in variables, f"variable {item['variable']} is asked twice"
        variables.add(item["variable"])
        qtype = item["type"]
        assert qtype in SURVEY_TYPES, f"question {idx}: {qtype!r} is not a survey type"
        default = item.get("default", "")
        if default != "":
            assert isinstance(default, SURVEY_TYPES[qtype]), f"question {idx}: default has the wrong type"
        for key in ("min", "max"):
            if item.get(key) is not None:
                assert isinstance(item[key], int), f"question {idx}: {key} must be an integer"
        if qtype in ("multiplechoice", "multiselect"):
            assert item.get("choices"), f"question {idx}: a {qtype} question needs choices"
            choices = item["choices"] if isinstance(item["choices"], list) else item["choices"].splitlines()
            defaults = default.splitlines() if isinstance(default, str) else list(default)
            if qtype == "multiplechoice":
                assert len(defaults) <= 1, "a multiple choice question has one default"
            assert all(d in choices for d in defaults), "the default must be one of the choices"
        if qtype in ("text", "textarea", "password"):
            low, high = item.get("min", 0) or 0, item.get("max")
            if high is not None:
                assert low <= high
            if not item["required"]:
                assert low == 0, f"question {idx}: an optional answer must be allowed to be empty (min 0)"
            if default:
                assert low <= len(default) <= (high if high is not None else len(default))
        if item["required"] and qtype not in ("multiplechoice", "multiselect"):
            assert default == "", f"question {idx}: a required question with a default is never really asked"


def _jinja_reads(variable: str) -> list[str]:
    pattern = re.compile(r"\{\{[^}]*\b" + re.escape(variable) + r"\b|^\s*(?:-\s*)?when:.*\b" + re.escape(variable) + r"\b", re.M)
    hits = []
    for path in sorted((ROOT / "playbooks").rglob("*.yml")):
        if pattern.search(path.read_text(encoding="utf-8")):
            hits.append(str(path.relative_to(ROOT)))
    return hits


SURVEY_VARIABLES = sorted({item["variable"] for t in SURVEY_TEMPLATES for item in t["survey_spec"]["spec"]})


@pytest.mark.parametrize("variable", SURVEY_VARIABLES)
def test_survey_variable_is_read_by_the_playbooks(variable: str) -> None:
    assert _jinja_reads(variable), f"no playbook (or playbooks/vars/profile.yml) reads {variable}"


def test_week_surveys() -> None:
    for template in TEMPLATES:
        match = re.search(r"/week(\d)\.yml$", template["playbook"])
        if not match:
            continue
        items = {item["variable"]: item for item in template["survey_spec"]["spec"]}
        assert set(items) == {"rollout_image", "rollout_force"}, template["name"]
        image, force = items["rollout_image"], items["rollout_force"]
        assert image["type"] == "text"
        if match.group(1) == "1":
            # week 1 starts a release: the digest is required; a digest reference is at least
            # 'r@sha256:' and 64 hex digits long
            assert image["required"] is True and image["min"] >= len("r@sha256:") + 64
        else:
            assert image["required"] is False and image.get("default", "") == ""
            assert "previous week" in image["question_description"]
        assert force["type"] == "multiplechoice" and force["default"] == "false"
        assert sorted(boolean(choice) for choice in force["choices"]) == [False, True]


def test_release_is_the_collection_version() -> None:
    """The project checks out the tag of the collection version the execution environment carries."""
    galaxy = load_yaml(ROOT / "galaxy.yml")
    assert VARS["vextrus_awx_release"] == galaxy["version"]
    assert "{{ vextrus_awx_release }}" in VARS["vextrus_awx_ee_image"]
    assert all(project["scm_branch"] == "{{ vextrus_awx_release }}" for project in VARS["controller_projects"])
