"""Shared fixtures: real redis-server and MongoDB wire server on free loopback ports."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.servers import RedisServer, mongo_server, redis_server

# The machines are shared and noisy: generation speed and per-example time are
# not what the property tests are about.
settings.register_profile(
    "parley", deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
settings.load_profile("parley")


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
