"""The image_build modules' argument specs and their documented options agree."""

from __future__ import annotations

import importlib

import pytest
import yaml

from ansible_collections.community.docker.plugins.module_utils.common_api import DOCKER_COMMON_ARGS


def _module(name: str):
    return importlib.import_module(f"ansible_collections.vextrus.deploy.plugins.modules.{name}")


@pytest.mark.parametrize("name", ["image_build_context", "image_verify"])
def test_documented_options_match_the_argument_spec(name):
    module = _module(name)
    doc = yaml.safe_load(module.DOCUMENTATION)
    for part in ("EXAMPLES", "RETURN"):
        assert yaml.safe_load(getattr(module, part))
    options = doc["options"]
    spec = module.ARGUMENT_SPEC
    assert set(spec) == set(options)
    for option, arg in spec.items():
        documented = options[option]
        assert arg.get("type", "str") == documented.get("type", "str"), option
        assert arg.get("default") == documented.get("default"), option
        assert bool(arg.get("required")) == bool(documented.get("required")), option
        assert arg.get("elements") == documented.get("elements"), option


def test_image_verify_takes_the_docker_connection_options():
    doc = yaml.safe_load(_module("image_verify").DOCUMENTATION)
    assert "community.docker.docker.api_documentation" in doc["extends_documentation_fragment"]
    assert not set(DOCKER_COMMON_ARGS) & set(_module("image_verify").ARGUMENT_SPEC)
