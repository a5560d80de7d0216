# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build inputs of a pnpm workspace image: workspace inspection, lockfile consistency, the staged
build context and its content digest.

Pure Python and PyYAML (shipped with ansible-core); no Docker and no pnpm needed. Every problem is
raised as ``BuildInputError`` whose message says what was expected, what was found and what to do.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import os
import posixpath
import re
import shlex
import shutil
import stat
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

try:
    import yaml

    HAS_YAML = True
    YAML_IMPORT_ERROR = None
except ImportError:  # PyYAML ships with ansible-core; the module reports its absence clearly
    HAS_YAML = False
    YAML_IMPORT_ERROR = traceback.format_exc()

DEPENDENCY_TYPES = ("dependencies", "devDependencies", "optionalDependencies")
STAGED_DOCKERFILE = ".image_build.Dockerfile"
STAGED_DOCKERIGNORE = ".dockerignore"
CONTENT_TAG_PREFIX = "src-"
_PACKAGE_MANAGER = re.compile(r"^pnpm@(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?)(?:\+[0-9A-Za-z.:-]+)?$")


class BuildInputError(Exception):
    """A build input is missing or inconsistent; the message is meant for the operator."""


# --------------------------------------------------------------------------- .dockerignore


@dataclass(frozen=True)
class IgnorePattern:
    text: str
    regex: re.Pattern[str]
    exclusion: bool
    depth: int


def _translate(pattern: str) -> str:
    """Docker's pattern syntax (Go filepath.Match plus ``**``) as a regular expression."""
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "*":
            if pattern[i : i + 2] == "**":
                i += 2
                if pattern[i : i + 1] == "/":
                    out.append("(?:.*/)?")
                    i += 1
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("^"):
                    body = "!" + body[1:]
                out.append(fnmatch.translate(f"[{body}]")[4:-3] if body else re.escape("[]"))
                i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return "^" + "".join(out) + "$"


def parse_dockerignore(text: str) -> list[IgnorePattern]:
    """Patterns of a .dockerignore file: comments and blank lines skipped, ``!`` re-includes."""
    patterns = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        cleaned = os.path.normpath(line.lstrip("/")).replace(os.sep, "/")
        if cleaned in (".", ""):
            continue
        patterns.append(IgnorePattern(cleaned, re.compile(_translate(cleaned)), exclusion, len(cleaned.split("/"))))
    return patterns


def is_ignored(rel_path: str, patterns: Sequence[IgnorePattern]) -> bool:
    """Whether Docker leaves ``rel_path`` (posix, relative to the context) out of the build context:
    the last pattern that matches the path or one of its parent directories decides."""
    parts = rel_path.split("/")
    ignored = False
    for pattern in patterns:
        match = bool(pattern.regex.match(rel_path))
        if not match and len(parts) > 1:
            for depth in range(1, len(parts)):
                if pattern.regex.match("/".join(parts[:depth])):
                    match = True
                    break
        if match:
            ignored = not pattern.exclusion
    return ignored


# --------------------------------------------------------------------------- workspace


@dataclass
class Workspace:
    root: Path
    pnpm_version: str
    packages: dict[str, str]  # package name -> directory relative to the root ("." for the root)
    manifests: dict[str, dict[str, Any]]  # directory -> package.json
    lockfile: dict[str, Any]
    settings: dict[str, Any] = field(default_factory=dict)  # pnpm-workspace.yaml
    npmrc: dict[str, str] = field(default_factory=dict)  # the root .npmrc, key -> raw value

    @property
    def pnpm_major(self) -> int:
        return version_tuple(self.pnpm_version)[0]

    def resolve_service(self, requested: str) -> tuple[str, str]:
        """The package name of ``requested`` (a package name, or its directory such as ``apps/api``
        or ``./apps/api``) and how it was given (``name`` or ``path``)."""
        if requested in self.packages:
            return requested, "name"
        directory = _normalize_dir(requested)
        if directory is not None:
            for name, rel in self.packages.items():
                if rel == directory:
                    return name, "path"
        named = sorted(n for n in self.packages if n)
        known = ", ".join(named) or "none"
        dirs = ", ".join(self.packages[n] for n in named)
        raise BuildInputError(
            f"service {requested!r} is not a package of the pnpm workspace {self.root}: expected the "
            f"\"name\" of a package.json matched by pnpm-workspace.yaml, or its directory, found the "
            f"packages {known}" + (f" (in {dirs})" if dirs else "") + ". Set image_build_service to one of "
            "them, or add the directory to \"packages\" in pnpm-workspace.yaml."
        )

    def service(self, requested: str) -> dict[str, Any]:
        """Facts about one workspace package (given by name or directory), or a BuildInputError
        naming the packages there are."""
        name, selected_by = self.resolve_service(requested)
        directory = self.packages[name]
        manifest = self.manifests[directory]
        command, command_source = start_command(manifest)
        engines = self.engines_node(directory)
        version_file = self.node_version_file(directory)
        return {
            "name": name,
            "dir": directory,
            "selected_by": selected_by,
            "version": str(manifest.get("version") or "0.0.0"),
            "dependencies": sorted((manifest.get("dependencies") or {}).keys()),
            "dev_dependencies": sorted((manifest.get("devDependencies") or {}).keys()),
            "workspace_dependencies": sorted(
                dep
                for dep, spec in (manifest.get("dependencies") or {}).items()
                if str(spec).startswith("workspace:")
            ),
            "module_type": "esm" if manifest.get("type") == "module" else "commonjs",
            "start_command": command,
            "start_command_source": f"{_manifest_path(directory)} {command_source}" if command_source else "default",
            "engines_node": engines.text if engines else "",
            "engines_node_source": engines.source if engines else "",
            "node_version_file": version_file.text if version_file else "",
            "node_version_file_source": version_file.source if version_file else "",
        }

    def engines_node(self, directory: str) -> NodeConstraint | None:
        """``engines.node`` of the package in ``directory``, else of the workspace root."""
        for rel in dict.fromkeys((directory, ".")):
            engines = self.manifests[rel].get("engines")
            if isinstance(engines, dict) and engines.get("node") not in (None, ""):
                return NodeConstraint(str(engines["node"]).strip(), _manifest_path(rel), "engines.node")
        return None

    def node_version_file(self, directory: str) -> NodeConstraint | None:
        """The first of ``.nvmrc`` and ``.node-version`` in the package's directory, then the root."""
        for rel in dict.fromkeys((directory, ".")):
            for name in NODE_VERSION_FILES:
                path = self.root / rel / name
                if path.is_file():
                    source = name if rel == "." else f"{rel}/{name}"
                    try:
                        text = path.read_text(encoding="utf-8")
                    except (OSError, ValueError) as exc:
                        raise BuildInputError(f"{self.root / source} is not readable ({exc}); fix the file.") from exc
                    return NodeConstraint(node_version_file_range(text, source), source, "the Node version")
        return None

    def node_constraints(self, directory: str) -> list[NodeConstraint]:
        """The Node versions the package in ``directory`` declares: engines.node and the version file."""
        return [c for c in (self.engines_node(directory), self.node_version_file(directory)) if c is not None]

    def setting(self, name: str) -> tuple[Any, str]:
        """A pnpm setting (camelCase) and the file it came from: pnpm-workspace.yaml, else (pnpm 10
        and older read pnpm's settings there too) the root .npmrc in kebab-case; (None, "") when unset."""
        if name in self.settings:
            return self.settings[name], "pnpm-workspace.yaml"
        kebab = re.sub(r"[A-Z]", lambda m: "-" + m.group().lower(), name)
        if self.pnpm_major <= 10 and kebab in self.npmrc:
            return _npmrc_value(self.npmrc[kebab]), ".npmrc"
        return None, ""


def _manifest_path(directory: str) -> str:
    return "package.json" if directory == "." else f"{directory}/package.json"


def _normalize_dir(value: str) -> str | None:
    """``./apps/api/`` -> ``apps/api``; None for what cannot be a directory inside the workspace."""
    text = value.strip().replace("\\", "/")
    if not text or text.startswith("/"):
        return None
    norm = posixpath.normpath(text)
    if norm == ".." or norm.startswith("../"):
        return None
    return norm


def _npmrc_value(raw: str) -> Any:
    lowered = raw.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    return raw.strip()


def parse_npmrc(text: str) -> dict[str, str]:
    """key=value lines of an .npmrc (comments with # or ;); values unquoted, environment
    references kept as written."""
    values = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")) or "=" not in line:
            continue
        key, value = line.split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BuildInputError(f"{path} is not readable JSON ({exc}); fix the file.") from exc
    if not isinstance(data, dict):
        raise BuildInputError(f"{path} must hold a JSON object, found {type(data).__name__}; fix the file.")
    return data


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise BuildInputError(f"{path} is not readable YAML ({exc}); fix the file.") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise BuildInputError(f"{path} must hold a YAML mapping, found {type(data).__name__}; fix the file.")
    return data


def version_tuple(version: str) -> tuple[int, int, int]:
    """``10.34.8`` (or with a pre-release) -> (10, 34, 8)."""
    match = re.match(r"^(\d+)\.(\d+)\.(\d+)", version)
    if not match:
        raise ValueError(f"not a version: {version!r}")
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def pnpm_version(manifest: Mapping[str, Any], where: Path) -> str:
    """The pnpm version pinned by ``packageManager`` (e.g. ``pnpm@10.34.8`` or with a ``+sha512.`` hash)."""
    value = manifest.get("packageManager")
    match = _PACKAGE_MANAGER.match(str(value or ""))
    if not match:
        found = f"{value!r}" if value else "no packageManager field"
        raise BuildInputError(
            f"{where} must pin pnpm in \"packageManager\" (e.g. \"pnpm@10.34.8\"), found {found}. "
            f"Add the field (`corepack use pnpm@<version>` writes it) so the image builds with the "
            f"pnpm that wrote pnpm-lock.yaml."
        )
    return match.group("version")


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A pnpm-workspace.yaml package glob as a regular expression over the path of a package.json
    (pnpm appends ``/package.json`` to each glob; ``**`` spans any number of directories)."""
    return re.compile(_translate(posixpath.normpath(pattern) + "/package.json"))


def _package_dirs(root: Path, globs: Iterable[str]) -> list[str]:
    """Directories (relative, posix) holding a package.json matched by the globs; node_modules and
    .git are never searched, symbolic links to directories are not followed."""
    included: list[re.Pattern[str]] = []
    excluded: list[re.Pattern[str]] = []
    for raw in globs:
        pattern = str(raw).strip()
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip().rstrip("/")
        while pattern.startswith("./"):
            pattern = pattern[2:]
        if not pattern or pattern == ".":
            continue
        (excluded if negate else included).append(_glob_regex(pattern))
    found = []
    for current, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("node_modules", ".git"))
        rel = Path(current).relative_to(root).as_posix()
        if rel == "." or "package.json" not in files:
            continue
        candidate = f"{rel}/package.json"
        if any(p.match(candidate) for p in included) and not any(p.match(candidate) for p in excluded):
            found.append(rel)
    return sorted(found)


def inspect_workspace(context: str | Path) -> Workspace:
    """Read a pnpm workspace; BuildInputError when it is missing or malformed."""
    root = Path(context)
    if not root.exists():
        raise BuildInputError(
            f"workspace not found: {root} does not exist. Expected the root of a pnpm workspace "
            f"(package.json, pnpm-workspace.yaml, pnpm-lock.yaml); set image_build_context to it."
        )
    if not root.is_dir():
        raise BuildInputError(
            f"workspace not found: {root} is a file, not a directory. Expected the root of a pnpm "
            f"workspace; set image_build_context to that directory."
        )
    missing = [name for name in ("package.json", "pnpm-workspace.yaml", "pnpm-lock.yaml") if not (root / name).is_file()]
    if missing:
        hint = (
            " Run `pnpm install` there and commit pnpm-lock.yaml."
            if missing == ["pnpm-lock.yaml"]
            else " Set image_build_context to the workspace root (the directory holding pnpm-workspace.yaml)."
        )
        raise BuildInputError(
            f"{root} is not a pnpm workspace root: expected package.json, pnpm-workspace.yaml and "
            f"pnpm-lock.yaml, missing {', '.join(missing)}.{hint}"
        )
    root_manifest = _read_json(root / "package.json")
    version = pnpm_version(root_manifest, root / "package.json")
    settings = _read_yaml(root / "pnpm-workspace.yaml")
    globs = settings.get("packages") or []
    if not isinstance(globs, list):
        raise BuildInputError(
            f"{root / 'pnpm-workspace.yaml'}: \"packages\" must be a list of globs, found {globs!r}; fix the file."
        )
    manifests: dict[str, dict[str, Any]] = {".": root_manifest}
    packages: dict[str, str] = {}
    if root_manifest.get("name"):
        packages[str(root_manifest["name"])] = "."
    for rel in _package_dirs(root, globs):
        manifest = _read_json(root / rel / "package.json")
        manifests[rel] = manifest
        name = manifest.get("name")
        if name:
            if name in packages:
                raise BuildInputError(
                    f"two workspace packages are named {name!r} ({packages[name]} and {rel}); "
                    f"package names must be unique in a pnpm workspace. Rename one of them."
                )
            packages[str(name)] = rel
    npmrc_path = root / ".npmrc"
    npmrc = parse_npmrc(npmrc_path.read_text(encoding="utf-8", errors="replace")) if npmrc_path.is_file() else {}
    return Workspace(root, version, packages, manifests, _read_yaml(root / "pnpm-lock.yaml"), settings, npmrc)


# --------------------------------------------------------------------------- pnpm and its lockfile


def expected_lockfile_version(version: str) -> str:
    """The lockfileVersion the pnpm ``version`` writes: '6.0' for pnpm 8, '9.0' for pnpm 9 and later
    (checked with pnpm 9, 10 and 12)."""
    major = version_tuple(version)[0]
    if major < 8:
        raise BuildInputError(
            f"package.json pins pnpm {version} in \"packageManager\"; expected pnpm 8 or later (the "
            f"image build uses `pnpm deploy --prod --offline`). Upgrade the workspace (`corepack use "
            f"pnpm@10`), run `pnpm install` and commit package.json and pnpm-lock.yaml."
        )
    return "6.0" if major == 8 else "9.0"


def _lockfile_version_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value) if value is not None else ""


_LOCKFILE_WRITERS = {"5.3": "pnpm 6", "5.4": "pnpm 7", "6.0": "pnpm 8", "9.0": "pnpm 9 or later"}


def check_lockfile_version(workspace: Workspace) -> str:
    """The lockfileVersion of pnpm-lock.yaml, or a BuildInputError when the pinned pnpm writes another."""
    expected = expected_lockfile_version(workspace.pnpm_version)
    found = _lockfile_version_text(workspace.lockfile.get("lockfileVersion"))
    if found != expected:
        writer = _LOCKFILE_WRITERS.get(found, "another pnpm")
        raise BuildInputError(
            f"{workspace.root / 'pnpm-lock.yaml'} has lockfileVersion {found or 'none'!r} (written by {writer}), "
            f"but package.json pins pnpm {workspace.pnpm_version} in \"packageManager\", which expects "
            f"lockfileVersion {expected!r}: the image's `pnpm install --frozen-lockfile` would not accept it. "
            f"Run `pnpm install` with pnpm {workspace.pnpm_version} (`corepack pnpm install`) in "
            f"{workspace.root} and commit pnpm-lock.yaml, or set \"packageManager\" to the pnpm that "
            f"wrote the lockfile."
        )
    return found


def catalogs(workspace: Workspace) -> dict[str, dict[str, str]]:
    """The catalogs of pnpm-workspace.yaml, name -> package -> range (``catalog`` is ``default``)."""
    where = workspace.root / "pnpm-workspace.yaml"
    default = workspace.settings.get("catalog")
    named = workspace.settings.get("catalogs") or {}
    if not isinstance(named, dict):
        raise BuildInputError(f"{where}: \"catalogs\" must map catalog names to packages, found {named!r}; fix the file.")
    result: dict[str, dict[str, str]] = {}
    sections = [("default", "catalog", default)] + sorted((str(k), f"catalogs.{k}", v) for k, v in named.items())
    for name, key, entries in sections:
        if entries is None:
            continue
        if not isinstance(entries, dict):
            raise BuildInputError(f"{where}: \"{key}\" must map package names to ranges, found {entries!r}; fix the file.")
        if name in result:
            raise BuildInputError(
                f"{where} defines the default catalog twice, as \"catalog\" and as \"catalogs.default\"; "
                f"keep one of them."
            )
        result[name] = {str(pkg): str(spec) for pkg, spec in entries.items()}
    return result


def _catalog_name(spec: str) -> str | None:
    if not spec.startswith("catalog:"):
        return None
    return spec[len("catalog:"):].strip() or "default"


def catalog_references(workspace: Workspace) -> list[tuple[str, str, str, str]]:
    """(directory, dependency type, package, catalog name) of every ``catalog:`` specifier."""
    refs = []
    for directory in sorted(workspace.manifests):
        manifest = workspace.manifests[directory]
        for kind in DEPENDENCY_TYPES + ("peerDependencies",):
            for name, spec in sorted((manifest.get(kind) or {}).items()):
                catalog = _catalog_name(str(spec))
                if catalog is not None:
                    refs.append((directory, kind, name, catalog))
    return refs


def check_catalogs(workspace: Workspace) -> dict[str, dict[str, str]]:
    """Every ``catalog:`` specifier has its catalog entry; returns the catalogs."""
    refs = catalog_references(workspace)
    if not refs:
        return catalogs(workspace)
    if version_tuple(workspace.pnpm_version) < (9, 5, 0):
        directory, kind, name = refs[0][:3]
        raise BuildInputError(
            f"{workspace.root / _manifest_path(directory)}: {kind} {name} uses a catalog (\"catalog:\"), "
            f"which needs pnpm 9.5 or later, but package.json pins pnpm {workspace.pnpm_version} in "
            f"\"packageManager\". Pin a newer pnpm (`corepack use pnpm@10`) and run `pnpm install`, or "
            f"write the version range in package.json."
        )
    known = catalogs(workspace)
    for directory, kind, name, catalog in refs:
        if name not in known.get(catalog, {}):
            spec = "catalog:" if catalog == "default" else f"catalog:{catalog}"
            key = "catalog" if catalog == "default" else f"catalogs.{catalog}"
            have = ", ".join(sorted(known)) or "none"
            raise BuildInputError(
                f"{workspace.root / _manifest_path(directory)}: {kind} {name} is {spec!r}, but "
                f"pnpm-workspace.yaml has no entry for {name} in \"{key}\" (catalogs there: {have}). "
                f"Expected a version range for {name} under \"{key}\"; add it (e.g. `{name}: ^1.0.0` under "
                f"`{key}:`) or write the range in package.json, then run `pnpm install`."
            )
    return known


# settings pnpm records in the lockfile and compares on a frozen install, with their defaults
_LOCKED_SETTINGS = (("autoInstallPeers", True), ("excludeLinksFromLockfile", False), ("injectWorkspacePackages", False))


def lockfile_problems(workspace: Workspace) -> list[str]:
    """Differences between the workspace and what pnpm-lock.yaml recorded for it, as far as
    ``pnpm install --frozen-lockfile`` rejects them: the dependency specifiers of every package.json,
    the catalog entries they use, and the lockfile's settings."""
    importers = workspace.lockfile.get("importers")
    if not isinstance(importers, dict):
        # lockfile v5 and older single-project lockfiles carry no importers section
        return [f"pnpm-lock.yaml has no \"importers\" section (lockfileVersion {workspace.lockfile.get('lockfileVersion')!r})"]
    problems = []
    for directory in sorted(workspace.manifests):
        manifest = workspace.manifests[directory]
        importer = importers.get(directory)
        declared = {kind: dict(manifest.get(kind) or {}) for kind in DEPENDENCY_TYPES}
        if importer is None:
            if any(declared.values()):
                problems.append(f"{directory}: package.json declares dependencies but pnpm-lock.yaml has no importer for it")
            continue
        importer = importer or {}
        for kind in DEPENDENCY_TYPES:
            locked = {name: (entry or {}).get("specifier") for name, entry in (importer.get(kind) or {}).items()}
            wanted = {name: str(spec) for name, spec in declared[kind].items()}
            for name in sorted(set(wanted) | set(locked)):
                if name not in locked:
                    problems.append(f"{directory}: {kind} {name} is {wanted[name]!r} in package.json but missing in pnpm-lock.yaml")
                elif name not in wanted:
                    problems.append(f"{directory}: {kind} {name} is in pnpm-lock.yaml ({locked[name]!r}) but not in package.json")
                elif str(locked[name]) != wanted[name]:
                    problems.append(
                        f"{directory}: {kind} {name} is {wanted[name]!r} in package.json but {locked[name]!r} in pnpm-lock.yaml"
                    )
    for directory in sorted(set(importers) - set(workspace.manifests)):
        problems.append(f"{directory}: pnpm-lock.yaml has an importer for it, but it is not a workspace package")
    problems.extend(_catalog_lock_problems(workspace))
    problems.extend(_settings_lock_problems(workspace))
    return problems


def _catalog_lock_problems(workspace: Workspace) -> list[str]:
    refs = catalog_references(workspace)
    if not refs:
        return []
    known = catalogs(workspace)
    locked_catalogs = workspace.lockfile.get("catalogs") or {}
    problems = []
    for catalog, name in sorted({(ref[3], ref[2]) for ref in refs}):
        wanted = known.get(catalog, {}).get(name)
        if wanted is None:
            continue  # reported by check_catalogs
        entry = (locked_catalogs.get(catalog) or {}).get(name)
        locked = (entry or {}).get("specifier") if isinstance(entry, dict) else None
        key = "catalog" if catalog == "default" else f"catalogs.{catalog}"
        if locked is None:
            problems.append(f"{key}: {name} is {wanted!r} in pnpm-workspace.yaml but missing in the catalogs of pnpm-lock.yaml")
        elif str(locked) != wanted:
            problems.append(f"{key}: {name} is {wanted!r} in pnpm-workspace.yaml but {str(locked)!r} in pnpm-lock.yaml")
    return problems


def _settings_lock_problems(workspace: Workspace) -> list[str]:
    locked = workspace.lockfile.get("settings")
    if not isinstance(locked, dict):
        return []
    problems = []
    for name, default in _LOCKED_SETTINGS:
        value, source = workspace.setting(name)
        wanted = bool(value) if value is not None else default
        have = bool(locked.get(name, default))
        if wanted != have:
            problems.append(
                f"settings.{name} is {str(wanted).lower()} in {source or 'pnpm-workspace.yaml (default)'} "
                f"but {str(have).lower()} in pnpm-lock.yaml"
            )
    return problems


def check_lockfile(workspace: Workspace) -> None:
    problems = lockfile_problems(workspace)
    if problems:
        shown = "; ".join(problems[:10]) + (f"; and {len(problems) - 10} more" if len(problems) > 10 else "")
        raise BuildInputError(
            f"pnpm-lock.yaml in {workspace.root} is out of date with package.json: {shown}. "
            f"The image builds with --frozen-lockfile, which would stop on this. Run `pnpm install` in "
            f"{workspace.root} and commit the updated pnpm-lock.yaml."
        )


def deploy_problem(workspace: Workspace) -> str | None:
    """Why ``pnpm --filter <service> deploy --prod --offline`` would refuse this workspace, or None.

    pnpm 10 (checked with 10.34.8) and 11 stop with ERR_PNPM_DEPLOY_NONINJECTED_WORKSPACE unless
    ``injectWorkspacePackages`` (or ``forceLegacyDeploy``) is true, whether or not the service
    depends on workspace packages; pnpm 8, 9 and 12 (checked with 12.23.0) deploy without it."""
    if workspace.pnpm_major not in (10, 11):
        return None
    inject = workspace.setting("injectWorkspacePackages")[0]
    legacy = workspace.setting("forceLegacyDeploy")[0]
    if inject is True or legacy is True:
        return None
    found = f"injectWorkspacePackages: {json.dumps(inject)}" if inject is not None else "no injectWorkspacePackages setting"
    return (
        f"{workspace.root / 'pnpm-workspace.yaml'}: pnpm {workspace.pnpm_version} (\"packageManager\") makes the "
        f"image's `pnpm deploy` stop with ERR_PNPM_DEPLOY_NONINJECTED_WORKSPACE unless workspace packages are "
        f"injected; expected `injectWorkspacePackages: true`, found {found}. Add the line "
        f"`injectWorkspacePackages: true` to pnpm-workspace.yaml, then run `pnpm install` (it records the "
        f"setting in pnpm-lock.yaml) and commit both files."
    )


def check_deploy(workspace: Workspace) -> None:
    problem = deploy_problem(workspace)
    if problem:
        raise BuildInputError(problem)


_BUILD_SETTINGS = ("onlyBuiltDependencies", "neverBuiltDependencies", "onlyBuiltDependenciesFile", "allowBuilds")


def dependency_builds(workspace: Workspace) -> dict[str, Any]:
    """Which dependencies may run build scripts (install/postinstall) in the image's install,
    from pnpm-workspace.yaml or the root package.json's "pnpm" field, checked for the pinned pnpm.

    pnpm 10 runs no dependency build script unless it is listed in ``onlyBuiltDependencies``; pnpm 11
    and later read ``allowBuilds`` in pnpm-workspace.yaml and ignore ``onlyBuiltDependencies`` (checked
    with pnpm 12: an install with only that list fails with ERR_PNPM_IGNORED_BUILDS). Settings in the
    "pnpm" field of a package.json other than the root's have no effect."""
    root_pnpm = workspace.manifests["."].get("pnpm")
    root_pnpm = root_pnpm if isinstance(root_pnpm, dict) else {}
    for directory in sorted(workspace.manifests):
        field_value = workspace.manifests[directory].get("pnpm")
        if directory == "." or not isinstance(field_value, dict):
            continue
        ignored = sorted(set(field_value) & set(_BUILD_SETTINGS))
        if ignored:
            raise BuildInputError(
                f"{workspace.root / _manifest_path(directory)}: \"pnpm\".{ignored[0]} has no effect outside the "
                f"workspace root, so the image's install would not honour it. Move it to pnpm-workspace.yaml "
                f"(as `{ignored[0]}:`), run `pnpm install` and commit."
            )
    result: dict[str, Any] = {"source": "", "only_built": None, "never_built": [], "allow_builds": {}}
    for name in _BUILD_SETTINGS:
        if name in workspace.settings:
            value, source = workspace.settings[name], "pnpm-workspace.yaml"
        elif name in root_pnpm:
            value, source = root_pnpm[name], "package.json \"pnpm\" field"
        else:
            continue
        where = f"{workspace.root / ('pnpm-workspace.yaml' if source == 'pnpm-workspace.yaml' else 'package.json')}"
        if workspace.pnpm_major >= 11 and name != "allowBuilds" and value:
            raise BuildInputError(
                f"{where}: {name} ({source}) is not read by pnpm {workspace.pnpm_version} (\"packageManager\"): "
                f"pnpm 11 and later take the dependencies allowed to run build scripts from \"allowBuilds\" in "
                f"pnpm-workspace.yaml, and the image's install would ignore or refuse their build scripts. "
                f"Replace it with `allowBuilds:` mapping each package to true or false (`pnpm approve-builds` "
                f"writes it), run `pnpm install` and commit."
            )
        if source != "pnpm-workspace.yaml" and workspace.pnpm_major >= 11:
            raise BuildInputError(
                f"{where}: \"pnpm\".{name} is not read by pnpm {workspace.pnpm_version}; move it to "
                f"pnpm-workspace.yaml, run `pnpm install` and commit."
            )
        if name == "allowBuilds":
            if not isinstance(value, dict):
                raise BuildInputError(f"{where}: allowBuilds must map package names to true or false, found {value!r}; fix it.")
            result["allow_builds"] = {str(k): bool(v) for k, v in value.items()}
        elif name == "onlyBuiltDependenciesFile":
            result["only_built_file"] = str(value)
        else:
            if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                raise BuildInputError(f"{where}: {name} ({source}) must be a list of package names, found {value!r}; fix it.")
            result["only_built" if name == "onlyBuiltDependencies" else "never_built"] = sorted(value)
        result["source"] = result["source"] or source
    return result


def install_files(workspace: Workspace) -> list[str]:
    """Files besides the package.json files that ``pnpm install`` reads (relative to the root): the
    lockfile, pnpm-workspace.yaml, .npmrc, the pnpmfile, the patch files of ``patchedDependencies``
    and an ``onlyBuiltDependenciesFile``. A referenced file that does not exist is an error."""
    files = {"pnpm-lock.yaml", "pnpm-workspace.yaml"}
    for name in (".npmrc", ".pnpmfile.cjs", ".pnpmfile.mjs"):
        if (workspace.root / name).is_file():
            files.add(name)
    root_pnpm = workspace.manifests["."].get("pnpm")
    root_pnpm = root_pnpm if isinstance(root_pnpm, dict) else {}
    references: list[tuple[str, str, Any]] = []
    pnpmfile, source = workspace.setting("pnpmfile")
    if pnpmfile:
        references.append((source, "pnpmfile", pnpmfile))
    for where, settings in (("pnpm-workspace.yaml", workspace.settings), ("package.json \"pnpm\" field", root_pnpm)):
        patched = settings.get("patchedDependencies") or {}
        if isinstance(patched, dict):
            references.extend((where, f"patchedDependencies.{pkg}", path) for pkg, path in sorted(patched.items()))
        if settings.get("onlyBuiltDependenciesFile"):
            references.append((where, "onlyBuiltDependenciesFile", settings["onlyBuiltDependenciesFile"]))
    for where, setting, value in references:
        rel = _normalize_dir(str(value))
        if rel is None or not (workspace.root / rel).is_file():
            raise BuildInputError(
                f"{workspace.root}: {setting} in {where} names {value!r}, which is not a file inside the "
                f"workspace; `pnpm install` in the image would fail. Expected a path relative to the "
                f"workspace root; fix the path or add the file."
            )
        files.add(rel)
    return sorted(files)


# --------------------------------------------------------------------------- start command


# node options that take their value as the next argument
_NODE_VALUE_FLAGS = frozenset(
    ("-r", "--require", "--import", "--loader", "--experimental-loader", "--env-file", "--conditions", "-C", "--title")
)
_SHELL_SYNTAX = re.compile(r"[;&|<>`$()]")


def node_script_command(script: Any) -> list[str] | None:
    """``node [options] <file> [arguments]`` of an npm script as an exec-form command, or None when
    the script is anything else (another program, shell syntax, a file outside the package)."""
    if not isinstance(script, str) or _SHELL_SYNTAX.search(script):
        return None
    try:
        words = shlex.split(script)
    except ValueError:
        return None
    if not words or words[0] != "node":
        return None
    index = 1
    while index < len(words) and words[index].startswith("-"):
        index += 2 if words[index] in _NODE_VALUE_FLAGS else 1
    if index >= len(words):
        return None
    target = _normalize_dir(words[index])
    if target is None:
        return None
    return words


def start_command(manifest: Mapping[str, Any]) -> tuple[list[str], str]:
    """The command that starts a package in its deployed folder and where it came from: ``node
    <main>`` when package.json has "main", else a ``start`` or ``start:prod`` script of the form
    ``node [options] <file>``, else ``node dist/main.js`` (source "")."""
    main = manifest.get("main")
    if isinstance(main, str) and _normalize_dir(main) not in (None, "."):
        return ["node", main.strip()], "\"main\""
    scripts = manifest.get("scripts")
    scripts = scripts if isinstance(scripts, dict) else {}
    for name in ("start", "start:prod"):
        command = node_script_command(scripts.get(name))
        if command:
            return command, f"scripts.{name}"
    return ["node", "dist/main.js"], ""


# --------------------------------------------------------------------------- Node version


NODE_VERSION_FILES = (".nvmrc", ".node-version")
# nvm's names of the Node LTS lines
NODE_LTS_CODENAMES = {
    "argon": 4, "boron": 6, "carbon": 8, "dubnium": 10, "erbium": 12, "fermium": 14,
    "gallium": 16, "hydrogen": 18, "iron": 20, "jod": 22, "krypton": 24,
}
_ANY_NODE = ("node", "stable", "latest", "current", "lts", "lts/*", "system")


@dataclass(frozen=True)
class NodeConstraint:
    """A Node version range the workspace declares, where, and under which setting."""

    text: str  # npm semver range; "" or "*" accepts any version
    source: str  # file, relative to the workspace root
    setting: str  # "engines.node" or "the Node version"

    def describe(self, root: Path | None = None) -> str:
        return f"{self.setting} {self.text!r} ({root / self.source if root else self.source})"


def node_version_file_range(text: str, source: str = ".nvmrc") -> str:
    """The range an ``.nvmrc`` / ``.node-version`` stands for: ``20`` -> ``20``, ``v20.11.0`` ->
    ``v20.11.0``, ``lts/iron`` -> ``20``; ``node``, ``lts/*`` and the like -> ``*``."""
    lines = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    value = next((line for line in lines if line), "")
    lowered = value.lower()
    if not value or lowered in _ANY_NODE:
        return "*"
    if lowered.startswith("lts/"):
        major = NODE_LTS_CODENAMES.get(lowered[4:])
        if major is None:
            raise BuildInputError(
                f"{source}: {value!r} is not a Node LTS line this check knows (expected one of "
                f"{', '.join('lts/' + n for n in NODE_LTS_CODENAMES)}); write the version number instead, e.g. 22."
            )
        return str(major)
    return value


_SEMVER = re.compile(
    r"^v?(?P<major>0|[1-9]\d*|[xX*])(?:\.(?P<minor>0|[1-9]\d*|[xX*]))?(?:\.(?P<patch>0|[1-9]\d*|[xX*]))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)
_COMPARATOR = re.compile(r"^(?P<op><=|>=|<|>|=|~>|~|\^)?(?P<version>.*)$")
# A version bound as (major, minor, patch, 1 for a release / 0 for a pre-release): every pre-release
# of x.y.z sorts below x.y.z and above every release below it, which is all that matters when only
# released Node versions are candidates.
if TYPE_CHECKING:
    Bound = tuple[int, int, int, int]
    Comparator = tuple[str, Bound]  # (">=", ">", "<" or "<=", bound)
_NOTHING: list[Comparator] = [("<", (0, 0, 0, 0))]


def _partial(text: str, where: str, whole: str) -> tuple[int | None, int | None, int | None, bool]:
    match = _SEMVER.match(text)
    if not match:
        raise BuildInputError(
            f"{where}: {whole!r} is not an npm semver range ({text!r} is not a version); expected e.g. "
            f"'>=22', '^20.11', '20.x', '>=18 <23' or '20 || 22'. Fix the range."
        )

    def number(group: str) -> int | None:
        value = match.group(group)
        return None if value is None or value in "xX*" else int(value)

    major, minor, patch = number("major"), number("minor"), number("patch")
    if major is None:
        minor = patch = None
    elif minor is None:
        patch = None
    return major, minor, patch, bool(match.group("pre"))


def _desugar(op: str, version: tuple[int | None, int | None, int | None, bool]) -> list[Comparator]:
    """One comparator of a range as plain bounds, following npm's node-semver."""
    major, minor, patch, pre = version
    if op == "~>":
        op = "~"
    if major is None:
        return list(_NOTHING) if op in (">", "<") else []
    if op == "~":
        low = (major, minor or 0, patch or 0, 0 if pre else 1)
        high = (major + 1, 0, 0, 0) if minor is None else (major, minor + 1, 0, 0)
        return [(">=", low), ("<", high)]
    if op == "^":
        low = (major, minor or 0, patch or 0, 0 if pre else 1)
        if major > 0 or minor is None:
            high = (major + 1, 0, 0, 0)
        elif minor > 0 or patch is None:
            high = (0, minor + 1, 0, 0)
        else:
            high = (0, 0, patch + 1, 0)
        return [(">=", low), ("<", high)]
    if minor is None or patch is None:  # an X-range: 20, 20.x, 20.11, 20.11.x
        low = (major, minor or 0, 0, 1)
        high = (major + 1, 0, 0, 0) if minor is None else (major, minor + 1, 0, 0)
        return {
            "": [(">=", low), ("<", high)],
            "=": [(">=", low), ("<", high)],
            ">=": [(">=", low)],
            ">": [(">=", high)],
            "<": [("<", (low[0], low[1], low[2], 0))],
            "<=": [("<", high)],
        }[op]
    bound = (major, minor, patch, 0 if pre else 1)
    if op in ("", "="):
        return [(">=", bound), ("<=", bound)]
    return [(op, bound)]


def parse_node_range(text: str, where: str = "the range") -> list[list[Comparator]]:
    """An npm semver range (``||`` alternatives of space-separated comparators, hyphen ranges,
    ``^``, ``~``, X-ranges, exact versions) as alternatives of plain bounds; BuildInputError
    naming ``where`` when it is not one."""
    alternatives = []
    for part in str(text).split("||"):
        part = re.sub(r"(<=|>=|<|>|=|~>|~|\^)\s+", r"\1", part.strip())
        hyphen = re.fullmatch(r"(\S+)\s+-\s+(\S+)", part)
        if hyphen:
            low = _partial(hyphen.group(1), where, text)
            high = _partial(hyphen.group(2), where, text)
            comparators = _desugar(">=", low)
            if high[0] is not None:
                comparators += _desugar("<=", high)
            alternatives.append(comparators)
            continue
        comparators = []
        for word in part.split():
            match = _COMPARATOR.match(word)
            op, version = (match.group("op") or "", match.group("version")) if match else ("", word)
            comparators += _desugar(op, _partial(version, where, text))
        alternatives.append(comparators)
    return alternatives


def _lowest_release(comparators: Sequence[Comparator], major: int) -> Bound:
    """The lowest released version of ``major`` that the lower bounds allow (it may lie beyond the major)."""
    candidate: Bound = (major, 0, 0, 1)
    for op, bound in comparators:
        if op not in (">=", ">"):
            continue
        if bound[3] == 0:  # a pre-release: the release of the same number is above it either way
            lowest = (bound[0], bound[1], bound[2], 1)
        else:
            lowest = bound if op == ">=" else (bound[0], bound[1], bound[2] + 1, 1)
        candidate = max(candidate, lowest)
    return candidate


def major_satisfies(alternatives: Sequence[Sequence[Comparator]], major: int) -> bool:
    """Whether some released version of Node ``major`` (major.x.y) satisfies the range."""
    for comparators in alternatives:
        lowest = _lowest_release(comparators, major)
        if lowest[0] != major:
            continue
        if all(lowest < bound if op == "<" else lowest <= bound for op, bound in comparators if op in ("<", "<=")):
            return True
    return False


def highest_satisfying_major(text: str, majors: Iterable[int], where: str = "the range") -> int | None:
    """The highest of ``majors`` some version of which satisfies the npm semver range ``text``."""
    alternatives = parse_node_range(text, where)
    fitting = [major for major in majors if major_satisfies(alternatives, major)]
    return max(fitting) if fitting else None


def normalize_node_bases(bases: Mapping[Any, Any], setting: str = "image_build_node_bases") -> dict[int, dict[str, str]]:
    """``{major: {runtime: image, builder: image}}`` with integer majors, or a BuildInputError."""
    if not isinstance(bases, Mapping):
        raise BuildInputError(f"{setting} must map Node majors to {{runtime: image, builder: image}}, found {bases!r}; fix it.")
    result = {}
    for key, value in bases.items():
        text = str(key).strip()
        if not text.isdigit():
            raise BuildInputError(
                f"{setting}: {key!r} is not a Node major version; expected keys such as 20, 22, 24. Fix the key."
            )
        images = value if isinstance(value, Mapping) else {}
        missing = [part for part in ("runtime", "builder") if not str(images.get(part) or "").strip()]
        if missing:
            raise BuildInputError(
                f"{setting}: Node {text} must name a runtime and a builder image, e.g. "
                f"{{runtime: node:{text}-alpine, builder: node:{text}-alpine}}; found {value!r} (missing "
                f"{' and '.join(missing)}). Fix the entry."
            )
        result[int(text)] = {"runtime": str(images["runtime"]).strip(), "builder": str(images["builder"]).strip()}
    return result


def choose_node_base(
    constraints: Sequence[NodeConstraint],
    bases: Mapping[Any, Any],
    setting: str = "image_build_node_bases",
    root: Path | None = None,
) -> dict[str, Any]:
    """The configured base for the workspace's Node: the highest major of ``bases`` some version of
    which satisfies every constraint (a major fits ``>=20.11`` because 20.11 and later exist). With no
    constraint, the highest major configured. BuildInputError naming the ranges, their files (under
    ``root`` when given) and the majors there are when none fits."""
    table = normalize_node_bases(bases, setting)
    if not table:
        raise BuildInputError(
            f"{setting} is empty: expected at least one Node major with its runtime and builder image. "
            f"Add one (e.g. 22: {{runtime: node:22-alpine, builder: node:22-alpine}}) or set "
            f"image_build_base_image and image_build_builder_image."
        )
    fitting = set(table)
    for constraint in constraints:
        where = root / constraint.source if root else constraint.source
        alternatives = parse_node_range(constraint.text, f"{where}: {constraint.setting}")
        fitting = {major for major in fitting if major_satisfies(alternatives, major)}
    if not fitting:
        declared = " and ".join(c.describe(root) for c in constraints)
        have = ", ".join(str(m) for m in sorted(table))
        raise BuildInputError(
            f"no configured Node base satisfies {declared}: expected a major of {setting} some version of "
            f"which the range allows, found Node {have}. Add a base for a fitting major to {setting}, "
            f"set image_build_base_image and image_build_builder_image, or change the range."
        )
    major = max(fitting)
    why = (
        "highest configured major satisfying " + " and ".join(c.describe() for c in constraints)
        if constraints
        else "no engines.node, .nvmrc or .node-version: highest configured major"
    )
    return {"major": major, **table[major], "reason": why}


# --------------------------------------------------------------------------- production imports


NODE_BUILTINS = frozenset(
    """assert async_hooks buffer child_process cluster console constants crypto dgram
    diagnostics_channel dns domain events fs http http2 https inspector module net os path
    perf_hooks process punycode querystring readline repl stream string_decoder sys timers tls
    trace_events tty url util v8 vm wasi worker_threads zlib test sqlite sea""".split()
)
SOURCE_SUFFIXES = (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs")
_TEST_DIRS = frozenset(("__tests__", "__mocks__", "test", "tests", "__fixtures__", "fixtures"))
_TOKENS = re.compile(
    r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\\n])*'|\"(?:\\.|[^\"\\\n])*\"|`(?:\\.|[^`\\])*`", re.DOTALL
)
_IMPORT_FROM = re.compile(
    r"(?<![\w$.])(?P<kw>import|export)\s+(?P<type>type\s+)?(?P<clause>[\w$*{},\s]*?)\s*from\s*(?P<q>['\"])(?P<spec>[^'\"\n]+)(?P=q)"
)
_IMPORT_BARE = re.compile(r"(?<![\w$.])import\s*(?P<q>['\"])(?P<spec>[^'\"\n]+)(?P=q)")
_CALL = re.compile(r"(?<![\w$.])(?:require|import)\s*\(\s*(?P<q>['\"])(?P<spec>[^'\"\n]+)(?P=q)\s*\)")


def _without_comments(text: str) -> str:
    """The source with comments blanked (line numbers kept); strings are left as they are."""

    def blank(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith(("//", "/*")):
            return re.sub(r"[^\n]", " ", token)
        return token

    return _TOKENS.sub(blank, text)


def _type_only(clause: str) -> bool:
    """``{ type A, type B }`` imports nothing at run time (TypeScript drops it)."""
    clause = clause.strip()
    if not (clause.startswith("{") and clause.endswith("}")):
        return False
    names = [name.strip() for name in clause[1:-1].split(",") if name.strip()]
    return bool(names) and all(name.startswith("type ") for name in names)


def package_of(specifier: str) -> str | None:
    """The package a module specifier loads from node_modules; None for relative and absolute paths,
    Node's builtins (``fs``, ``node:fs``, ``fs/promises``) and other schemes."""
    if specifier.startswith((".", "/", "#")) or ":" in specifier:
        return None
    parts = specifier.split("/")
    name = "/".join(parts[:2]) if specifier.startswith("@") else parts[0]
    if name in NODE_BUILTINS or not name or name == "@":
        return None
    return name


def source_imports(text: str) -> list[tuple[str, int]]:
    """(package, line) of every import of a package that stays at run time: ``import ... from``,
    ``import 'x'``, ``export ... from``, ``require('x')`` and ``import('x')``; ``import type`` and
    imports of types only are left out."""
    code = _without_comments(text)
    found = []
    for match in _IMPORT_FROM.finditer(code):
        if match.group("type") or _type_only(match.group("clause")):
            continue
        found.append((match.group("spec"), match.start()))
    for pattern in (_IMPORT_BARE, _CALL):
        found.extend((match.group("spec"), match.start()) for match in pattern.finditer(code))
    result = []
    for spec, offset in found:
        name = package_of(spec)
        if name:
            result.append((name, code.count("\n", 0, offset) + 1))
    return sorted(set(result), key=lambda item: (item[1], item[0]))


def _is_test_source(rel: PurePosixPath) -> bool:
    name = rel.name
    if name.endswith((".d.ts", ".d.mts", ".d.cts")):
        return True
    if re.search(r"\.(spec|test|e2e-spec)\.[cm]?[jt]sx?$", name):
        return True
    return any(part in _TEST_DIRS for part in rel.parts[:-1])


def dev_only_imports(workspace: Workspace, service: str) -> list[tuple[str, str]]:
    """(package, "file:line") of packages the service's sources (``src/``, tests left out) import at
    run time that its package.json has only in devDependencies: ``pnpm deploy --prod`` leaves them
    out of the image."""
    directory = workspace.packages[service]
    manifest = workspace.manifests[directory]
    production = set()
    for kind in ("dependencies", "peerDependencies", "optionalDependencies"):
        production |= set((manifest.get(kind) or {}).keys())
    dev = set((manifest.get("devDependencies") or {}).keys()) - production - {service}
    src = workspace.root / directory / "src"
    if not dev or not src.is_dir():
        return []
    first: dict[str, str] = {}
    for current, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "node_modules")
        for name in sorted(files):
            path = Path(current, name)
            rel = PurePosixPath(path.relative_to(workspace.root / directory).as_posix())
            if not name.endswith(SOURCE_SUFFIXES) or _is_test_source(rel):
                continue
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            for package, line in source_imports(text):
                if package in dev and package not in first:
                    first[package] = f"{rel}:{line}"
    return sorted(first.items())


def check_dev_only_imports(workspace: Workspace, service: str) -> None:
    found = dev_only_imports(workspace, service)
    if not found:
        return
    directory = workspace.packages[service]
    listed = ", ".join(f"{package} ({where})" for package, where in found)
    names = " ".join(item[0] for item in found)
    raise BuildInputError(
        f"{workspace.root / _manifest_path(directory)}: the service's sources import {listed}, which "
        f"package.json has only in \"devDependencies\"; `pnpm deploy --prod` leaves them out of the image, "
        f"so it would fail at run time. Expected them in \"dependencies\": move them there "
        f"(`pnpm --filter {service} add {names}`) and commit package.json and pnpm-lock.yaml; if only "
        f"types are imported, write `import type`. (image_build_check_imports: false skips this check.)"
    )


# --------------------------------------------------------------------------- builder environment


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def builder_environment(values: Mapping[str, Any] | None, setting: str = "image_build_builder_env") -> dict[str, str]:
    """Environment variables for the builder stage as strings; BuildInputError for a name that is
    not an environment variable name or a value that is not a single-line scalar."""
    result = {}
    for key, value in (values or {}).items():
        name = str(key)
        if not _ENV_NAME.match(name):
            raise BuildInputError(
                f"{setting}: {name!r} is not an environment variable name; expected letters, digits and "
                f"'_', not starting with a digit (e.g. DO_NOT_TRACK). Rename it."
            )
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            text = str(value)
        else:
            raise BuildInputError(
                f"{setting}: {name} must be a string, number or boolean, found {type(value).__name__}; fix the value."
            )
        if "\n" in text or "\r" in text:
            raise BuildInputError(f"{setting}: the value of {name} spans several lines; expected one line. Fix the value.")
        result[name] = text
    return result


# --------------------------------------------------------------------------- staging and digest


@dataclass
class StagePlan:
    files: dict[str, tuple[str, str]] = field(default_factory=dict)  # rel -> (kind, sha256 or link target)
    modes: dict[str, int] = field(default_factory=dict)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def context_files(context: Path, patterns: Sequence[IgnorePattern]) -> StagePlan:
    """Every file and symlink Docker would send from ``context`` given the ignore patterns."""
    plan = StagePlan()
    reincludes = any(p.exclusion for p in patterns)
    for current, dirs, files in os.walk(context):
        base = PurePosixPath(Path(current).relative_to(context).as_posix())
        keep = []
        for name in sorted(dirs):
            rel = (base / name).as_posix()
            full = Path(current, name)
            if full.is_symlink():
                files.append(name)
                continue
            # an ignored directory is skipped whole unless a later "!" pattern might re-include inside it
            if is_ignored(rel, patterns) and not reincludes:
                continue
            keep.append(name)
        dirs[:] = keep
        for name in sorted(files):
            rel = (base / name).as_posix()
            if rel.startswith("./"):
                rel = rel[2:]
            if is_ignored(rel, patterns):
                continue
            full = Path(current, name)
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                plan.files[rel] = ("link", os.readlink(full))
            elif stat.S_ISREG(info.st_mode):
                plan.files[rel] = ("file", _sha256_file(full))
                plan.modes[rel] = 0o755 if info.st_mode & 0o111 else 0o644
    return plan


def content_digest(plan: StagePlan, dockerfile: str, dockerignore: str, extra: Mapping[str, Any] | None) -> str:
    """sha256 over the staged files (path, type, mode, content), the Dockerfile, the ignore file and
    the extra inputs (e.g. base image IDs and build arguments). Modification times do not count."""
    digest = hashlib.sha256()
    digest.update(b"vextrus.deploy image_build context v1\n")
    for rel in sorted(plan.files):
        kind, value = plan.files[rel]
        digest.update(f"{rel}\0{kind}\0{plan.modes.get(rel, 0):o}\0{value}\n".encode())
    digest.update(b"Dockerfile\0" + hashlib.sha256(dockerfile.encode()).hexdigest().encode() + b"\n")
    digest.update(b"dockerignore\0" + hashlib.sha256(dockerignore.encode()).hexdigest().encode() + b"\n")
    digest.update(json.dumps(extra or {}, sort_keys=True, default=str).encode())
    return digest.hexdigest()


def content_tag(digest: str, length: int = 16) -> str:
    return f"{CONTENT_TAG_PREFIX}{digest[:length]}"


def staged_dockerignore(patterns_text: str) -> str:
    """The ignore file of the staged context: the role's patterns, plus the staged Dockerfile and
    the ignore file itself, which the daemon then drops from what COPY sees."""
    return patterns_text.rstrip("\n") + f"\n{STAGED_DOCKERFILE}\n{STAGED_DOCKERIGNORE}\n"


def _write_if_different(path: Path, data: bytes, mode: int, check_mode: bool) -> bool:
    if path.is_symlink() or path.is_dir():
        if not check_mode:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()
    elif path.is_file() and path.read_bytes() == data:
        if stat.S_IMODE(path.stat().st_mode) != mode:
            if not check_mode:
                path.chmod(mode)
            return True
        return False
    if not check_mode:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        tmp.chmod(mode)
        tmp.replace(path)
    return True


def stage(
    context: Path,
    dest: Path,
    plan: StagePlan,
    extra_files: Mapping[str, str],
    check_mode: bool = False,
) -> dict[str, int]:
    """Mirror the planned files of ``context`` into ``dest`` (plus ``extra_files``, path -> text),
    removing everything else there. Returns counts; ``updated + removed`` is 0 when nothing changed."""
    counts = {"files": 0, "updated": 0, "removed": 0}
    wanted: set[str] = set(plan.files) | set(extra_files)
    if not check_mode:
        dest.mkdir(parents=True, exist_ok=True)
    for rel, (kind, value) in sorted(plan.files.items()):
        counts["files"] += 1
        target = dest / rel
        if kind == "link":
            if target.is_symlink() and os.readlink(target) == value:
                continue
            counts["updated"] += 1
            if not check_mode:
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                elif target.exists() or target.is_symlink():
                    target.unlink()
                target.parent.mkdir(parents=True, exist_ok=True)
                os.symlink(value, target)
            continue
        source = context / rel
        if target.is_file() and not target.is_symlink() and _sha256_file(target) == value:
            if stat.S_IMODE(target.stat().st_mode) != plan.modes[rel]:
                counts["updated"] += 1
                if not check_mode:
                    target.chmod(plan.modes[rel])
            continue
        counts["updated"] += 1
        if not check_mode:
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target, follow_symlinks=False)
            target.chmod(plan.modes[rel])
    for rel, text in sorted(extra_files.items()):
        counts["files"] += 1
        if _write_if_different(dest / rel, text.encode(), 0o644, check_mode):
            counts["updated"] += 1
    if dest.is_dir():
        for current, dirs, files in os.walk(dest, topdown=False):
            base = Path(current).relative_to(dest)
            for name in files + [d for d in dirs if Path(current, d).is_symlink()]:
                rel = (base / name).as_posix()
                if rel.startswith("./"):
                    rel = rel[2:]
                if rel not in wanted:
                    counts["removed"] += 1
                    if not check_mode:
                        Path(current, name).unlink()
            if Path(current) != dest and not check_mode and not any(Path(current).iterdir()):
                Path(current).rmdir()
    return counts
