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
import re
import shutil
import stat
import traceback
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

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

    def service(self, name: str) -> dict[str, Any]:
        """Facts about one workspace package, or a BuildInputError naming the packages there are."""
        if name not in self.packages:
            known = ", ".join(sorted(n for n in self.packages if n)) or "none"
            raise BuildInputError(
                f"service {name!r} is not a package of the pnpm workspace {self.root}: expected the "
                f"\"name\" of a package.json matched by pnpm-workspace.yaml, found the packages {known}. "
                f"Set image_build_service to one of them."
            )
        directory = self.packages[name]
        manifest = self.manifests[directory]
        return {
            "name": name,
            "dir": directory,
            "version": str(manifest.get("version") or "0.0.0"),
            "dependencies": sorted((manifest.get("dependencies") or {}).keys()),
            "dev_dependencies": sorted((manifest.get("devDependencies") or {}).keys()),
            "workspace_dependencies": sorted(
                dep
                for dep, spec in (manifest.get("dependencies") or {}).items()
                if str(spec).startswith("workspace:")
            ),
        }


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


def _package_dirs(root: Path, globs: Iterable[str]) -> list[str]:
    included: set[str] = set()
    excluded: set[str] = set()
    for pattern in globs:
        pattern = str(pattern).strip()
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip().rstrip("/")
        if pattern.startswith("./"):
            pattern = pattern[2:]
        if not pattern:
            continue
        target = excluded if negate else included
        for candidate in root.glob(pattern):
            rel = candidate.relative_to(root).as_posix()
            if "node_modules" in rel.split("/"):
                continue
            if candidate.is_dir() and (candidate / "package.json").is_file():
                target.add(rel)
    return sorted(included - excluded)


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
    return Workspace(root, version, packages, manifests, _read_yaml(root / "pnpm-lock.yaml"))


def lockfile_problems(workspace: Workspace) -> list[str]:
    """Differences between the dependency ranges of every workspace package.json and the
    specifiers pnpm-lock.yaml recorded for them (what `pnpm install --frozen-lockfile` rejects)."""
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
