"""SQLite-only settings that the contract suite cannot see."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from parley.server.models import App, Conversation, Member, NewMessage
from parley.server.store.sqlite import CHECKPOINT_INTERVAL, WAL_CHECKPOINT_PAGES, SQLiteStore


async def test_wal_mode_with_rare_checkpoints_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    store = SQLiteStore(str(path))
    await store.open()
    await store.create_app(App(app="app_sqlite", name="shop", secret="s" * 32, created=1))
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    reopened = SQLiteStore(str(path))
    await reopened.open()
    try:
        pages = await reopened._run(lambda db: db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        assert pages == WAL_CHECKPOINT_PAGES > 1000
        assert await reopened.get_app("app_sqlite") is not None, "what was written is still there"
    finally:
        await reopened.close()


async def test_a_background_connection_checkpoints_the_wal_while_writes_go_on(tmp_path: Path) -> None:
    path = tmp_path / "parley.db"
    store = SQLiteStore(str(path))
    await store.open()
    try:
        for i in range(20):
            await store.create_app(App(app=f"app_{i}", name="shop", secret="s" * 32, created=i))
        for _ in range(int(5 / CHECKPOINT_INTERVAL)):
            done = store.last_checkpoint
            if done is not None and done[1] == done[2] > 0:
                break
            await asyncio.sleep(CHECKPOINT_INTERVAL)
        assert store.checkpoints >= 1
        busy, frames, copied = store.last_checkpoint or (1, 0, 0)
        assert busy == 0 and frames == copied > 0, "every WAL frame was copied into the database"
        # Without the WAL, the database file alone already holds the writes.
        wal = path.with_name(path.name + "-wal").read_bytes()
        assert wal, "the WAL is still there (the writer has not reset it yet)"
        copy = tmp_path / "copy.db"
        copy.write_bytes(path.read_bytes())
        with sqlite3.connect(copy) as db:
            assert db.execute("SELECT count(*) FROM apps").fetchone()[0] == 20
        checkpoints = store.checkpoints
        await asyncio.sleep(3 * CHECKPOINT_INTERVAL)
        assert store.checkpoints == checkpoints, "no writes, no checkpoints"
    finally:
        await store.close()
    assert store.checkpoints == checkpoints, "closing stops the checkpointer"


async def test_an_in_memory_store_has_no_checkpointer() -> None:
    store = SQLiteStore(":memory:")
    await store.open()
    try:
        await store.create_app(App(app="app_mem", name="shop", secret="s" * 32, created=1))
        await asyncio.sleep(2 * CHECKPOINT_INTERVAL)
        assert store.checkpoints == 0 and store._checkpointer is None
    finally:
        await store.close()


async def test_two_stores_on_one_file_keep_seqs_dense_despite_the_seq_cache(tmp_path: Path) -> None:
    """Each store caches last seqs; a write by the other must invalidate that cache."""
    path = str(tmp_path / "parley.db")
    first, second = SQLiteStore(path), SQLiteStore(path)
    await first.open()
    await second.open()
    try:
        c = Conversation(
            app="app_s", conv="c1", kind="group", epoch="e", created=1, name="", meta={}, created_by="alice"
        )
        await first.create_conversation(
            c, [Member(app="app_s", conv="c1", user="alice", role="owner", joined=1)]
        )
        seqs = []
        for i in range(6):
            store = first if i % 3 else second
            batch = [_message(f"{i}-{j}") for j in range(2)]
            seqs += [r.message.seq for r in await store.append(batch)]
        assert seqs == list(range(1, 13))
        assert [m.seq for m in await second.get_messages("app_s", "c1", 1, 100)] == list(range(1, 13))
    finally:
        await first.close()
        await second.close()


async def test_a_failed_append_does_not_leave_a_stale_cached_seq(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "parley.db"))
    await store.open()
    try:
        assert [r.message.seq for r in await store.append([_message("a")])] == [1]
        bad = replace(_message("b"), body={"x": object()})  # cannot be packed: the batch rolls back
        with pytest.raises(TypeError):
            await store.append([_message("c"), bad])
        assert [r.message.seq for r in await store.append([_message("d")])] == [2]
    finally:
        await store.close()


def _message(cmid: str) -> NewMessage:
    return NewMessage(
        app="app_s",
        conv="c1",
        mid="m" + cmid,
        sender="alice",
        cmid=cmid,
        kind="text",
        body={"text": cmid},
        ts=1,
    )
