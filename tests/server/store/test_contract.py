"""The Store's lifecycle and failure mapping, run against every adapter (see conftest.py).

Each role port has its own suite: ``test_directory_contract``, ``test_conversations_contract``,
``test_messages_contract``, ``test_service_contract`` (tickets, profiles, knowledge),
``test_member_queries``, ``test_safety_contract``, ``test_recall_contract``."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from pymongo.uri_parser import parse_uri

from parley.server.ports import Store, StoreUnavailable
from parley.server.store import open_store
from parley.server.store.mongo import MongoStore
from parley.server.store.mongo_docs import MESSAGES, from_new_message
from parley.server.store.sqlite import SQLiteStore
from tests.server.store.contract_data import APP, conv, member, msg, seqs
from tests.servers import free_port

# lifecycle ---------------------------------------------------------------


async def test_open_is_idempotent_and_ping(store: Store) -> None:
    await store.open()
    await store.ping()


def test_open_store_picks_the_adapter(tmp_path) -> None:
    path = str(tmp_path / "x.db")
    assert isinstance(open_store(None, sqlite_path=path), SQLiteStore)
    assert isinstance(open_store("sqlite:///ignored", sqlite_path=path), SQLiteStore)
    assert isinstance(open_store("mongodb://127.0.0.1:1/", sqlite_path=path), MongoStore)
    assert isinstance(open_store("mongodb+srv://example.invalid/", sqlite_path=path), MongoStore)


# failures ------------------------------------------------------------------


async def test_sqlite_lock_timeout_is_unavailable(tmp_path) -> None:
    path = str(tmp_path / "locked.db")
    store = SQLiteStore(path, busy_timeout=0.05)
    await store.open()
    await store.create_conversation(conv(), [member("alice")])
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreUnavailable):
            await store.append([msg("a")])
        blocker.execute("ROLLBACK")
        (out,) = await store.append([msg("a")])
        assert out.message.seq == 1
    finally:
        blocker.close()
        await store.close()


@pytest.mark.mongo
async def test_mongo_unreachable_is_unavailable(mongo_db: str) -> None:
    store = MongoStore(
        f"mongodb://127.0.0.1:{free_port()}/?directConnection=true", mongo_db, server_selection_timeout_ms=200
    )
    with pytest.raises(StoreUnavailable):
        await store.open()
    with pytest.raises(RuntimeError):
        await store.ping()  # never opened


class _Proxy:
    """A TCP relay that can cut every connection, to lose a server the test shares."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.tasks: set[asyncio.Task[None]] = set()
        self.writers: list[asyncio.StreamWriter] = []
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.writers += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.create_task(self._pipe(src, dst))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    @staticmethod
    async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(65536):
                dst.write(data)
                await dst.drain()
        except ConnectionError:
            pass
        finally:
            dst.close()

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for w in self.writers:
            w.close()
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.server.wait_closed()


@pytest.mark.mongo
async def test_mongo_lost_server_is_unavailable(mongo_url: str, mongo_db: str) -> None:
    nodes = parse_uri(mongo_url)["nodelist"]
    if len(nodes) != 1:
        pytest.skip("needs a single-host MONGO_URL to relay")
    proxy = _Proxy(*nodes[0])
    await proxy.start()
    store = MongoStore(
        f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true", mongo_db, server_selection_timeout_ms=300
    )
    try:
        await store.open()
        await store.ping()
        await proxy.stop()
        with pytest.raises(StoreUnavailable):
            await store.ping()
        with pytest.raises(StoreUnavailable):
            await store.append([msg("a")])
        with pytest.raises(StoreUnavailable):
            await store.get_conversation(APP, "c1")
    finally:
        await store.close()


@pytest.mark.mongo
async def test_mongo_resend_repairs_a_crashed_append(mongo_url: str, mongo_db: str) -> None:
    """A process that died between inserting and raising ``last_seq`` leaves no gap behind."""
    store = MongoStore(mongo_url, mongo_db)
    await store.open()
    try:
        await store.create_conversation(conv(), [member("alice")])
        crashed = [msg(f"k{i}") for i in range(3)]
        # What the dead process managed to write: the messages, not the conversation's last_seq.
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
        await client[mongo_db][MESSAGES].insert_many(
            [from_new_message(m, i + 1) for i, m in enumerate(crashed)]
        )
        await client.close()
        lagging = await store.get_conversation(APP, "c1")
        assert lagging is not None and lagging.last_seq == 0

        out = await store.append([*crashed, msg("new")])  # the client's resend, plus a new message
        assert [(r.message.seq, r.duplicate) for r in out] == [(1, True), (2, True), (3, True), (4, False)]
        repaired = await store.get_conversation(APP, "c1")
        assert repaired is not None and repaired.last_seq == 4
        assert await seqs(store) == [1, 2, 3, 4]
    finally:
        await store.close()


async def test_sqlite_unopenable_path_is_unavailable(tmp_path) -> None:
    store = SQLiteStore(str(tmp_path / "missing-dir" / "x.db"))
    with pytest.raises(StoreUnavailable):
        await store.open()
    with pytest.raises(RuntimeError):
        await store.ping()  # a failed open leaves the store closed
