"""awx/execution-environment.yml: `ansible-builder create` turns it into a build context (building
the image needs a base image that cannot be pulled here), and that context carries every Python
dependency the collection's plugins import, the collections of requirements.yml, vextrus.deploy
itself and the system packages."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from controller_defs import AWX, EE_FILE, ROOT, load_yaml

VENV_BIN = ROOT / ".venv" / "bin"
SITE = next((ROOT / ".venv" / "lib").glob("python3*/site-packages"))
EE = load_yaml(EE_FILE)
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements(path: Path) -> dict[str, str]:
    """name (normalised) -> the whole requirement line, for a pip requirements file."""
    found: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
            assert match, f"unparsable requirement {line!r} in {path}"
            found[_norm(match.group(0))] = line
    return found


PINNED = _requirements(ROOT / "requirements.txt")
COLLECTION_REQUIREMENTS = {
    "kubernetes.core": _requirements(SITE / "ansible_collections/kubernetes/core/requirements.txt"),
    "community.docker": _requirements(SITE / "ansible_collections/community/docker/meta/ee-requirements.txt"),
}
# Requirements of the bundled collections that the image gets another way.
NOT_LISTED = {
    "pyyaml": "a dependency of ansible-core",
    "paramiko": "community.docker needs it only for ssh:// Docker hosts; ansible-builder's introspection adds it",
}


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The definition as committed, in a copy of the layout it expects (awx/ beside requirements.yml,
    the collection tarball in .local/ee/), so the checkout is left untouched."""
    root = tmp_path_factory.mktemp("ee")
    shutil.copytree(AWX, root / "awx")
    shutil.copy2(ROOT / "requirements.yml", root / "requirements.yml")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), PATH=f"{VENV_BIN}:{os.environ['PATH']}")
    build = subprocess.run(
        [str(VENV_BIN / "ansible-galaxy"), "collection", "build", "--force", "--output-path", str(root / ".local" / "ee")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    create = subprocess.run(
        [str(VENV_BIN / "ansible-builder"), "create", "-f", str(root / "awx" / "execution-environment.yml"),
         "-c", str(root / "context"), "--output-filename", "Containerfile"],
        cwd=root, env=env, capture_output=True, text=True, timeout=300,
    )
    assert create.returncode == 0, create.stdout + create.stderr
    assert "No matches" not in create.stdout + create.stderr, create.stdout + create.stderr
    yield root / "context"


def test_definition_is_version_3_and_pins_core_and_runner() -> None:
    assert EE["version"] == 3
    deps = EE["dependencies"]
    assert deps["ansible_core"]["package_pip"] == PINNED["ansible-core"]
    assert deps["ansible_runner"]["package_pip"] == PINNED["ansible-runner"]
    assert deps["galaxy"] == "../requirements.yml", "one list of collections: the checkout's requirements.yml"


def test_containerfile_installs_pinned_core_runner_and_base(context: Path) -> None:
    text = (context / "Containerfile").read_text(encoding="utf-8")
    refs = re.search(r'^ARG ANSIBLE_INSTALL_REFS="([^"]*)"', text, re.M)
    assert refs, "no ANSIBLE_INSTALL_REFS in the Containerfile"
    assert set(refs.group(1).split()) == {PINNED["ansible-core"], PINNED["ansible-runner"]}
    assert re.search(r'^ARG EE_BASE_IMAGE="' + re.escape(EE["images"]["base_image"]["name"]) + '"', text, re.M)
    assert re.search(r'^ARG PYCMD="/usr/bin/python3\.1[1-9]"', text, re.M), "ansible-core 2.19 needs Python >= 3.11"
    for step in ("COPY _build/requirements.txt requirements.txt", "COPY _build/bindep.txt bindep.txt",
                 "-r requirements.yml --collections-path \"/usr/share/ansible/collections\""):
        assert step in text


REQUIRED_PYTHON = sorted(
    {"kubernetes", "jmespath", "pyjwt", "docker", "requests"}
    | {name for reqs in COLLECTION_REQUIREMENTS.values() for name in reqs if name not in NOT_LISTED}
)


@pytest.mark.parametrize("name", REQUIRED_PYTHON)
def test_context_python_requirement(context: Path, name: str) -> None:
    listed = _requirements(context / "_build" / "requirements.txt")
    assert name in listed, f"{name} is not in the image's Python requirements"
    if name in PINNED:
        assert listed[name] == PINNED[name], f"{listed[name]} differs from requirements.txt's {PINNED[name]}"


def _imports() -> dict[str, set[str]]:
    """Top-level module name -> files importing it, for every import in plugins/ (including the
    guarded ones inside try blocks and functions)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "plugins").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                parts = name.split(".")
                key = ".".join(parts[:3]) if parts[0] == "ansible_collections" else parts[0]
                found.setdefault(key, set()).add(str(path.relative_to(ROOT)))
    return found


IMPORTS = _imports()
THIRD_PARTY = sorted(
    name for name in IMPORTS
    if name not in sys.stdlib_module_names and name != "__future__" and not name.startswith("ansible_collections.")
)
COLLECTION_IMPORTS = sorted(name for name in IMPORTS if name.startswith("ansible_collections."))


def test_import_scan_finds_the_known_dependencies() -> None:
    assert {"kubernetes", "ansible"} <= set(THIRD_PARTY)
    assert {"ansible_collections.kubernetes.core", "ansible_collections.community.docker"} <= set(COLLECTION_IMPORTS)


def _core_dependencies() -> set[str]:
    names = set()
    for requirement in importlib.metadata.requires("ansible-core") or []:
        match = re.match(r"[A-Za-z0-9._-]+", requirement)
        if match and "extra ==" not in requirement:
            names.add(_norm(match.group(0)))
    return names


@pytest.mark.parametrize("module", THIRD_PARTY)
def test_plugin_import_is_provided(context: Path, module: str) -> None:
    distributions = importlib.metadata.packages_distributions().get(module)
    assert distributions, f"{module} (imported by {sorted(IMPORTS[module])}) is not installed by any distribution"
    listed = set(_requirements(context / "_build" / "requirements.txt"))
    provided = listed | {"ansible-core"} | _core_dependencies()
    names = {_norm(d) for d in distributions}
    assert names & provided, f"{module} ({sorted(names)}, imported by {sorted(IMPORTS[module])}) is not in the image"


@pytest.mark.parametrize("module", COLLECTION_IMPORTS)
def test_plugin_collection_import_is_provided(context: Path, module: str) -> None:
    collection = module.removeprefix("ansible_collections.")
    galaxy = yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8"))
    names = {entry["name"] for entry in galaxy["collections"]} | {f"{GALAXY['namespace']}.{GALAXY['name']}"}
    assert collection in names, f"{collection} (imported by {sorted(IMPORTS[module])}) is not in the image"


def test_context_collections_are_requirements_yml(context: Path) -> None:
    generated = (context / "_build" / "requirements.yml").read_text(encoding="utf-8")
    assert generated == (ROOT / "requirements.yml").read_text(encoding="utf-8")
    names = [entry["name"] for entry in yaml.safe_load(generated)["collections"]]
    assert {"kubernetes.core", "community.docker"} <= set(names)
    assert set(names) >= set(GALAXY["dependencies"]), "every dependency galaxy.yml declares is in the image"


def test_context_carries_this_collection(context: Path) -> None:
    tarballs = list((context / "_build" / "vextrus").glob("*.tar.gz"))
    assert [t.name for t in tarballs] == [f"{GALAXY['namespace']}-{GALAXY['name']}-{GALAXY['version']}.tar.gz"]
    with tarfile.open(tarballs[0]) as archive:
        member = archive.extractfile("MANIFEST.json")
        assert member is not None, "the tarball has no MANIFEST.json"
        manifest = json.load(member)
        members = set(archive.getnames())
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])
    for content in ("plugins/modules/rollout_gate.py", "roles/resource_apply/tasks/main.yml"):
        assert content in members
    text = (context / "Containerfile").read_text(encoding="utf-8")
    galaxy_stage = text.split("FROM base AS galaxy", 1)[1].split("FROM base AS builder", 1)[0]
    assert re.search(r"RUN ansible-galaxy collection install .*--collections-path /usr/share/ansible/collections "
                     r"/build/vextrus/vextrus-deploy-\*\.tar\.gz", galaxy_stage), "vextrus.deploy is not installed in the galaxy stage"


def _bindep(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, profile = line.partition(" ")
            entries.setdefault(name, "")
            entries[name] += profile
    return entries


@pytest.mark.parametrize("package", ["git-core", "tar", "gzip", "ca-certificates"])
def test_context_system_package_for_the_base_image(context: Path, package: str) -> None:
    """The base image is RPM based: each package must be installed on platform:rpm."""
    entries = _bindep(context / "_build" / "bindep.txt")
    assert package in entries, f"{package} is not in bindep.txt"
    profile = entries[package]
    assert profile == "" or "platform:rpm" in profile, f"{package} [{profile}] is not installed on an RPM base image"
    assert "centos" in EE["images"]["base_image"]["name"]
