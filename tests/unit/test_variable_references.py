"""Every variable the playbooks, roles and templates read is set somewhere, and every internal
fact they set is read somewhere.

A static check over the YAML and the Jinja of playbooks/, roles/ and inventories/: a name is *set*
when it is a key of a vars file (role defaults and vars, group_vars, playbooks/vars), an option of a
role's argument spec, a key of `vars:` or `set_fact`, a `register:`, a `loop_var`, or a name that
Ansible itself provides. A name is *read* when a template or a conditional refers to it; a read
guarded by `| default(...)` or `is defined` may stay unset (an optional input). Either list that is
not empty fails the test with the file and the name.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from jinja2 import Environment, TemplateSyntaxError, meta, nodes

ROOT = Path(__file__).resolve().parents[2]
# Jinja's lexer warns about regex escapes inside string literals of the parsed templates
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

# set by Ansible itself (besides every ansible_* name)
MAGIC = {
    "hostvars", "groups", "group_names", "inventory_hostname", "inventory_hostname_short", "inventory_dir",
    "inventory_file", "playbook_dir", "role_path", "role_name", "play_hosts", "omit", "item", "environment",
    "lookup", "query", "q", "now", "undef", "range", "dict", "lipsum", "cycler", "joiner", "namespace",
    "true", "false", "none", "True", "False", "None", "vars",
}
# keys whose value is a bare Jinja expression (or a list of them)
CONDITIONALS = {"when", "failed_when", "changed_when", "until", "that"}
SET_FACT = {"set_fact", "ansible.builtin.set_fact"}
# guards that make a read optional: `x | default(...)`, `x is defined`, `x is undefined`
GUARD_FILTERS = {"default", "d"}
GUARD_TESTS = {"defined", "undefined"}


class _AnyName(dict):  # type: ignore[type-arg]
    """Filters and tests of any name (Ansible's and the collection's): only the names read matter."""

    def __contains__(self, name: object) -> bool:
        return True

    def __missing__(self, name: str) -> Any:
        return lambda *args, **kwargs: None

    def get(self, name: str, default: Any = None) -> Any:
        return self[name]


_ENV = Environment(extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"])
_ENV.filters = _AnyName(_ENV.filters)
_ENV.tests = _AnyName(_ENV.tests)


class _Loader(yaml.SafeLoader):
    """YAML with Ansible's tags (!vault, !unsafe) read as plain strings."""


_Loader.add_constructor("!vault", lambda loader, node: "<vaulted>")
_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def _yaml_files() -> list[Path]:
    found: list[Path] = []
    for top in ("playbooks", "roles", "inventories"):
        found += sorted((ROOT / top).rglob("*.yml"))
    return found


def _templates() -> list[Path]:
    return sorted((ROOT / "roles").rglob("templates/*.j2"))


def _load(path: Path) -> list[Any]:
    return [doc for doc in yaml.load_all(path.read_text(encoding="utf-8"), Loader=_Loader) if doc is not None]


def _is_vars_file(path: Path) -> bool:
    rel = path.relative_to(ROOT).parts
    return (
        (rel[0] == "roles" and rel[2] in ("defaults", "vars"))
        or "group_vars" in rel
        or "host_vars" in rel
        or rel[:2] == ("playbooks", "vars")
    )


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(key, value, parent mapping) for every value under value, depth first."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield str(k), v, value
            yield from _walk(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield key, v, None
            yield from _walk(v, key)


def _reads(source: str) -> tuple[set[str], set[str], set[str]]:
    """(names read unguarded, names read behind a guard, names the template sets for another
    template: the keys of a template lookup's template_vars, and what a template that includes
    others sets with ``{% set %}``, which its included templates read) in a template string."""
    tree = _ENV.parse(source)
    passed: set[str] = set()
    for call in tree.find_all(nodes.Call):
        for kwarg in call.kwargs:
            if kwarg.key == "template_vars" and isinstance(kwarg.value, nodes.Dict):
                passed |= {p.key.value for p in kwarg.value.items if isinstance(p.key, nodes.Const)}
    if next(tree.find_all(nodes.Include), None) is not None:
        passed |= {assign.target.name for assign in tree.find_all(nodes.Assign) if isinstance(assign.target, nodes.Name)}
    guarded: set[str] = set()
    for node in tree.find_all((nodes.Filter, nodes.Test)):
        name = node.name
        if (isinstance(node, nodes.Filter) and name in GUARD_FILTERS) or (
            isinstance(node, nodes.Test) and name in GUARD_TESTS
        ):
            root = node.node
            while isinstance(root, (nodes.Getattr, nodes.Getitem)):
                root = root.node
            if isinstance(root, nodes.Name):
                guarded.add(root.name)
    # names the template declares itself ({% set %}, loops, macros) are not reads of variables
    undeclared = meta.find_undeclared_variables(tree)
    return undeclared - guarded, undeclared & guarded, passed


def _expressions(key: str, value: Any) -> Iterator[str]:
    """The templates in one YAML value: strings with {{ or {%, and conditionals as {{ expr }}."""
    if isinstance(value, str):
        if key in CONDITIONALS:
            yield value if ("{{" in value or "{%" in value) else "{{ " + value + " }}"
        elif "{{" in value or "{%" in value:
            yield value
    elif isinstance(value, bool | int | float) or value is None:
        return


class _Index:
    def __init__(self) -> None:
        self.set_at: dict[str, list[str]] = defaultdict(list)
        self.facts_at: dict[str, list[str]] = defaultdict(list)
        self.read_at: dict[str, list[str]] = defaultdict(list)
        self.optional: set[str] = set()

    def read(self, source: str, where: str, key: str = "") -> None:
        try:
            plain, guarded, passed = _reads(source)
        except TemplateSyntaxError as exc:  # a template Jinja cannot parse is a finding of its own
            self.read_at[f"<unparsable: {exc}>"].append(where)
            return
        for name in passed:
            self.set_at[name].append(where)
        if key == "when":
            # a task that runs only when its variable is set may read it anywhere in the task
            self.optional |= guarded
        for name in plain:
            self.read_at[name].append(where)
        for name in guarded:
            self.read_at.setdefault(name, [])

    def add_yaml(self, path: Path) -> None:
        rel = str(path.relative_to(ROOT))
        docs = _load(path)
        if _is_vars_file(path):
            for doc in docs:
                if isinstance(doc, dict):
                    for name in doc:
                        self.set_at[str(name)].append(rel)
        if path.name == "argument_specs.yml":
            for doc in docs:
                for spec in (doc.get("argument_specs") or {}).values():
                    for name in (spec.get("options") or {}):
                        self.set_at[str(name)].append(rel)
            return
        for doc in docs:
            for key, value, parent in _walk(doc):
                if key == "vars" and isinstance(value, dict):
                    for name in value:
                        self.set_at[str(name)].append(rel)
                elif key in SET_FACT and isinstance(value, dict):
                    for name in value:
                        if name != "cacheable":
                            self.set_at[str(name)].append(rel)
                            self.facts_at[str(name)].append(rel)
                elif key == "register" and isinstance(value, str):
                    self.set_at[value].append(rel)
                    self.facts_at[value].append(rel)
                elif key == "loop_var" and isinstance(value, str):
                    self.set_at[value].append(rel)
                for source in _expressions(key, value):
                    self.read(source, f"{rel} ({key})", key)

    def add_template(self, path: Path) -> None:
        self.read(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))


@pytest.mark.parametrize(
    ("source", "plain", "guarded", "passed"),
    [
        ("{{ a.b | int }}", {"a"}, set(), set()),
        ("{{ a | default(b) }}", {"b"}, {"a"}, set()),
        ("{{ a.b.c | d('') }}", set(), {"a"}, set()),
        ("{{ x if x is defined else y }}", {"y"}, {"x"}, set()),
        ("{% set n = m + 1 %}{{ n }}{% for i in l %}{{ i }}{% endfor %}", {"m", "l"}, set(), set()),
        ("{{ lookup('template', 't.j2', template_vars={'_t': k}) | vextrus.deploy.x }}", {"lookup", "k"}, set(), {"_t"}),
        ("{% set _t = k %}{% include 't.j2' %}", {"k"}, set(), {"_t"}),
        ("{% set _t = k %}{{ _t }}", {"k"}, set(), set()),
    ],
)
def test_reads_of_a_template(source: str, plain: set[str], guarded: set[str], passed: set[str]) -> None:
    assert _reads(source) == (plain, guarded, passed)


@pytest.fixture(scope="module")
def index() -> _Index:
    built = _Index()
    for path in _yaml_files():
        built.add_yaml(path)
    for path in _templates():
        built.add_template(path)
    return built


def _is_magic(name: str) -> bool:
    return name in MAGIC or name.startswith("ansible_")


def test_the_check_sees_the_chain(index: _Index) -> None:
    # the index is not empty by accident: the chain's own variables are in it
    assert "deploy_service_name" in index.set_at and index.read_at.get("deploy_service_name")
    assert any(name.startswith("_image_build_") for name in index.facts_at)


def test_every_variable_read_is_set(index: _Index) -> None:
    unset = {
        name: sorted(set(where))[:3]
        for name, where in index.read_at.items()
        if where and name not in index.set_at and name not in index.optional and not _is_magic(name)
    }
    assert not unset, "read but never set (set it, give it a default, or remove the read):\n" + "\n".join(
        f"  {name}: {', '.join(where)}" for name, where in sorted(unset.items())
    )


def test_every_internal_fact_set_is_read(index: _Index) -> None:
    # internal facts (a leading _) are the roles' own: one that nothing reads is dead
    dead = {
        name: sorted(set(where))
        for name, where in index.facts_at.items()
        if name.startswith("_") and name not in index.read_at and not re.match(r"^_+$", name)
    }
    assert not dead, "internal facts set but never read (remove them):\n" + "\n".join(
        f"  {name}: {', '.join(where)}" for name, where in sorted(dead.items())
    )
