"""Fixtures for tests against the real local Docker engine and registry.

Nothing is mocked: the session fixture runs localcluster/infra/up.sh (idempotent,
seconds when everything is cached) and the tests drive the real `docker` CLI and
the registry's HTTP API on 127.0.0.1:5000.
"""

from __future__ import annotations

import pytest

from clusterkit import run
from infrakit import INFRA, DockerRunner, run_docker


@pytest.fixture(scope="session")
def infra_up() -> None:
    """Docker engine, registry and base images, via the idempotent up.sh."""
    proc = run(["bash", str(INFRA / "up.sh")], timeout=1800, check=False)
    if proc.returncode != 0:
        pytest.fail(f"localcluster/infra/up.sh failed ({proc.returncode}):\n{proc.stderr[-4000:]}")


@pytest.fixture(scope="session")
def docker(infra_up: None) -> DockerRunner:
    """The docker CLI runner, once the infrastructure is up."""
    return run_docker
