#!/usr/bin/env python3
"""Build the execution environment of ../execution-environment.yml here, without Galaxy or quay.io,
and push it to the local registry.

    .venv/bin/python awx/ee/local.py [--tag REF] [--out DIR] [--no-push]

The committed definition stays the one definition (CentOS Stream 9 base for production). This
script derives a local build of it, in DIR (default .local/ee/local), changing only:

  * options.skip_pip_install: true      Debian's system python3 refuses `python -m ensurepip`;
                                        the local base carries python3-pip instead
  * options.package_manager_path        /usr/local/bin/ee-pkgmgr, the base's dnf-style shim over
                                        apt-get (localcluster/infra/ee-pkgmgr)
  * dependencies.galaxy                 the collections of requirements.yml (and what they depend
                                        on) as local tarballs (type: file), repacked from the
                                        copies the venv's pinned `ansible` package holds

and builds it with `--build-arg EE_BASE_IMAGE=127.0.0.1:5000/vextrus/python-base:bookworm` (made by
localcluster/infra/base-image.sh --python, which this script runs first). The collection itself
goes in from `ansible-galaxy collection build` of the checkout, as in production. Prints one JSON
object: the image, its pushed digest and the collections and versions built in.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
from pathlib import Path
from typing import Any

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
DEFINITION = ROOT / "awx" / "execution-environment.yml"
REGISTRY = "127.0.0.1:5000"
PYTHON_BASE = f"{REGISTRY}/vextrus/python-base:bookworm"
PKGMGR = "/usr/local/bin/ee-pkgmgr"
DEPS_DIR = "deps"


def log(message: str) -> None:
    print(f"[ee {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run(args: list[str], log_file: Path | None = None, cwd: Path = ROOT, timeout: float = 1800) -> None:
    """Runs a command; its output goes to log_file (or stderr); a failure exits with its last lines."""
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    if log_file is None:
        done = subprocess.run(args, cwd=cwd, env=env, stdout=sys.stderr, stderr=subprocess.STDOUT, timeout=timeout, check=False)
        if done.returncode:
            sys.exit(f"{' '.join(args)} failed (exit code {done.returncode})")
        return
    with log_file.open("a", encoding="utf-8") as sink:
        sink.write(f"$ {' '.join(args)}\n")
        sink.flush()
        done = subprocess.run(args, cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT, timeout=timeout, check=False)
    if done.returncode:
        tail = "\n".join(log_file.read_text(encoding="utf-8", errors="replace").splitlines()[-40:])
        sys.exit(f"{' '.join(args)} failed (exit code {done.returncode}); the end of {log_file}:\n{tail}")


# ------------------------------------------------------------ collections ---


def venv_collections() -> Path:
    """The ansible_collections directory of the venv's `ansible` package: its site-packages, whatever
    else is on sys.path."""
    return Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"


def collection_info(root: Path, fqcn: str) -> dict[str, Any]:
    manifest = root.joinpath(*fqcn.split("."), "MANIFEST.json")
    info: dict[str, Any] = json.loads(manifest.read_text(encoding="utf-8"))["collection_info"]
    return info


def satisfies(version: str, spec: str) -> bool:
    """version against a Galaxy requirement such as '>=6.0.0,<7.0.0' (or '*')."""
    spec = str(spec or "*").strip()
    return spec == "*" or Version(version) in SpecifierSet(spec)


def dependency_closure(root: Path) -> dict[str, str]:
    """fqcn -> version: the collections of requirements.yml as the venv holds them, each checked
    against its requirement there, and the collections they depend on (MANIFEST.json)."""
    wanted = yaml.safe_load((ROOT / "requirements.yml").read_text(encoding="utf-8"))["collections"]
    found: dict[str, str] = {}
    queue = [(entry["name"], entry.get("version", "*")) for entry in wanted]
    while queue:
        fqcn, spec = queue.pop(0)
        info = collection_info(root, fqcn)
        if not satisfies(info["version"], spec):
            sys.exit(f"the venv's {fqcn} {info['version']} does not satisfy {spec!r} (requirements.yml or a dependency)")
        if fqcn not in found:
            found[fqcn] = info["version"]
            queue.extend((dep, dep_spec) for dep, dep_spec in (info.get("dependencies") or {}).items())
    return found


def _tar_info(name: str, size: int, mode: int = 0o644) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = size, mode, 0
    return info


def repack(src: Path, out: Path) -> None:
    """src, an installed collection (MANIFEST.json, FILES.json, no galaxy.yml, so `ansible-galaxy
    collection build` refuses it), as a collection artifact `ansible-galaxy collection install`
    takes: the files present with a FILES.json listing those only (the PyPI package leaves out
    some files the original lists; install fails on a listed file missing from the tarball), each
    checked against its listed sha256, and MANIFEST.json's checksum of FILES.json to match. Written
    deterministically (no timestamps) so the image build's layer cache holds across builds."""
    files = json.loads((src / "FILES.json").read_text(encoding="utf-8"))
    manifest = json.loads((src / "MANIFEST.json").read_text(encoding="utf-8"))
    kept = []
    for entry in files["files"]:
        path = src / entry["name"]
        if entry["name"] == "." or (entry["ftype"] == "dir" and path.is_dir()):
            kept.append(entry)
        elif entry["ftype"] == "file" and path.is_file():
            if hashlib.sha256(path.read_bytes()).hexdigest() != entry["chksum_sha256"]:
                sys.exit(f"{path}: its sha256 differs from the one FILES.json lists")
            kept.append(entry)
    files["files"] = kept
    files_json = json.dumps(files, indent=4, sort_keys=True).encode()
    manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_json).hexdigest()
    manifest_json = json.dumps(manifest, indent=4, sort_keys=True).encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("MANIFEST.json", manifest_json), ("FILES.json", files_json)):
            tar.addfile(_tar_info(name, len(data)), io.BytesIO(data))
        for entry in kept:
            if entry["name"] == ".":
                continue
            path = src / entry["name"]
            if entry["ftype"] == "dir":
                info = _tar_info(entry["name"], 0, 0o755)
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                data = path.read_bytes()
                tar.addfile(_tar_info(entry["name"], len(data), 0o755 if os.access(path, os.X_OK) else 0o644), io.BytesIO(data))
    write_gzip(out, buffer.getvalue())


def write_gzip(out: Path, data: bytes) -> None:
    """data gzipped with no name and no timestamp in the header: the same bytes every time."""
    with out.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(data)


def build_collection(out: Path, log_file: Path) -> Path:
    """`ansible-galaxy collection build` of the checkout into out, gzipped again without a
    timestamp (the tar inside is the same while the files are)."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("vextrus-deploy-*.tar.gz"):
        old.unlink()
    run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", str(ROOT), "--output-path", str(out), "--force"], log_file)
    tarballs = sorted(out.glob("vextrus-deploy-*.tar.gz"))
    if len(tarballs) != 1:
        sys.exit(f"ansible-galaxy collection build left {len(tarballs)} tarballs in {out}")
    with gzip.open(tarballs[0]) as packed:
        write_gzip(tarballs[0], packed.read())
    return tarballs[0]


# ------------------------------------------------------------- definition ---


def derive(out: Path, deps: list[Path]) -> Path:
    """out/awx: a copy of the checkout's awx/ with the local execution-environment.yml (see the
    module's docstring); the dependency tarballs are expected in out/.local/ee/deps."""
    shutil.rmtree(out / "awx", ignore_errors=True)
    shutil.copytree(ROOT / "awx", out / "awx", ignore=shutil.ignore_patterns("__pycache__"))
    definition = yaml.safe_load(DEFINITION.read_text(encoding="utf-8"))
    options = definition.setdefault("options", {})
    options["skip_pip_install"] = True
    options["package_manager_path"] = PKGMGR
    definition["dependencies"]["galaxy"] = {
        "collections": [{"name": f"collections/{tarball.name}", "type": "file"} for tarball in deps]
    }
    definition.setdefault("additional_build_files", []).append(
        {"src": f"../.local/ee/{DEPS_DIR}/*.tar.gz", "dest": "collections"}
    )
    derived = out / "awx" / "execution-environment.yml"
    derived.write_text(
        f"# Derived by awx/ee/local.py from {DEFINITION.relative_to(ROOT)} for the local build (Debian\n"
        "# python base, collections from local tarballs, no Galaxy). Do not edit: it is written again.\n"
        + yaml.safe_dump(definition, sort_keys=False, width=110),
        encoding="utf-8",
    )
    return derived


# ------------------------------------------------------------------ build ---


def pushed_digest(tag: str) -> str:
    repository = tag.rsplit(":", 1)[0]
    inspect = subprocess.run(["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", tag],
                             capture_output=True, text=True, check=True)
    digests = [d for d in json.loads(inspect.stdout) or [] if d.startswith(f"{repository}@sha256:")]
    if not digests:
        sys.exit(f"no digest of {repository} after pushing {tag}")
    return digests[0]


def main() -> None:
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["version"]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--tag", default=f"{REGISTRY}/vextrus/deploy-ee:{version}", help="the image reference to build and push")
    parser.add_argument("--out", type=Path, default=ROOT / ".local" / "ee" / "local", help="the build directory")
    parser.add_argument("--base", default=PYTHON_BASE, help="EE_BASE_IMAGE (made by base-image.sh --python when it is the default)")
    parser.add_argument("--no-push", action="store_true", help="build only")
    args = parser.parse_args()
    started = time.monotonic()
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log_file = out / "build.log"
    log_file.write_text("", encoding="utf-8")

    if args.base == PYTHON_BASE:
        log(f"python base {PYTHON_BASE} (localcluster/infra/base-image.sh --python)")
        run(["bash", str(ROOT / "localcluster" / "infra" / "base-image.sh"), "--python"])

    site = venv_collections()
    collections = dependency_closure(site)
    deps_dir = out / ".local" / "ee" / DEPS_DIR
    shutil.rmtree(deps_dir, ignore_errors=True)
    deps_dir.mkdir(parents=True)
    deps = []
    for fqcn, coll_version in sorted(collections.items()):
        namespace, name = fqcn.split(".")
        tarball = deps_dir / f"{namespace}-{name}-{coll_version}.tar.gz"
        repack(site / namespace / name, tarball)
        deps.append(tarball)
    own = build_collection(out / ".local" / "ee", log_file)
    log(f"collections: {own.name}, {', '.join(t.name for t in deps)}")

    derived = derive(out, deps)
    context = out / "context"
    shutil.rmtree(context, ignore_errors=True)
    log(f"ansible-builder build {derived.relative_to(out)} -> {args.tag} (output in {log_file})")
    # --cpu-shares=2: the lowest CPU weight for the build's containers (nice does not reach them).
    run([str(VENV_BIN / "ansible-builder"), "build", "-f", str(derived), "-c", str(context), "-t", args.tag,
         "--container-runtime", "docker", "-v", "2",
         "--build-arg", f"EE_BASE_IMAGE={args.base}",
         "--build-arg", "ANSIBLE_GALAXY_CLI_COLLECTION_OPTS=--offline",
         "--extra-build-cli-args=--cpu-shares=2"], log_file, cwd=out)
    result: dict[str, Any] = {
        "image": args.tag,
        "base": args.base,
        "collections": {f"{own.name.split('-')[0]}.{own.name.split('-')[1]}": version, **collections},
        "build_dir": str(out),
    }
    if not args.no_push:
        run(["docker", "push", args.tag], log_file)
        result["digest"] = pushed_digest(args.tag)
    result["seconds"] = round(time.monotonic() - started, 1)
    log(f"{args.tag} built{' and pushed' if not args.no_push else ''} in {result['seconds']} s")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
