"""A report's files in one step: 0600 files, a 0700 directory when created, paths by suffix."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.vextrus.deploy.plugins.module_utils.report_files import (
    ReportFilesError,
    report_paths,
    write_report_files,
)

FILES = {"json": '{"verdict": "PASS"}\n', "md": "# finance-service - local week 2: **PASS**\n"}


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("existing", [None, 0o755, 0o700], ids=["created", "existing-0755", "existing-0700"])
def test_writes_every_file_0600_and_a_directory_it_creates_0700(tmp_path, existing):
    directory = tmp_path / "deep" / "reports"
    if existing is not None:
        directory.mkdir(parents=True)
        directory.chmod(existing)
    old_umask = os.umask(0o077 if existing is None else 0o022)
    try:
        paths = write_report_files(str(directory), "local-week2-20261203T101500Z", FILES)
    finally:
        os.umask(old_umask)
    assert paths == {suffix: str(directory / f"local-week2-20261203T101500Z.{suffix}") for suffix in FILES}
    for suffix, content in FILES.items():
        assert open(paths[suffix], encoding="utf-8").read() == content
        assert mode(paths[suffix]) == 0o600
    assert mode(directory) == (0o700 if existing is None else existing)
    assert sorted(p.name for p in directory.iterdir()) == sorted(os.path.basename(p) for p in paths.values())


def test_an_existing_file_is_replaced_and_made_0600(tmp_path):
    path = tmp_path / "r.json"
    path.write_text("old")
    path.chmod(0o644)
    write_report_files(str(tmp_path), "r", {"json": "new"})
    assert path.read_text() == "new" and mode(path) == 0o600


def test_check_mode_writes_nothing(tmp_path):
    directory = tmp_path / "reports"
    paths = write_report_files(str(directory), "r", FILES, write=False)
    assert paths["md"] == str(directory / "r.md")
    assert not directory.exists()


@pytest.mark.parametrize(
    ("directory", "stem", "suffixes", "message"),
    [
        ("reports", "r", ["json"], "absolute path"),
        ("", "r", ["json"], "absolute path"),
        ("/tmp", "", ["json"], "file name"),
        ("/tmp", "a/b", ["json"], "file name"),
        ("/tmp", "..", ["json"], "file name"),
        ("/tmp", "r", [], "no report file"),
        ("/tmp", "r", ["j.son"], "letters and digits"),
        ("/tmp", "r", ["../x"], "letters and digits"),
    ],
)
def test_report_paths_errors(directory, stem, suffixes, message):
    with pytest.raises(ReportFilesError, match=message):
        report_paths(directory, stem, suffixes)


@pytest.mark.parametrize(
    ("files", "message"),
    [(["json"], "must map a suffix"), ({"json": {"verdict": "PASS"}}, "must be text")],
)
def test_write_report_files_errors(tmp_path, files, message):
    with pytest.raises(ReportFilesError, match=message):
        write_report_files(str(tmp_path / "reports"), "r", files)
    assert not (tmp_path / "reports").exists()


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        write_report_files(str(tmp_path), "r", {"json": "{}"})
    assert list(tmp_path.iterdir()) == []
