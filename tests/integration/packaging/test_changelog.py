"""Release notes with antsibull-changelog: the fragments in changelogs/fragments/ lint clean and a
release made of them (on a copy of changelogs/ and galaxy.yml) puts every fragment's text into
CHANGELOG.rst; the CHANGELOG.rst of the checkout is what `make changelog` generates from the
committed changelogs/changelog.yaml."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from packkit import BIN, ROOT, ansible_env, filter_docs, galaxy, run

CHANGELOGS = ROOT / "changelogs"
FRAGMENTS = CHANGELOGS / "fragments"


def _fragments() -> dict[str, dict[str, Any]]:
    return {p.name: yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(FRAGMENTS.glob("*.yml"))}


def _section_names() -> set[str]:
    """The sections CHANGELOG.rst shows (config.yaml's sections and the release summary)."""
    config = yaml.safe_load((CHANGELOGS / "config.yaml").read_text(encoding="utf-8"))
    return {name for name, _ in config["sections"]} | {config["prelude_section_name"]}


def _flat(text: str) -> str:
    return " ".join(text.split())


def _copy(dest: Path, fragments: bool) -> Path:
    """changelogs/ (config, changelog.yaml and, when asked, the fragments), galaxy.yml and plugins/
    (for the release's list of new plugins) in dest."""
    (dest / "changelogs" / "fragments").mkdir(parents=True)
    for name in ("config.yaml", "changelog.yaml"):
        shutil.copy2(CHANGELOGS / name, dest / "changelogs" / name)
    if fragments:
        for path in FRAGMENTS.glob("*.yml"):
            shutil.copy2(path, dest / "changelogs" / "fragments" / path.name)
    shutil.copy2(ROOT / "galaxy.yml", dest / "galaxy.yml")
    shutil.copytree(ROOT / "plugins", dest / "plugins", ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def _released() -> dict[str, Any]:
    releases: dict[str, Any] = yaml.safe_load((CHANGELOGS / "changelog.yaml").read_text(encoding="utf-8"))["releases"]
    return releases


def _next_version() -> str:
    """galaxy.yml's version while it is not released yet, else the minor release after it."""
    version = str(galaxy()["version"])
    if version not in _released():
        return version
    major, minor, _ = (int(part) for part in version.split("."))
    return f"{major}.{minor + 1}.0"


def test_issue_7_has_fragments() -> None:
    names = set(_fragments())
    assert {"7-release-record.yml", "7-promotion-guard.yml", "7-status-abort-rollback.yml", "7-awx.yml", "7-packaging-tests.yml"} <= names, names


def test_release_puts_every_fragment_into_the_changelog(tmp_path: Path) -> None:
    work = _copy(tmp_path, fragments=True)
    # the release lists new plugins through ansible-doc: a config file and collections path of
    # the test's own, so nothing of the checkout's ansible.cfg is read
    (tmp_path / "ansible.cfg").write_text("[defaults]\n", encoding="utf-8")
    env = ansible_env(tmp_path / "no-collections", tmp_path / "ansible.cfg")
    lint = run([str(BIN / "antsibull-changelog"), "lint"], cwd=work, env=env)
    assert lint.rc == 0 and not lint.output.strip(), lint.tail()

    version = _next_version()
    release = run(
        [str(BIN / "antsibull-changelog"), "release", "--version", version, "--date", "2026-12-01"], cwd=work, env=env
    )
    assert release.rc == 0, release.tail()
    changelog = (work / "CHANGELOG.rst").read_text(encoding="utf-8")
    assert f"\nv{version}\n" in changelog and "\nv0.1.0\n" in changelog, changelog[:1500]
    flat = _flat(changelog)
    shown = _section_names()
    entries = 0
    for name, fragment in _fragments().items():
        for section, items in fragment.items():
            if section not in shown:
                continue
            for item in [items] if isinstance(items, str) else items:
                entries += 1
                assert _flat(item) in flat, f"{name} ({section}) is not in the released CHANGELOG.rst: {item}"
    assert entries >= 5, entries
    # filters documented since the last release are listed as new plugins of this one
    known = {p["name"] for r in _released().values() for p in r.get("plugins", {}).get("filter", [])}
    for path in sorted((ROOT / "plugins" / "filter").glob("*.yml")):
        name, short = filter_docs(path)
        if name not in known:
            # reStructuredText escapes some characters of the description (HMAC\\-SHA256)
            assert f"vextrus.deploy.{name} - {short}" in changelog.replace("\\-", "-"), f"new filter {name} is not in the release notes"

    # the release consumed the fragments (keep_fragments: false) and recorded them under the version
    record = yaml.safe_load((work / "changelogs" / "changelog.yaml").read_text(encoding="utf-8"))
    assert sorted(record["releases"][version]["fragments"]) == sorted(_fragments()), record["releases"][version]
    assert not list((work / "changelogs" / "fragments").glob("*.yml"))


def test_changelog_rst_is_generated_from_changelog_yaml(tmp_path: Path) -> None:
    """What `make changelog` does (lint, generate, format.py), on a copy without the unreleased
    fragments, reproduces the checkout's CHANGELOG.rst and changelog.yaml byte for byte."""
    committed = ROOT / "CHANGELOG.rst"
    assert committed.is_file(), f"{committed} is missing: run `make changelog`"
    work = _copy(tmp_path, fragments=False)
    generate = run([str(BIN / "antsibull-changelog"), "generate"], cwd=work)
    assert generate.rc == 0, generate.tail()
    formatted = run(
        [str(BIN / "python"), str(CHANGELOGS / "format.py"), "changelogs/changelog.yaml", "changelogs/config.yaml"],
        cwd=work,
    )
    assert formatted.rc == 0, formatted.tail()
    assert (work / "CHANGELOG.rst").read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")
    for name in ("changelog.yaml", "config.yaml"):
        assert (work / "changelogs" / name).read_text(encoding="utf-8") == (CHANGELOGS / name).read_text(
            encoding="utf-8"
        ), f"changelogs/{name} is not in the form `make changelog` writes"
