"""Settings of every pytest session under tests/, for parallel sessions (pytest-xdist, as
tests/pytest.sh runs them: `-n 2 --dist loadfile`); docs/testing.md explains them.

- One VEXTRUS_TEST_RUN for the whole session, set here before xdist starts its workers, so that
  they all push to one registry repository (tests/integration/clusterkit.py).
- Work units: the tests of one file run on one worker (module fixtures are made once), and the
  tests of each directory in ONE_WORKER_DIRECTORIES too (session fixtures too costly to make once
  per worker). pytest-xdist's own `--dist loadgroup` cannot group by marker under pytest 9 (it
  renames node ids, which pytest 9 no longer allows), so the rule goes by path, here.
- The tests of NOCLUSTER_DIRECTORIES are marked nocluster: they need neither the cluster nor the
  real node, and tests/pytest.sh runs them beside the serial pass, whose tests leave a core idle.
- Order in a worker's collection, which is the order the work units are handed out in: first
  the units that run for minutes as a whole (a directory unit, the files directly in
  tests/integration such as the molecule scenarios), then the other integration tests, then the
  rest (unit tests, seconds each, to fill the end).
"""

import os
import uuid
from pathlib import Path

import pytest
from xdist.remote import Producer
from xdist.scheduler import LoadScopeScheduling

TESTS = Path(__file__).resolve().parent
INTEGRATION = TESTS / "integration"
# Directories (under tests/) whose tests share one worker.
ONE_WORKER_DIRECTORIES = ("integration/packaging",)
# Directories (under tests/) whose tests need neither the cluster nor the real node (the Docker engine
# and the registry at most): marked nocluster, run beside the serial pass (tests/pytest.sh).
NOCLUSTER_DIRECTORIES = ("unit", "awx", "integration/image_build", "integration/alert_rules")


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("VEXTRUS_TEST_RUN", uuid.uuid4().hex[:10])
    config.addinivalue_line(
        "markers",
        "nocluster: needs neither the Kubernetes cluster nor the real node (tests/pytest.sh runs these "
        "beside the serial pass; set by directory, NOCLUSTER_DIRECTORIES)",
    )


def pytest_itemcollected(item: pytest.Item) -> None:
    """Marks the tests of NOCLUSTER_DIRECTORIES nocluster."""
    path = Path(item.path).resolve()
    if any(path.is_relative_to(TESTS / name) for name in NOCLUSTER_DIRECTORIES):
        item.add_marker(pytest.mark.nocluster)


def work_unit(rootpath: Path, nodeid: str) -> str:
    """The work unit of a test: its file, or the directory of ONE_WORKER_DIRECTORIES it is in."""
    path = nodeid.split("::", 1)[0]
    full = (rootpath / path).resolve()
    return next((name for name in ONE_WORKER_DIRECTORIES if full.is_relative_to(TESTS / name)), path)


class FileScheduling(LoadScopeScheduling):
    """`--dist loadfile`, with each directory of ONE_WORKER_DIRECTORIES as one file."""

    def _split_scope(self, nodeid: str) -> str:
        return work_unit(self.config.rootpath, nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadScopeScheduling | None:
    if config.getvalue("dist") == "loadfile":
        return FileScheduling(config, log)
    return None


def _order(rootpath: Path, item: pytest.Item) -> int:
    full = Path(item.path).resolve()
    if not full.is_relative_to(INTEGRATION):
        return 2
    path = item.nodeid.split("::", 1)[0]
    return 0 if full.parent == INTEGRATION or work_unit(rootpath, item.nodeid) != path else 1


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if hasattr(config, "workerinput"):
        items.sort(key=lambda item: _order(config.rootpath, item))
