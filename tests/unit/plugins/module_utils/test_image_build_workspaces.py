"""image_build_context against small pnpm workspaces written by the tests: every shape that must
fail before `docker build` fails with a message naming the file, the setting and the fix, and the
shapes seen in the wild (pnpm 8/9/10/12, catalogs, services by name or path, apps/ packages/
services/) pass."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ansible_collections.vextrus.deploy.plugins.module_utils.image_build_context import (
    BuildInputError,
    check_catalogs,
    check_deploy,
    check_dev_only_imports,
    check_lockfile,
    check_lockfile_version,
    choose_node_base,
    dependency_builds,
    inspect_workspace,
    install_files,
    lockfile_problems,
)

BASES = {
    20: {"runtime": "rt:20", "builder": "bd:20"},
    22: {"runtime": "rt:22", "builder": "bd:22"},
    24: {"runtime": "rt:24", "builder": "bd:24"},
}

DEPENDENCY_TYPES = ("dependencies", "devDependencies", "optionalDependencies")


def default_packages() -> dict[str, dict[str, Any]]:
    """A service in apps/api that uses a workspace package and one registry package."""
    return {
        "apps/api": {
            "name": "api",
            "version": "1.2.3",
            "main": "dist/main.js",
            "dependencies": {"@acme/lib": "workspace:*", "ms": "2.1.3"},
            "devDependencies": {"typescript": "5.9.3"},
        },
        "packages/lib": {"name": "@acme/lib", "version": "1.0.0", "main": "index.js"},
    }


def _catalog_entries(settings: dict[str, Any], spec: str) -> tuple[str, dict[str, Any]]:
    """The catalog a ``catalog:`` specifier names and that catalog's entries."""
    name = spec[len("catalog:"):].strip() or "default"
    named = settings.get("catalogs") or {}
    entries = settings.get("catalog") if name == "default" and "catalog" in settings else named.get(name)
    return name, entries or {}


def lockfile_for(
    packages: dict[str, dict[str, Any]], settings: dict[str, Any], version: str = "9.0"
) -> dict[str, Any]:
    """The lockfile pnpm would write for these manifests and settings (only the parts checked)."""
    importers: dict[str, Any] = {".": {}}
    catalogs: dict[str, dict[str, Any]] = {}
    for directory, manifest in packages.items():
        importer: dict[str, Any] = {}
        for kind in DEPENDENCY_TYPES:
            entries = {}
            for name, spec in (manifest.get(kind) or {}).items():
                entries[name] = {"specifier": spec, "version": "1.0.0"}
                if spec.startswith("catalog:"):
                    catalog, known = _catalog_entries(settings, spec)
                    wanted = known.get(name)
                    if wanted is not None:
                        catalogs.setdefault(catalog, {})[name] = {"specifier": wanted, "version": "1.0.0"}
            if entries:
                importer[kind] = entries
        importers[directory] = importer
    locked_settings: dict[str, Any] = {"autoInstallPeers": True, "excludeLinksFromLockfile": False}
    if settings.get("injectWorkspacePackages") is True:
        locked_settings["injectWorkspacePackages"] = True
    lockfile: dict[str, Any] = {"lockfileVersion": version, "settings": locked_settings}
    if catalogs:
        lockfile["catalogs"] = catalogs
    lockfile["importers"] = importers
    return lockfile


def write_workspace(
    root: Path,
    *,
    pnpm: str = "10.34.8",
    packages: dict[str, dict[str, Any]] | None = None,
    settings: dict[str, Any] | None = None,
    root_manifest: dict[str, Any] | None = None,
    lockfile_version: str | None = None,
    lockfile: dict[str, Any] | None = None,
    files: dict[str, str] | None = None,
) -> Path:
    """Writes a workspace at root: package.json (pinning pnpm), pnpm-workspace.yaml (globs apps/**,
    packages/*, services/* and injectWorkspacePackages: true unless settings say otherwise), the
    packages, a lockfile consistent with them (or ``lockfile``), and extra ``files``."""
    packages = default_packages() if packages is None else packages
    settings = {"packages": ["apps/**", "packages/*", "services/*"], "injectWorkspacePackages": True, **(settings or {})}
    settings = {key: value for key, value in settings.items() if value is not None}
    manifest = {"name": "ws", "private": True, "packageManager": f"pnpm@{pnpm}", **(root_manifest or {})}
    manifest = {key: value for key, value in manifest.items() if value is not None}
    root.mkdir(parents=True, exist_ok=True)
    (root / "package.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (root / "pnpm-workspace.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    for directory, package in packages.items():
        (root / directory).mkdir(parents=True, exist_ok=True)
        (root / directory / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    if lockfile is None:
        major = int(pnpm.split(".")[0])
        lockfile = lockfile_for(packages, settings, lockfile_version or ("6.0" if major == 8 else "9.0"))
    (root / "pnpm-lock.yaml").write_text(yaml.safe_dump(lockfile, sort_keys=False))
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def run_checks(root: Path, service: str = "api", bases: dict[Any, Any] | None = None) -> dict[str, Any]:
    """What the module does before anything is built, in its order; the service facts."""
    workspace = inspect_workspace(root)
    facts = workspace.service(service)
    check_lockfile_version(workspace)
    check_catalogs(workspace)
    check_deploy(workspace)
    check_lockfile(workspace)
    dependency_builds(workspace)
    install_files(workspace)
    check_dev_only_imports(workspace, facts["name"])
    if bases:
        facts["node_base"] = choose_node_base(workspace.node_constraints(facts["dir"]), bases, root=workspace.root)
    return facts


def failure(root: Path, service: str = "api", bases: dict[Any, Any] | None = None) -> str:
    with pytest.raises(BuildInputError) as info:
        run_checks(root, service, bases)
    return str(info.value)


def test_a_consistent_workspace_passes(tmp_path):
    facts = run_checks(write_workspace(tmp_path), bases=BASES)
    assert facts["name"] == "api" and facts["dir"] == "apps/api"
    assert facts["workspace_dependencies"] == ["@acme/lib"]
    assert facts["node_base"]["major"] == 24


# --------------------------------------------------------------------------- pnpm and lockfileVersion


@pytest.mark.parametrize(
    ("pnpm", "lockfile_version", "expected"),
    [
        ("8.15.9", "6.0", None),
        ("9.15.9", "9.0", None),
        ("10.34.8", "9.0", None),
        ("11.28.11", "9.0", None),
        ("12.23.0", "9.0", None),
        ("8.15.9", "9.0", "lockfileVersion '9.0' (written by pnpm 9 or later), but package.json pins pnpm 8.15.9"),
        ("9.15.9", "6.0", "lockfileVersion '6.0' (written by pnpm 8), but package.json pins pnpm 9.15.9"),
        ("10.34.8", "6.0", "lockfileVersion '6.0' (written by pnpm 8), but package.json pins pnpm 10.34.8"),
        ("10.34.8", "5.4", "lockfileVersion '5.4' (written by pnpm 7)"),
    ],
)
def test_package_manager_and_lockfile_version_agree(tmp_path, pnpm, lockfile_version, expected):
    root = write_workspace(tmp_path, pnpm=pnpm, lockfile_version=lockfile_version)
    if expected is None:
        check_lockfile_version(inspect_workspace(root))
        return
    message = failure(root)
    assert expected in message
    assert "\"packageManager\"" in message and "pnpm-lock.yaml" in message
    assert f"Run `pnpm install` with pnpm {pnpm}" in message
    assert "or set \"packageManager\" to the pnpm that wrote the lockfile" in message


def test_an_unquoted_lockfile_version_is_read_as_written(tmp_path):
    root = write_workspace(tmp_path, pnpm="8.15.9")
    (root / "pnpm-lock.yaml").write_text((root / "pnpm-lock.yaml").read_text().replace("'6.0'", "6.0"))
    assert yaml.safe_load((root / "pnpm-lock.yaml").read_text())["lockfileVersion"] == 6.0
    assert check_lockfile_version(inspect_workspace(root)) == "6.0"


def test_pnpm_older_than_8_is_refused(tmp_path):
    message = failure(write_workspace(tmp_path, pnpm="7.33.7", lockfile_version="5.4"))
    assert "pins pnpm 7.33.7 in \"packageManager\"; expected pnpm 8 or later" in message
    assert "corepack use pnpm@10" in message


def test_missing_package_manager(tmp_path):
    message = failure(write_workspace(tmp_path, root_manifest={"packageManager": None}))
    assert "package.json must pin pnpm in \"packageManager\"" in message
    assert "found no packageManager field" in message


# --------------------------------------------------------------------------- pnpm deploy


@pytest.mark.parametrize(
    ("pnpm", "settings", "npmrc", "refused"),
    [
        ("10.34.8", {"injectWorkspacePackages": None}, None, True),
        ("10.34.8", {"injectWorkspacePackages": False}, None, True),
        ("11.28.11", {"injectWorkspacePackages": None}, None, True),
        ("10.34.8", {"injectWorkspacePackages": True}, None, False),
        ("10.34.8", {"injectWorkspacePackages": None}, "inject-workspace-packages=true\n", False),
        ("10.34.8", {"injectWorkspacePackages": None, "forceLegacyDeploy": True}, None, False),
        ("11.28.11", {"injectWorkspacePackages": None}, "inject-workspace-packages=true\n", True),
        ("9.15.9", {"injectWorkspacePackages": None}, None, False),
        ("8.15.9", {"injectWorkspacePackages": None}, None, False),
        ("12.23.0", {"injectWorkspacePackages": None}, None, False),
    ],
)
def test_pnpm_deploy_needs_injected_workspace_packages_on_10_and_11(tmp_path, pnpm, settings, npmrc, refused):
    root = write_workspace(tmp_path, pnpm=pnpm, settings=settings, files={".npmrc": npmrc} if npmrc else None)
    if not refused:
        check_deploy(inspect_workspace(root))
        return
    message = failure(root)
    assert message.startswith(f"{root / 'pnpm-workspace.yaml'}: pnpm {pnpm} (\"packageManager\")")
    assert "ERR_PNPM_DEPLOY_NONINJECTED_WORKSPACE" in message
    assert "expected `injectWorkspacePackages: true`" in message
    assert "Add the line `injectWorkspacePackages: true` to pnpm-workspace.yaml, then run `pnpm install`" in message


def test_deploy_is_refused_also_without_workspace_dependencies(tmp_path):
    packages = {"apps/api": {"name": "api", "dependencies": {"ms": "2.1.3"}}}
    message = failure(write_workspace(tmp_path, packages=packages, settings={"injectWorkspacePackages": None}))
    assert "ERR_PNPM_DEPLOY_NONINJECTED_WORKSPACE" in message


def test_injected_setting_added_without_reinstalling_is_an_out_of_date_lockfile(tmp_path):
    root = write_workspace(tmp_path, settings={"injectWorkspacePackages": None})
    settings = yaml.safe_load((root / "pnpm-workspace.yaml").read_text())
    settings["injectWorkspacePackages"] = True
    (root / "pnpm-workspace.yaml").write_text(yaml.safe_dump(settings))
    message = failure(root)
    assert "settings.injectWorkspacePackages is true in pnpm-workspace.yaml but false in pnpm-lock.yaml" in message
    assert "Run `pnpm install` in" in message


# --------------------------------------------------------------------------- catalogs

CATALOG_SETTINGS = {"catalog": {"ms": "^2.1.3"}, "catalogs": {"legacy": {"is-number": "7.0.0"}}}


def catalog_packages(ms: str = "catalog:", is_number: str = "catalog:legacy") -> dict[str, dict[str, Any]]:
    packages = default_packages()
    packages["apps/api"]["dependencies"].update({"ms": ms, "is-number": is_number})
    return packages


@pytest.mark.parametrize("ms", ["catalog:", "catalog:default"])
def test_catalog_specifiers_resolve(tmp_path, ms):
    root = write_workspace(tmp_path, packages=catalog_packages(ms), settings=CATALOG_SETTINGS)
    run_checks(root)
    assert lockfile_problems(inspect_workspace(root)) == []


def test_catalogs_default_is_the_default_catalog(tmp_path):
    settings = {"catalogs": {"default": {"ms": "^2.1.3"}, "legacy": {"is-number": "7.0.0"}}}
    run_checks(write_workspace(tmp_path, packages=catalog_packages(), settings=settings))


@pytest.mark.parametrize(
    ("packages", "expected"),
    [
        (catalog_packages(is_number="catalog:"), "dependencies is-number is 'catalog:', but pnpm-workspace.yaml has no entry for is-number in \"catalog\""),
        (catalog_packages(ms="catalog:legacy"), "dependencies ms is 'catalog:legacy', but pnpm-workspace.yaml has no entry for ms in \"catalogs.legacy\""),
        (catalog_packages(ms="catalog:next"), "dependencies ms is 'catalog:next', but pnpm-workspace.yaml has no entry for ms in \"catalogs.next\""),
    ],
)
def test_catalog_dependency_without_entry(tmp_path, packages, expected):
    message = failure(write_workspace(tmp_path, packages=packages, settings=CATALOG_SETTINGS))
    assert message.startswith(f"{tmp_path / 'apps/api/package.json'}: {expected}")
    assert "(catalogs there: default, legacy)" in message
    assert "then run `pnpm install`" in message


def test_changed_catalog_entry_is_an_out_of_date_lockfile(tmp_path):
    root = write_workspace(tmp_path, packages=catalog_packages(), settings=CATALOG_SETTINGS)
    settings = yaml.safe_load((root / "pnpm-workspace.yaml").read_text())
    settings["catalog"]["ms"] = "^2.1.0"
    settings["catalog"]["left-pad"] = "1.3.0"  # an entry nothing uses is not in the lockfile, and that is fine
    (root / "pnpm-workspace.yaml").write_text(yaml.safe_dump(settings))
    assert lockfile_problems(inspect_workspace(root)) == [
        "catalog: ms is '^2.1.0' in pnpm-workspace.yaml but '^2.1.3' in pnpm-lock.yaml"
    ]
    assert "out of date with package.json: catalog: ms is" in failure(root)


def test_catalog_specifier_against_a_lockfile_without_it(tmp_path):
    root = write_workspace(tmp_path, settings=CATALOG_SETTINGS)
    edit = json.loads((root / "apps/api/package.json").read_text())
    edit["dependencies"]["ms"] = "catalog:"
    (root / "apps/api/package.json").write_text(json.dumps(edit))
    problems = lockfile_problems(inspect_workspace(root))
    assert "apps/api: dependencies ms is 'catalog:' in package.json but '2.1.3' in pnpm-lock.yaml" in problems
    assert "catalog: ms is '^2.1.3' in pnpm-workspace.yaml but missing in the catalogs of pnpm-lock.yaml" in problems


def test_catalogs_need_pnpm_9_5(tmp_path):
    message = failure(write_workspace(tmp_path, pnpm="9.4.0", packages=catalog_packages(), settings=CATALOG_SETTINGS))
    assert "uses a catalog (\"catalog:\"), which needs pnpm 9.5 or later, but package.json pins pnpm 9.4.0" in message


def test_default_catalog_given_twice(tmp_path):
    settings = {"catalog": {"ms": "^2.1.3"}, "catalogs": {"default": {"ms": "^2.1.3"}}}
    message = failure(write_workspace(tmp_path, packages=catalog_packages(is_number="7.0.0"), settings=settings))
    assert "defines the default catalog twice, as \"catalog\" and as \"catalogs.default\"" in message


# --------------------------------------------------------------------------- services by name or path


@pytest.mark.parametrize(
    ("directory", "requested", "selected_by"),
    [
        ("apps/api", "api", "name"),
        ("apps/api", "apps/api", "path"),
        ("apps/api", "./apps/api", "path"),
        ("apps/api", "apps/api/", "path"),
        ("apps/backend/api", "apps/backend/api", "path"),  # apps/** spans directories
        ("packages/api", "./packages/api", "path"),
        ("services/api", "services/api", "path"),
    ],
)
def test_services_by_name_or_path(tmp_path, directory, requested, selected_by):
    packages = default_packages()
    packages[directory] = packages.pop("apps/api")
    facts = run_checks(write_workspace(tmp_path, packages=packages), requested)
    assert (facts["name"], facts["dir"], facts["selected_by"]) == ("api", directory, selected_by)


def test_node_modules_and_negated_globs_are_not_packages(tmp_path):
    packages = default_packages()
    packages["apps/api/node_modules/fake"] = {"name": "fake"}
    packages["apps/examples/demo"] = {"name": "demo"}
    settings = {"packages": ["apps/**", "packages/*", "!apps/examples/**"]}
    root = write_workspace(tmp_path, packages=packages, settings=settings,
                           lockfile=lockfile_for(default_packages(), {"injectWorkspacePackages": True}))
    assert inspect_workspace(root).packages == {"ws": ".", "api": "apps/api", "@acme/lib": "packages/lib"}


@pytest.mark.parametrize("requested", ["payments", "apps/payments", "../apps/api", "/apps/api"])
def test_service_not_in_the_workspace(tmp_path, requested):
    message = failure(write_workspace(tmp_path), requested)
    assert f"service {requested!r} is not a package of the pnpm workspace {tmp_path}" in message
    assert "found the packages @acme/lib, api, ws (in packages/lib, apps/api, .)" in message
    assert "Set image_build_service to one of them" in message


# --------------------------------------------------------------------------- facts of the service


@pytest.mark.parametrize(
    ("manifest", "module_type", "command", "source"),
    [
        ({"type": "module", "main": "build/server.js"}, "esm", ["node", "build/server.js"], 'apps/api/package.json "main"'),
        ({"type": "commonjs", "scripts": {"start": "node dist/main"}}, "commonjs", ["node", "dist/main"], "apps/api/package.json scripts.start"),
        ({"scripts": {"start": "nest start", "start:prod": "node --enable-source-maps dist/main.js"}}, "commonjs",
         ["node", "--enable-source-maps", "dist/main.js"], "apps/api/package.json scripts.start:prod"),
        ({"scripts": {"start": "node -r ./tracing.js lib/index.js --port 3000"}}, "commonjs",
         ["node", "-r", "./tracing.js", "lib/index.js", "--port", "3000"], "apps/api/package.json scripts.start"),
        ({"scripts": {"start": "NODE_ENV=production node dist/main.js"}}, "commonjs", ["node", "dist/main.js"], "default"),
        ({"scripts": {"start": "node dist/main.js && echo done"}}, "commonjs", ["node", "dist/main.js"], "default"),
        ({"scripts": {"start": "node ../../dist/main.js"}}, "commonjs", ["node", "dist/main.js"], "default"),
        ({}, "commonjs", ["node", "dist/main.js"], "default"),
    ],
)
def test_module_type_and_start_command(tmp_path, manifest, module_type, command, source):
    packages = default_packages()
    base = {key: value for key, value in packages["apps/api"].items() if key != "main"}
    packages["apps/api"] = {**base, **manifest}
    facts = run_checks(write_workspace(tmp_path, packages=packages))
    assert facts["module_type"] == module_type
    assert (facts["start_command"], facts["start_command_source"]) == (command, source)


@pytest.mark.parametrize(
    ("service_engines", "root_engines", "files", "expected"),
    [
        (">=22", ">=18", {}, (">=22", "apps/api/package.json", "", "")),
        (None, ">=18", {}, (">=18", "package.json", "", "")),
        (None, None, {".nvmrc": "v22.11.0\n"}, ("", "", "v22.11.0", ".nvmrc")),
        (None, None, {".nvmrc": "20\n", "apps/api/.node-version": "24\n"}, ("", "", "24", "apps/api/.node-version")),
        (None, None, {".node-version": "lts/jod\n"}, ("", "", "22", ".node-version")),
        (None, None, {}, ("", "", "", "")),
    ],
)
def test_node_version_declarations(tmp_path, service_engines, root_engines, files, expected):
    packages = default_packages()
    if service_engines:
        packages["apps/api"]["engines"] = {"node": service_engines}
    root = write_workspace(tmp_path, packages=packages,
                           root_manifest={"engines": {"node": root_engines}} if root_engines else None, files=files)
    facts = run_checks(root)
    got = (facts["engines_node"], facts["engines_node_source"], facts["node_version_file"], facts["node_version_file_source"])
    assert got == expected


@pytest.mark.parametrize(
    ("engines", "nvmrc", "major"),
    [
        (">=20.11", None, 24),
        ("^20.11", None, 20),
        (">=18 <23", None, 22),
        (">=20", "22", 22),
        (None, "lts/iron", 20),
        (None, "node", 24),
        (None, None, 24),
    ],
)
def test_node_base_from_the_workspace(tmp_path, engines, nvmrc, major):
    packages = default_packages()
    if engines:
        packages["apps/api"]["engines"] = {"node": engines}
    root = write_workspace(tmp_path, packages=packages, files={".nvmrc": nvmrc} if nvmrc else None)
    base = run_checks(root, bases=BASES)["node_base"]
    assert (base["major"], base["runtime"], base["builder"]) == (major, f"rt:{major}", f"bd:{major}")


def test_engines_no_base_satisfies(tmp_path):
    packages = default_packages()
    packages["apps/api"]["engines"] = {"node": ">=26"}
    message = failure(write_workspace(tmp_path, packages=packages), bases=BASES)
    assert message.startswith(
        f"no configured Node base satisfies engines.node '>=26' ({tmp_path / 'apps/api/package.json'}): expected "
        "a major of image_build_node_bases some version of which the range allows, found Node 20, 22, 24."
    )
    assert "set image_build_base_image and image_build_builder_image, or change the range" in message


def test_engines_and_version_file_that_exclude_each_other(tmp_path):
    packages = default_packages()
    packages["apps/api"]["engines"] = {"node": ">=22"}
    message = failure(write_workspace(tmp_path, packages=packages, files={".nvmrc": "20\n"}), bases=BASES)
    assert f"satisfies engines.node '>=22' ({tmp_path / 'apps/api/package.json'}) and the Node version '20' ({tmp_path / '.nvmrc'})" in message


def test_engines_that_are_not_a_range(tmp_path):
    packages = default_packages()
    packages["apps/api"]["engines"] = {"node": "twenty"}
    message = failure(write_workspace(tmp_path, packages=packages), bases=BASES)
    assert message.startswith(f"{tmp_path / 'apps/api/package.json'}: engines.node: 'twenty' is not an npm semver range")


# --------------------------------------------------------------------------- dependency build scripts


@pytest.mark.parametrize(
    ("pnpm", "settings", "root_field", "expected"),
    [
        ("10.34.8", {"onlyBuiltDependencies": ["esbuild"]}, None,
         {"source": "pnpm-workspace.yaml", "only_built": ["esbuild"], "never_built": [], "allow_builds": {}}),
        ("9.15.9", {}, {"neverBuiltDependencies": ["@nestjs/core"]},
         {"source": 'package.json "pnpm" field', "only_built": None, "never_built": ["@nestjs/core"], "allow_builds": {}}),
        ("12.23.0", {"allowBuilds": {"esbuild": True, "core-js": False}}, None,
         {"source": "pnpm-workspace.yaml", "only_built": None, "never_built": [], "allow_builds": {"esbuild": True, "core-js": False}}),
        ("12.23.0", {"onlyBuiltDependencies": []}, None,
         {"source": "pnpm-workspace.yaml", "only_built": [], "never_built": [], "allow_builds": {}}),
        ("10.34.8", {}, None, {"source": "", "only_built": None, "never_built": [], "allow_builds": {}}),
    ],
)
def test_dependency_builds(tmp_path, pnpm, settings, root_field, expected):
    settings = {**settings, "injectWorkspacePackages": None if pnpm.startswith(("9.", "12.")) else True}
    root = write_workspace(tmp_path, pnpm=pnpm, settings=settings, root_manifest={"pnpm": root_field} if root_field else None)
    run_checks(root)
    assert dependency_builds(inspect_workspace(root)) == expected


@pytest.mark.parametrize(
    ("settings", "root_field", "expected"),
    [
        ({"onlyBuiltDependencies": ["esbuild"]}, None,
         "pnpm-workspace.yaml: onlyBuiltDependencies (pnpm-workspace.yaml) is not read by pnpm 12.23.0"),
        ({"neverBuiltDependencies": ["core-js"]}, None,
         "pnpm-workspace.yaml: neverBuiltDependencies (pnpm-workspace.yaml) is not read by pnpm 12.23.0"),
        ({}, {"onlyBuiltDependencies": ["esbuild"]},
         "package.json: onlyBuiltDependencies (package.json \"pnpm\" field) is not read by pnpm 12.23.0"),
        ({"allowBuilds": ["esbuild"]}, None, "pnpm-workspace.yaml: allowBuilds must map package names to true or false"),
    ],
)
def test_build_settings_pnpm_12_would_not_honour(tmp_path, settings, root_field, expected):
    root = write_workspace(tmp_path, pnpm="12.23.0", settings={**settings, "injectWorkspacePackages": None},
                           root_manifest={"pnpm": root_field} if root_field else None)
    message = failure(root)
    assert message.startswith(f"{tmp_path}/{expected}")
    if "allowBuilds must" not in expected:
        assert "Replace it with `allowBuilds:`" in message


def test_build_settings_outside_the_root_have_no_effect(tmp_path):
    packages = default_packages()
    packages["apps/api"]["pnpm"] = {"onlyBuiltDependencies": ["esbuild"]}
    message = failure(write_workspace(tmp_path, packages=packages))
    assert message.startswith(f"{tmp_path / 'apps/api/package.json'}: \"pnpm\".onlyBuiltDependencies has no effect outside the workspace root")
    assert "Move it to pnpm-workspace.yaml" in message


def test_build_settings_of_the_wrong_type(tmp_path):
    message = failure(write_workspace(tmp_path, settings={"onlyBuiltDependencies": "esbuild"}))
    assert "onlyBuiltDependencies (pnpm-workspace.yaml) must be a list of package names, found 'esbuild'" in message


# --------------------------------------------------------------------------- files the install reads


def test_install_files(tmp_path):
    settings = {"patchedDependencies": {"ms@2.1.3": "fixes/ms.patch"}, "pnpmfile": "config/hooks.cjs"}
    files = {".npmrc": "auto-install-peers=true\n", "fixes/ms.patch": "--- a\n", "config/hooks.cjs": "module.exports = {}\n"}
    root = write_workspace(tmp_path, settings=settings, files=files)
    run_checks(root)
    assert install_files(inspect_workspace(root)) == [
        ".npmrc", "config/hooks.cjs", "fixes/ms.patch", "pnpm-lock.yaml", "pnpm-workspace.yaml"
    ]


def test_patch_file_that_does_not_exist(tmp_path):
    root = write_workspace(tmp_path, root_manifest={"pnpm": {"patchedDependencies": {"ms@2.1.3": "patches/ms.patch"}}})
    message = failure(root)
    assert "patchedDependencies.ms@2.1.3 in package.json \"pnpm\" field names 'patches/ms.patch', which is not a file" in message


# --------------------------------------------------------------------------- production dependencies only in devDependencies


@pytest.mark.parametrize(
    ("sources", "reported"),
    [
        ({"src/main.ts": "import { format } from 'date-fns';\n"}, "date-fns (src/main.ts:1)"),
        ({"src/a/b.mts": "// x\nconst m = await import('date-fns/locale');\n"}, "date-fns (src/a/b.mts:2)"),
        ({"src/main.cjs": "const x = require(\"@scope/pkg/sub\");\n"}, "@scope/pkg (src/main.cjs:1)"),
        ({"src/main.ts": "import type { Locale } from 'date-fns';\nimport { type Locale as L } from 'date-fns';\n"}, None),
        ({"src/main.spec.ts": "import { format } from 'date-fns';\n"}, None),
        ({"src/__tests__/x.ts": "import { format } from 'date-fns';\n"}, None),
        ({"src/types.d.ts": "import { format } from 'date-fns';\n"}, None),
        ({"test/main.ts": "import { format } from 'date-fns';\n"}, None),
        ({"src/main.ts": "/* import { format } from 'date-fns'; */\n// require('date-fns')\n"}, None),
        ({"src/main.ts": "import { x } from 'ms';\nimport fs from 'node:fs';\nimport p from 'path';\n"}, None),
    ],
)
def test_production_import_of_a_dev_dependency(tmp_path, sources, reported):
    packages = default_packages()
    packages["apps/api"]["devDependencies"].update({"date-fns": "4.1.0", "@scope/pkg": "1.0.0", "ms": "2.1.3"})
    files = {f"apps/api/{rel}": text for rel, text in sources.items()}
    root = write_workspace(tmp_path, packages=packages, files=files)
    if reported is None:
        run_checks(root)
        return
    message = failure(root)
    assert message.startswith(f"{tmp_path / 'apps/api/package.json'}: the service's sources import {reported}")
    assert "package.json has only in \"devDependencies\"" in message
    assert "move them there (`pnpm --filter api add" in message
