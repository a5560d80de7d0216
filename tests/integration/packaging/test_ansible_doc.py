"""`ansible-doc` renders every plugin of the installed collection: each module in plugins/modules/,
each lookup in plugins/lookup/ and each filter declared by a sidecar in plugins/filter/*.yml, as text (exit 0, from the installed
path) and as JSON (its short_description is the one in the source); `ansible-doc -l` lists exactly
these plugins."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from packkit import BIN, FQCN, ROOT, InstalledCollection, filter_docs, module_short_description, run

MODULES = sorted(p for p in (ROOT / "plugins" / "modules").glob("*.py") if p.name != "__init__.py")
LOOKUPS = sorted(p for p in (ROOT / "plugins" / "lookup").glob("*.py") if p.name != "__init__.py")
FILTERS = sorted((ROOT / "plugins" / "filter").glob("*.yml"))


def plugins() -> list[tuple[str, str, str]]:
    """(plugin type, name, short_description) of every module, lookup and sidecar-documented filter."""
    found = [("module", p.stem, module_short_description(p)) for p in MODULES]
    found += [("lookup", p.stem, module_short_description(p)) for p in LOOKUPS]
    found += [("filter", *filter_docs(p)) for p in FILTERS]
    return found


def test_every_plugin_is_listed(installed_collection: InstalledCollection, tmp_path: Path) -> None:
    found = plugins()
    names = {(kind, name) for kind, name, _ in found}
    assert {("module", "rollout_gate"), ("filter", "replica_split"), ("lookup", "vault_file")} <= names, names
    # a filter sidecar documents the filter of its own name
    assert all(filter_docs(p)[0] == p.stem for p in FILTERS), [(p.stem, filter_docs(p)[0]) for p in FILTERS]
    for kind in ("module", "lookup", "filter"):
        listed = run(
            [str(BIN / "ansible-doc"), "-t", kind, "--json", "-l", FQCN], cwd=tmp_path, env=installed_collection.env()
        )
        assert listed.rc == 0, listed.tail()
        expected = {f"{FQCN}.{name}": short for k, name, short in found if k == kind}
        assert json.loads(listed.output) == expected, listed.output[:3000]


@pytest.mark.parametrize(("kind", "name", "short_description"), plugins(), ids=[f"{k}-{n}" for k, n, _ in plugins()])
def test_ansible_doc_renders(
    installed_collection: InstalledCollection, tmp_path: Path, kind: str, name: str, short_description: str
) -> None:
    fqcn = f"{FQCN}.{name}"
    env = installed_collection.env()
    text = run([str(BIN / "ansible-doc"), "-t", kind, fqcn], cwd=tmp_path, env=env)
    assert text.rc == 0, text.tail()
    header = text.output.lstrip().splitlines()[0]
    assert header.startswith(f"> {kind.upper()} {fqcn} ({installed_collection.root}/plugins/"), header
    # Ansible's own messages ([ERROR]: ..., [WARNING]: ...); the documentation may speak of the verdict ERROR
    assert "[ERROR]" not in text.output and "[WARNING]" not in text.output, text.tail()
    assert "ERROR!" not in text.output, text.tail()

    rendered = run([str(BIN / "ansible-doc"), "-t", kind, "--json", fqcn], cwd=tmp_path, env=env)
    assert rendered.rc == 0, rendered.tail()
    doc = json.loads(rendered.output)[fqcn]["doc"]
    assert doc["short_description"] == short_description, doc["short_description"]
    assert short_description in rendered.output
    assert doc["description"], f"{fqcn} has no description"
