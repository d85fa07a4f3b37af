"""Store fixtures: every contract test runs once per adapter (SQLite file, SecantusDB/MongoDB)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from pymongo import AsyncMongoClient

from parley.server.ports import Store
from parley.server.store.mongo import MongoStore
from parley.server.store.sqlite import SQLiteStore

MakeStore = Callable[[], Awaitable[Store]]


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def make_store(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[MakeStore]:
    """Open a new store instance on the test's one backing database (call it twice for two "processes")."""
    opened: list[Store] = []
    if request.param == "sqlite":
        path = str(tmp_path / "parley.db")

        def factory() -> Store:
            return SQLiteStore(path)
    else:
        # Looked up lazily so that SQLite-only runs never start the Mongo server.
        url: str = request.getfixturevalue("mongo_url")
        database: str = request.getfixturevalue("mongo_db")

        def factory() -> Store:
            return MongoStore(url, database)

    async def make() -> Store:
        store = factory()
        await store.open()
        opened.append(store)
        return store

    yield make
    for store in opened:
        await store.close()
    if request.param == "mongo":
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(url)
        await client.drop_database(database)
        await client.close()


@pytest.fixture
async def store(make_store: MakeStore) -> Store:
    return await make_store()
