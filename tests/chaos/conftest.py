"""Chaos fixtures: several real gateway processes, real Redis, the Mongo wire server, a TCP LB."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from parley.server.ports import Store
from parley.server.services.apps import AppService
from parley.server.store import open_store
from tests.chaos.cluster import Cluster
from tests.chaos.procs import MongoProcess
from tests.servers import RedisServer


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "chaos: multi-process fault-injection tests (slow)")


class MongoHandle:
    """The store server: our own SecantusDB process (pausable), or ``$MONGO_URL``."""

    def __init__(self, url: str, proc: MongoProcess | None) -> None:
        self.url = url
        self.proc = proc


@pytest.fixture(scope="session")
def chaos_mongo() -> Iterator[MongoHandle]:
    if os.environ.get("MONGO_URL"):
        yield MongoHandle(os.environ["MONGO_URL"], None)
        return
    proc = MongoProcess(Path(tempfile.mkdtemp(prefix="parley-chaos-mongo-")))
    proc.start()
    try:
        yield MongoHandle(proc.url, proc)
    finally:
        proc.stop()


@pytest.fixture
def chaos_redis() -> Iterator[RedisServer]:
    """A Redis of this test's own: scenarios restart it."""
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def chaos_store(chaos_mongo: MongoHandle) -> AsyncIterator[tuple[Store, str]]:
    database = f"parley_chaos_{uuid.uuid4().hex[:10]}"
    # The observer's reads are not under test: a generous per-operation deadline keeps a slow,
    # shared machine (SecantusDB beside a recovering node) from deciding the verdict.
    store = open_store(chaos_mongo.url, sqlite_path="", mongo_database=database, timeout=30.0)
    await store.open()
    try:
        yield store, database
    finally:
        await store.close()


@pytest.fixture
async def cluster(
    chaos_mongo: MongoHandle, chaos_redis: RedisServer, chaos_store: tuple[Store, str], tmp_path: Path
) -> AsyncIterator[Cluster]:
    store, database = chaos_store
    app = (await AppService(store, audience="parley").create_app("chaos")).app
    running = Cluster(
        app=app, store=store, redis=chaos_redis, mongo_url=chaos_mongo.url, mongo_proc=chaos_mongo.proc,
        database=database, log_dir=tmp_path,
    )  # fmt: skip
    try:
        yield running
    finally:
        await running.close()
