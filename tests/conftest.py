"""Shared fixtures: real redis-server and MongoDB wire server on free loopback ports."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.leftovers import become_subreaper, descendants, reap, stop_all
from tests.servers import RedisServer, mongo_server, redis_server

# The machines are shared and noisy: generation speed and per-example time are
# not what the property tests are about. The default profile is derandomised: the same
# examples on every run, so CI's verdict never depends on which random inputs a run drew.
# `HYPOTHESIS_PROFILE=explore` draws fresh ones (and more of them) to look for new bugs;
# whatever it finds is pinned with @example in the test.
_QUIET = [HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile("parley", deadline=None, suppress_health_check=_QUIET, derandomize=True)
settings.register_profile("explore", deadline=None, suppress_health_check=_QUIET, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "parley"))


@pytest.fixture(scope="session")
def redis_srv() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(redis_srv: RedisServer) -> str:
    return redis_srv.url


@pytest.fixture(scope="session")
def mongo_url() -> Iterator[str]:
    with mongo_server() as url:
        yield url


@pytest.fixture
def mongo_db() -> str:
    """A fresh database name per test, so tests never see each other's data."""
    return f"parley_test_{uuid.uuid4().hex[:12]}"


def pytest_configure(config: pytest.Config) -> None:
    """Orphans of the run (a wrapper that forked and died) stay ours, so the end check sees them."""
    become_subreaper()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if a process it started is still alive once every fixture is torn down.

    ``trylast``: pytest's runner tears the session-scoped fixtures (Redis, the Mongo wire
    server) down in its own ``pytest_sessionfinish``; this runs after it. The leftovers are
    stopped too, so a failed run leaves nothing behind either.
    """
    reap()
    leftovers = descendants()
    if not leftovers:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    lines = ["processes started by the test run were still running at its end:"]
    lines += [f"  {proc}" for proc in leftovers]
    if reporter is not None:
        for line in lines:
            reporter.write_line(line, red=True)
    stop_all(leftovers)
    session.exitstatus = pytest.ExitCode.TESTS_FAILED
