"""The argument specs and the documented options must agree (what ansible-test validate-modules checks)."""

import importlib
from pathlib import Path

import pytest
import yaml

from ansible_collections.vextrus.deploy.plugins.module_utils.args_common import (
    access_review_argspec,
    analysis_gate_argspec,
    health_gate_argspec,
    read_objects_argspec,
    rollout_gate_argspec,
    run_lease_argspec,
    smoke_checks_argspec,
    track_replicas_argspec,
    write_objects_argspec,
)
from ansible_collections.vextrus.deploy.plugins.module_utils.k8s_connection import K8S_CONNECTION_ARG_SPEC

ROOT = Path(__file__).resolve().parents[4]
SPECS = {
    "rollout_gate": rollout_gate_argspec,
    "health_gate": health_gate_argspec,
    "access_review": access_review_argspec,
    "smoke_checks": smoke_checks_argspec,
    "run_lease": run_lease_argspec,
    "read_objects": read_objects_argspec,
    "write_objects": write_objects_argspec,
    "analysis_gate": analysis_gate_argspec,
    "track_replicas": track_replicas_argspec,
}
# The modules that show what they change with --diff; the others change nothing to show.
DIFF_MODULES = {"run_lease", "track_replicas"}


def documented_options(module_name: str) -> dict:
    module = importlib.import_module(f"ansible_collections.vextrus.deploy.plugins.modules.{module_name}")
    doc = yaml.safe_load(module.DOCUMENTATION)
    for name in doc.get("extends_documentation_fragment", []):
        namespace, collection, file_name, *variant = name.split(".")
        fragments = importlib.import_module(f"ansible_collections.{namespace}.{collection}.plugins.doc_fragments.{file_name}")
        fragment = yaml.safe_load(getattr(fragments.ModuleDocFragment, variant[0].upper() if variant else "DOCUMENTATION"))
        doc.setdefault("options", {}).update(fragment.get("options") or {})
        for attribute, value in (fragment.get("attributes") or {}).items():
            doc.setdefault("attributes", {}).setdefault(attribute, {}).update(value)
    return doc


def _compare(spec: dict, options: dict, where: str) -> None:
    assert set(spec) == set(options), where
    for name, arg in spec.items():
        option = options[name]
        assert arg.get("type", "str") == option.get("type", "str"), f"{where}.{name} type"
        assert arg.get("default") == option.get("default"), f"{where}.{name} default"
        assert bool(arg.get("required")) == bool(option.get("required")), f"{where}.{name} required"
        assert sorted(arg.get("aliases") or []) == sorted(option.get("aliases") or []), f"{where}.{name} aliases"
        if arg.get("options"):
            _compare(arg["options"], option["suboptions"], f"{where}.{name}")


@pytest.mark.parametrize("module_name", sorted(SPECS))
def test_argspec_matches_documentation(module_name):
    doc = documented_options(module_name)
    _compare(SPECS[module_name](), doc["options"], module_name)
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == ("full" if module_name in DIFF_MODULES else "none")


@pytest.mark.parametrize("module_name", sorted(SPECS))
def test_secrets_are_no_log(module_name):
    spec = SPECS[module_name]()
    flat = dict(spec)
    flat.update(spec.get("port_forward", {}).get("options", {}))
    for name in ("api_key", "password", "bearer_token", "kubeconfig"):
        if name in flat:
            assert flat[name].get("no_log") is True, name


def test_the_k8s_action_group_holds_every_module_with_top_level_connection_options():
    group = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text())["action_groups"]["k8s"]
    modules = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py"))
    with_connection = [name for name in modules if name in SPECS and set(K8S_CONNECTION_ARG_SPEC) <= set(SPECS[name]())]
    assert sorted(group) == with_connection == ["access_review", "read_objects", "rollout_gate", "run_lease", "track_replicas", "write_objects"]
    for name in modules:
        membership = (documented_options(name).get("attributes") or {}).get("action_group", {}).get("membership")
        assert membership == (["vextrus.deploy.k8s"] if name in group else None), name
