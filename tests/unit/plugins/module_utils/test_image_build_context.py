"""Workspace checks, .dockerignore semantics, staging and the content digest of image_build."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.image_build_context import (
    BuildInputError,
    NodeConstraint,
    builder_environment,
    check_lockfile,
    choose_node_base,
    content_digest,
    content_tag,
    context_files,
    highest_satisfying_major,
    inspect_workspace,
    is_ignored,
    lockfile_problems,
    node_script_command,
    node_version_file_range,
    normalize_node_bases,
    package_of,
    parse_dockerignore,
    pnpm_version,
    source_imports,
    stage,
)

ROOT = Path(__file__).resolve().parents[4]
EXAMPLE = ROOT / "examples" / "finance-service"
IGNORE = """
# comment
**/node_modules
**/dist
**/.test-build
.git
*.log
!keep.log
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the example workspace's manifests and sources (no node_modules, no build output)."""
    dest = tmp_path / "ws"
    shutil.copytree(
        EXAMPLE, dest, ignore=shutil.ignore_patterns("node_modules", "dist", ".test-build", "*.tsbuildinfo")
    )
    return dest


def edit_json(path: Path, change) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2) + "\n")


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("node_modules", True),
        ("node_modules/.pnpm/x/package.json", True),
        ("services/finance/node_modules/@nestjs/core", True),
        ("services/finance/dist/main.js", True),
        ("services/finance/src/main.ts", False),
        ("pnpm-lock.yaml", False),
        ("build.log", True),
        ("keep.log", False),
        (".git/HEAD", True),
        ("services/.gitkeep", False),
    ],
)
def test_dockerignore_semantics(path, ignored):
    assert is_ignored(path, parse_dockerignore(IGNORE)) is ignored


def test_single_star_does_not_cross_directories():
    patterns = parse_dockerignore("*.md\n/docs/*.txt\n")
    assert is_ignored("README.md", patterns)
    assert not is_ignored("services/README.md", patterns)
    assert is_ignored("docs/a.txt", patterns)
    assert not is_ignored("docs/sub/a.txt", patterns)


def test_example_workspace_is_read(workspace):
    ws = inspect_workspace(workspace)
    assert ws.pnpm_version == json.loads((EXAMPLE / "package.json").read_text())["packageManager"].split("@")[1]
    assert ws.packages["finance"] == "services/finance"
    assert ws.packages["@vextrus/money"] == "packages/money"
    service = ws.service("finance")
    manifest = json.loads((EXAMPLE / "services/finance/package.json").read_text())
    assert service["dependencies"] == sorted(manifest["dependencies"])
    assert "typescript" in service["dev_dependencies"]
    assert service["workspace_dependencies"] == ["@vextrus/money"]
    assert service["module_type"] == "commonjs"
    assert service["start_command"] == ["node", manifest["main"]]
    assert service["start_command_source"] == 'services/finance/package.json "main"'
    assert (service["engines_node"], service["engines_node_source"]) == (
        manifest["engines"]["node"],
        "services/finance/package.json",
    )
    assert lockfile_problems(ws) == []


def test_missing_workspace(tmp_path):
    with pytest.raises(BuildInputError, match=r"workspace not found: .*/nowhere does not exist.*set image_build_context"):
        inspect_workspace(tmp_path / "nowhere")


def test_directory_without_workspace_files(tmp_path):
    (tmp_path / "package.json").write_text("{}")
    with pytest.raises(BuildInputError, match="missing pnpm-workspace.yaml, pnpm-lock.yaml"):
        inspect_workspace(tmp_path)


def test_unknown_service_lists_the_packages(workspace):
    with pytest.raises(BuildInputError) as info:
        inspect_workspace(workspace).service("payments")
    message = str(info.value)
    assert "service 'payments' is not a package of the pnpm workspace" in message
    assert "@vextrus/money, finance" in message
    assert "Set image_build_service" in message


def test_changed_range_is_out_of_date(workspace):
    edit_json(workspace / "services/finance/package.json", lambda d: d["dependencies"].update({"rxjs": "^7.9.0"}))
    ws = inspect_workspace(workspace)
    assert lockfile_problems(ws) == [
        "services/finance: dependencies rxjs is '^7.9.0' in package.json but '7.8.2' in pnpm-lock.yaml"
    ]
    with pytest.raises(BuildInputError, match=r"out of date with package.json: .*Run `pnpm install` in"):
        check_lockfile(ws)


def test_added_and_removed_dependencies(workspace):
    def change(data):
        data["dependencies"]["left-pad"] = "1.3.0"
        del data["devDependencies"]["typescript"]

    edit_json(workspace / "services/finance/package.json", change)
    problems = lockfile_problems(inspect_workspace(workspace))
    assert "services/finance: dependencies left-pad is '1.3.0' in package.json but missing in pnpm-lock.yaml" in problems
    assert "services/finance: devDependencies typescript is in pnpm-lock.yaml ('5.9.3') but not in package.json" in problems


def test_new_package_without_importer(workspace):
    new = workspace / "packages" / "audit"
    new.mkdir()
    (new / "package.json").write_text(json.dumps({"name": "@vextrus/audit", "dependencies": {"rxjs": "7.8.2"}}))
    problems = lockfile_problems(inspect_workspace(workspace))
    assert problems == ["packages/audit: package.json declares dependencies but pnpm-lock.yaml has no importer for it"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("pnpm@10.34.8", "10.34.8"),
        (
            "pnpm@9.15.0+sha512.76e2379760a4328ec4415815bcd6628dee727af3779aaa4c914e3944156c4299921a89f97638"
            "1ee107d41f12cfa4b66681ca9c718f0668fa0831ed4c6d8ba56c",
            "9.15.0",
        ),
    ],
)
def test_package_manager_pin(value, expected):
    assert pnpm_version({"packageManager": value}, Path("package.json")) == expected


@pytest.mark.parametrize("value", [None, "npm@10.0.0", "pnpm@latest", "pnpm"])
def test_package_manager_must_pin_pnpm(value):
    with pytest.raises(BuildInputError, match="must pin pnpm in \"packageManager\""):
        pnpm_version({"packageManager": value} if value else {}, Path("package.json"))


def test_staging_is_idempotent_and_the_digest_ignores_mtimes(workspace, tmp_path):
    (workspace / "node_modules" / ".pnpm").mkdir(parents=True)
    (workspace / "node_modules" / ".pnpm" / "junk.js").write_text("junk")
    (workspace / "services" / "finance" / "dist").mkdir(exist_ok=True)
    (workspace / "services" / "finance" / "dist" / "main.js").write_text("built")
    patterns = parse_dockerignore(IGNORE)
    extra = {".image_build.Dockerfile": "FROM scratch\n"}
    plan = context_files(workspace, patterns)
    assert "pnpm-lock.yaml" in plan.files and "services/finance/src/main.ts" in plan.files
    assert not any("node_modules" in rel or "/dist/" in rel for rel in plan.files)
    dest = tmp_path / "stage"
    first = stage(workspace, dest, plan, extra)
    assert first["updated"] == len(plan.files) + 1 and first["removed"] == 0
    digest = content_digest(plan, "FROM scratch\n", IGNORE, {"base": "sha256:1"})
    # nothing changed: nothing written, same digest, even after the sources' mtimes moved
    os.utime(workspace / "services/finance/src/main.ts", (1, 1))
    plan2 = context_files(workspace, patterns)
    assert stage(workspace, dest, plan2, extra) == {"files": first["files"], "updated": 0, "removed": 0}
    assert content_digest(plan2, "FROM scratch\n", IGNORE, {"base": "sha256:1"}) == digest
    # a source change, a removed file and a stray file in the stage
    (workspace / "services/finance/src/main.ts").write_text("// changed\n")
    (workspace / "README.md").unlink()
    (dest / "stray.txt").write_text("x")
    plan3 = context_files(workspace, patterns)
    counts = stage(workspace, dest, plan3, extra)
    assert counts["updated"] == 1 and counts["removed"] == 2
    assert not (dest / "README.md").exists() and not (dest / "stray.txt").exists()
    assert (dest / "services/finance/src/main.ts").read_text() == "// changed\n"
    assert content_digest(plan3, "FROM scratch\n", IGNORE, {"base": "sha256:1"}) != digest


def test_every_build_input_moves_the_digest(workspace):
    plan = context_files(workspace, parse_dockerignore(IGNORE))
    base = content_digest(plan, "FROM a\n", IGNORE, {"base": "sha256:1"})
    assert content_digest(plan, "FROM b\n", IGNORE, {"base": "sha256:1"}) != base
    assert content_digest(plan, "FROM a\n", IGNORE + "x\n", {"base": "sha256:1"}) != base
    assert content_digest(plan, "FROM a\n", IGNORE, {"base": "sha256:2"}) != base
    assert content_tag(base) == "src-" + base[:16]


def test_check_mode_writes_nothing(workspace, tmp_path):
    plan = context_files(workspace, parse_dockerignore(IGNORE))
    counts = stage(workspace, tmp_path / "stage", plan, {}, check_mode=True)
    assert counts["updated"] == len(plan.files)
    assert not (tmp_path / "stage").exists()


# --------------------------------------------------------------------------- Node versions

MAJORS = (18, 20, 22, 24)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (">=22", 24),
        (">= 22", 24),
        ("^20.11", 20),
        ("^20.11.0", 20),
        ("~20.11", 20),
        ("~>20.3", 20),
        ("20.x", 20),
        ("20.*", 20),
        ("20", 20),
        ("v22", 22),
        ("=22.11.0", 22),
        ("22.11.0", 22),
        (">=18 <23", 22),
        (">=18 <22", 20),
        ("<=22", 22),
        ("<22", 20),
        ("<22.0.0-0", 20),
        (">22", 24),
        (">20.99 <22", 20),
        ("20 || 22", 22),
        (">=20.11.0 <21 || >=22.1", 24),
        ("18 - 22", 22),
        ("18 - 21.5", 20),
        ("*", 24),
        ("", 24),
        ("x", 24),
        (">=26", None),
        ("<18", None),
        (">21 <22", None),
        (">=20.0.0-rc.1 <20.0.0", None),
    ],
)
def test_highest_major_some_version_of_which_satisfies_the_range(text, expected):
    assert highest_satisfying_major(text, MAJORS) == expected


@pytest.mark.parametrize("text", ["twenty", ">=x.y", "^^20", "20.1.2.3", ">= >=20", "20.x.1a"])
def test_not_a_range(text):
    with pytest.raises(BuildInputError, match=r"^package.json: engines.node: .* is not an npm semver range"):
        highest_satisfying_major(text, MAJORS, "package.json: engines.node")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("20\n", "20"),
        ("v22.11.0", "v22.11.0"),
        ("# pinned\n\n24 # the LTS\n", "24"),
        ("lts/iron", "20"),
        ("lts/Krypton", "24"),
        ("lts/*", "*"),
        ("node", "*"),
        ("", "*"),
    ],
)
def test_node_version_files(text, expected):
    assert node_version_file_range(text) == expected


def test_unknown_lts_name():
    with pytest.raises(BuildInputError, match=r"^apps/api/.nvmrc: 'lts/zebra' is not a Node LTS line"):
        node_version_file_range("lts/zebra", "apps/api/.nvmrc")


BASES = {20: {"runtime": "rt:20", "builder": "bd:20"}, "24": {"runtime": "rt:24", "builder": "bd:24"}}


@pytest.mark.parametrize(
    ("constraints", "major"),
    [
        ([], 24),
        ([NodeConstraint(">=20.11", "package.json", "engines.node")], 24),
        ([NodeConstraint(">=20.11", "package.json", "engines.node"), NodeConstraint("20", ".nvmrc", "the Node version")], 20),
        ([NodeConstraint("^20 || ^24", "apps/api/package.json", "engines.node")], 24),
    ],
)
def test_choose_node_base(constraints, major):
    chosen = choose_node_base(constraints, BASES)
    assert (chosen["major"], chosen["runtime"], chosen["builder"]) == (major, f"rt:{major}", f"bd:{major}")
    for constraint in constraints:
        assert constraint.describe() in chosen["reason"]


def test_no_base_satisfies():
    with pytest.raises(BuildInputError) as info:
        choose_node_base([NodeConstraint(">=22 <24", "apps/api/package.json", "engines.node")], BASES)
    assert str(info.value) == (
        "no configured Node base satisfies engines.node '>=22 <24' (apps/api/package.json): expected a major of "
        "image_build_node_bases some version of which the range allows, found Node 20, 24. Add a base for a "
        "fitting major to image_build_node_bases, set image_build_base_image and image_build_builder_image, "
        "or change the range."
    )


@pytest.mark.parametrize(
    ("bases", "message"),
    [
        ({}, "image_build_node_bases is empty"),
        ({"lts": {"runtime": "a", "builder": "b"}}, "image_build_node_bases: 'lts' is not a Node major version"),
        ({22: {"runtime": "node:22"}}, "image_build_node_bases: Node 22 must name a runtime and a builder image"),
        ({22: "node:22"}, r"found 'node:22' \(missing runtime and builder\)"),
        (["node:22"], "image_build_node_bases must map Node majors"),
    ],
)
def test_bad_node_bases(bases, message):
    with pytest.raises(BuildInputError, match=message):
        choose_node_base([], bases)


def test_node_bases_keys_may_be_strings_or_numbers():
    assert normalize_node_bases({"20": {"runtime": " a ", "builder": "b"}}) == {20: {"runtime": "a", "builder": "b"}}


# --------------------------------------------------------------------------- start command and imports


@pytest.mark.parametrize(
    ("script", "command"),
    [
        ("node dist/main.js", ["node", "dist/main.js"]),
        ("node --enable-source-maps dist/main", ["node", "--enable-source-maps", "dist/main"]),
        ("node --import ./otel.mjs build/server.js", ["node", "--import", "./otel.mjs", "build/server.js"]),
        ("node 'dist/my main.js'", ["node", "dist/my main.js"]),
        ("nest start", None),
        ("node", None),
        ("node --inspect", None),
        ("node dist/main.js > log.txt", None),
        ("node $ENTRY", None),
        ("node /opt/app/main.js", None),
        ("node 'unterminated", None),
        (None, None),
    ],
)
def test_node_script_command(script, command):
    assert node_script_command(script) == command


@pytest.mark.parametrize(
    ("specifier", "package"),
    [
        ("lodash", "lodash"),
        ("lodash/fp", "lodash"),
        ("@nestjs/core", "@nestjs/core"),
        ("@nestjs/core/injector", "@nestjs/core"),
        ("./app.module", None),
        ("../x", None),
        ("/abs", None),
        ("#internal", None),
        ("node:fs", None),
        ("fs", None),
        ("fs/promises", None),
        ("worker_threads", None),
        ("virtual:x", None),
    ],
)
def test_package_of(specifier, package):
    assert package_of(specifier) == package


def test_source_imports():
    source = """
import Default, { named } from 'a';
import * as ns from "b";
import type { T } from 'c';
import { type U, type V } from 'd';
import { type W, value } from 'e';
import 'f';
export { g } from 'g';
export * from 'h';
export type { I } from 'i';
const j = require('j');
const k = await import('k');
import {
  multi,
  line,
} from 'l';
// import x from 'm';
/* require('n') */
const url = 'http://example.test/o'; // import('p')
obj.require('q');
import x = require('r');
"""
    assert [found[0] for found in source_imports(source)] == ["a", "b", "e", "f", "g", "h", "j", "k", "l", "r"]
    assert dict(source_imports(source))["l"] == 13


# --------------------------------------------------------------------------- builder environment


def test_builder_environment():
    assert builder_environment({"DO_NOT_TRACK": 1, "NEXT_TELEMETRY_DISABLED": True, "A_B": "x y"}) == {
        "DO_NOT_TRACK": "1",
        "NEXT_TELEMETRY_DISABLED": "true",
        "A_B": "x y",
    }
    assert not builder_environment(None)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"1ABC": "x"}, r"image_build_builder_env: '1ABC' is not an environment variable name"),
        ({"A-B": "x"}, r"'A-B' is not an environment variable name"),
        ({"A B": "x"}, r"'A B' is not an environment variable name"),
        ({"A": None}, r"image_build_builder_env: A must be a string, number or boolean, found NoneType"),
        ({"A": {"b": 1}}, r"A must be a string, number or boolean, found dict"),
        ({"A": "one\ntwo"}, r"the value of A spans several lines"),
    ],
)
def test_bad_builder_environment(values, message):
    with pytest.raises(BuildInputError, match=message):
        builder_environment(values)
