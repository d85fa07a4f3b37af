"""Shared fixtures: real redis-server and MongoDB wire server on free loopback ports."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.servers import RedisServer, mongo_server, redis_server


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
