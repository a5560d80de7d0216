# Copyright: (c) 2026, vextrus platform engineering
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write a run's report files (one stem, one file per suffix) on the controller, in one step.

Reports quote logs and messages, so they are readable by their owner only: each file is written
0600 through a temporary file in the same directory and renamed into place (no reader sees half a
report, and the content is never readable by others on the way); a directory that does not exist
is created 0700, one that exists keeps its mode.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping

FILE_MODE = 0o600
DIR_MODE = 0o700
_SUFFIX = re.compile(r"^[A-Za-z0-9]+$")


class ReportFilesError(ValueError):
    """The directory, the stem or a suffix cannot name report files."""


def report_paths(directory: str, stem: str, suffixes: list[str]) -> dict[str, str]:
    """``{suffix: <directory>/<stem>.<suffix>}``; the directory must be absolute, the stem a file name."""
    if not directory or not os.path.isabs(directory):
        raise ReportFilesError(f"the report directory must be an absolute path, got {directory!r}")
    if not stem or "/" in stem or stem in (".", ".."):
        raise ReportFilesError(f"the report stem must be a file name without '/', got {stem!r}")
    if not suffixes:
        raise ReportFilesError("no report file to write")
    for suffix in suffixes:
        if not isinstance(suffix, str) or not _SUFFIX.match(suffix):
            raise ReportFilesError(f"a report file suffix must be letters and digits, got {suffix!r}")
    return {suffix: os.path.join(directory, f"{stem}.{suffix}") for suffix in suffixes}


def ensure_directory(directory: str) -> bool:
    """Create ``directory`` (and its parents) when missing, the directory itself 0700; True if created."""
    if os.path.isdir(directory):
        return False
    parent = os.path.dirname(directory.rstrip("/"))
    if parent:
        os.makedirs(parent, exist_ok=True)
    os.mkdir(directory, DIR_MODE)
    os.chmod(directory, DIR_MODE)  # the umask may have taken bits away
    return True


def _write(path: str, content: str) -> None:
    directory, name = os.path.split(path)
    handle, temporary = tempfile.mkstemp(prefix=f".{name}.", dir=directory)  # created 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(content)
        os.chmod(temporary, FILE_MODE)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def write_report_files(directory: str, stem: str, files: Mapping[str, str], write: bool = True) -> dict[str, str]:
    """Write each ``files[suffix]`` to ``<directory>/<stem>.<suffix>`` (0600, the directory 0700 when
    created) and return the paths by suffix; with ``write`` false only the paths (check mode)."""
    if not isinstance(files, Mapping):
        raise ReportFilesError(f"files must map a suffix to its content, got {type(files).__name__}")
    paths = report_paths(directory, stem, list(files))
    for suffix, content in files.items():
        if not isinstance(content, str):
            raise ReportFilesError(f"the content of the .{suffix} report must be text, got {type(content).__name__}")
    if write:
        ensure_directory(directory)
        for suffix, content in files.items():
            _write(paths[suffix], content)
    return paths
