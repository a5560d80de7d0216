"""`ansible-galaxy collection build` makes vextrus-deploy-<version>.tar.gz of exactly the collection's
source files (galaxy.yml's build_ignore applied, no local state of the checkout), and
`ansible-galaxy collection install` lays it out in an empty collections path with its manifest."""

from __future__ import annotations

import json

from packkit import (
    NAME,
    NAMESPACE,
    REQUIRED_PATHS,
    BuiltCollection,
    InstalledCollection,
    galaxy,
    ignored_by_build,
    shipped_files,
    tarball_files,
    tarball_name,
)

# Files ansible-galaxy writes into every tarball.
GENERATED = {"MANIFEST.json", "FILES.json"}


def test_build_makes_the_tarball_of_the_source_files(built_collection: BuiltCollection) -> None:
    assert built_collection.tarball.name == tarball_name() == f"vextrus-deploy-{galaxy()['version']}.tar.gz"
    files = tarball_files(built_collection.tarball)

    assert GENERATED <= files, sorted(files)
    for required in REQUIRED_PATHS:
        assert any(f == required or f.startswith(f"{required}/") for f in files), f"{required} missing from the tarball"
    assert any(f.startswith("plugins/modules/") for f in files)
    assert any(f.startswith("roles/") and f.endswith("/tasks/main.yml") for f in files)
    assert "playbooks/week1.yml" in files

    ignored = sorted(f for f in files if ignored_by_build(f))
    assert not ignored, f"files under galaxy.yml build_ignore in the tarball: {ignored[:20]}"
    for left_out in ("localcluster/", "tests/integration/", "examples/", ".local/", "molecule/", "bench/", ".git/"):
        assert not [f for f in files if f.startswith(left_out)], f"{left_out} is in the tarball"

    # Nothing but source files: local state of a working tree (caches, generated files that git
    # ignores) must not ride along, or a tarball built from a fresh clone would differ.
    expected = shipped_files()
    extra = sorted(files - GENERATED - expected)
    missing = sorted(expected - files)
    extra_tops = sorted({f.split("/")[0] for f in extra})
    assert not extra, (
        f"the tarball carries {len(extra)} files that are not source files of the collection "
        f"(top-level: {extra_tops}; add them to galaxy.yml build_ignore, or track them): {extra[:15]}"
    )
    assert not missing, f"source files missing from the tarball: {missing[:20]}"


def test_install_lays_out_the_collection_with_its_manifest(
    built_collection: BuiltCollection, installed_collection: InstalledCollection
) -> None:
    root = installed_collection.root
    version = galaxy()["version"]
    assert f"{NAMESPACE}.{NAME}:{version} was installed successfully" in installed_collection.install.output, (
        installed_collection.install.tail()
    )
    # the empty collections path now holds this one collection and nothing else
    tops = sorted(p.name for p in (installed_collection.collections_path / "ansible_collections").iterdir())
    assert tops == [NAMESPACE], tops

    manifest = json.loads((root / "MANIFEST.json").read_text(encoding="utf-8"))
    info = manifest["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (NAMESPACE, NAME, version)
    assert info["dependencies"] == galaxy()["dependencies"]

    listed = json.loads((root / "FILES.json").read_text(encoding="utf-8"))["files"]
    listed_files = {f["name"] for f in listed if f["ftype"] == "file"}
    assert listed_files == tarball_files(built_collection.tarball) - {"MANIFEST.json", "FILES.json"}
    for name in sorted(listed_files):
        assert (root / name).is_file(), f"{name} is in FILES.json but not installed"
    for required in REQUIRED_PATHS:
        assert (root / required).exists(), required
