"""SQLite-only settings that the contract suite cannot see."""

from __future__ import annotations

import asyncio
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from parley.server.models import App, Conversation, Member, NewMessage
from parley.server.store.sqlite import SQLiteStore
from parley.server.store.sqlite_schema import pack
from parley.server.store.sqlite_worker import CHECKPOINT_INTERVAL, CHECKPOINT_MESSAGES, WAL_CHECKPOINT_PAGES


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
        pages = await reopened.worker.run(lambda db: db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
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
        await store.create_conversation(_conversation(), [_alice()])
        for start in range(0, CHECKPOINT_MESSAGES, 250):  # enough appended to call for a checkpoint
            await store.append([_message(f"k{n}") for n in range(start, start + 250)])
        for _ in range(int(60 / CHECKPOINT_INTERVAL)):  # ends as soon as it happened
            done = store.worker.last_checkpoint
            if done is not None and done[1] == done[2] > 0:
                break
            await asyncio.sleep(CHECKPOINT_INTERVAL)
        assert store.worker.checkpoints >= 1
        busy, frames, copied = store.worker.last_checkpoint or (1, 0, 0)
        assert busy == 0 and frames == copied > 0, "every WAL frame was copied into the database"
        # Without the WAL, the database file alone already holds the writes.
        wal = path.with_name(path.name + "-wal").read_bytes()
        assert wal, "the WAL is still there (the writer has not reset it yet)"
        copy = tmp_path / "copy.db"
        copy.write_bytes(path.read_bytes())
        with sqlite3.connect(copy) as db:
            assert db.execute("SELECT count(*) FROM apps").fetchone()[0] == 20
        checkpoints = store.worker.checkpoints
        await asyncio.sleep(3 * CHECKPOINT_INTERVAL)
        assert store.worker.checkpoints == checkpoints, "no writes, no checkpoints"
    finally:
        await store.close()
    assert store.worker.checkpoints == checkpoints, "closing stops the checkpointer"


async def test_an_in_memory_store_has_no_checkpointer() -> None:
    store = SQLiteStore(":memory:")
    await store.open()
    try:
        await store.create_app(App(app="app_mem", name="shop", secret="s" * 32, created=1))
        await asyncio.sleep(2 * CHECKPOINT_INTERVAL)
        assert store.worker.checkpoints == 0 and store.worker.checkpointer is None
    finally:
        await store.close()


async def test_two_stores_on_one_file_keep_seqs_dense_despite_the_seq_cache(tmp_path: Path) -> None:
    """Each store caches last seqs; a write by the other must invalidate that cache."""
    path = str(tmp_path / "parley.db")
    first, second = SQLiteStore(path), SQLiteStore(path)
    await first.open()
    await second.open()
    try:
        await first.create_conversation(_conversation(), [_alice()])
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
        await store.create_conversation(_conversation(), [_alice()])
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


def _conversation() -> Conversation:
    return Conversation(app="app_s", conv="c1", kind="group", epoch="e", created=1, created_by="alice")


def _alice() -> Member:
    return Member(app="app_s", conv="c1", user="alice", role="owner", joined=1)


_OLD_SCHEMA = """
CREATE TABLE conversations (
    app TEXT NOT NULL, conv TEXT NOT NULL, kind TEXT NOT NULL, epoch TEXT NOT NULL,
    created INTEGER NOT NULL, name TEXT NOT NULL, meta BLOB NOT NULL, created_by TEXT NOT NULL,
    direct_key TEXT, last_seq INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (app, conv)
);
CREATE TABLE messages (
    app TEXT NOT NULL, conv TEXT NOT NULL, seq INTEGER NOT NULL, mid TEXT NOT NULL,
    sender TEXT NOT NULL, cmid TEXT NOT NULL, kind TEXT NOT NULL, body BLOB NOT NULL,
    ts INTEGER NOT NULL, mentions BLOB NOT NULL, edited INTEGER NOT NULL DEFAULT 0,
    recalled INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX messages_seq ON messages (app, conv, seq);
CREATE UNIQUE INDEX messages_cmid ON messages (app, conv, sender, cmid);
"""


async def test_a_database_from_before_message_log_is_migrated_on_open(tmp_path: Path) -> None:
    """Messages keyed by (app, conv) move to message_log, keyed by the conversation's ckey."""
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.executescript(_OLD_SCHEMA)
        for conv, last in (("c1", 2), ("c2", 1)):
            db.execute(
                "INSERT INTO conversations VALUES ('app_s', ?, 'group', 'e', 1, '', x'80', 'alice', NULL, ?)",
                (conv, last),
            )
        rows = [("c1", 1, "hello"), ("c1", 2, "again"), ("c2", 1, "other")]
        for conv, seq, text in rows:
            db.execute(
                "INSERT INTO messages VALUES ('app_s', ?, ?, ?, 'alice', ?, 'text', ?, 5, x'90', 0, 0)",
                (conv, seq, f"m{conv}{seq}", f"k{conv}{seq}", pack({"text": text})),
            )
    store = SQLiteStore(str(path))
    await store.open()
    try:
        got = await store.get_messages("app_s", "c1", 1, 10)
        assert [(m.seq, m.body["text"], m.cmid) for m in got] == [(1, "hello", "kc11"), (2, "again", "kc12")]
        assert [m.body["text"] for m in await store.get_messages("app_s", "c2", 1, 10)] == ["other"]
        (dup,) = await store.append([replace(_message("kc11"), conv="c1")])
        assert dup.duplicate and dup.message.seq == 1, "the cmid index came over too"
        (new,) = await store.append([replace(_message("fresh"), conv="c1")])
        assert new.message.seq == 3
        created = await store.create_conversation(
            replace(_conversation(), conv="c3"), [replace(_alice(), conv="c3")]
        )
        (first,) = await store.append([replace(_message("x"), conv=created.conv)])
        assert first.message.seq == 1, "a new conversation gets a fresh ckey"
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "messages" not in tables and "message_log" in tables
        keys = [r[0] for r in db.execute("SELECT ckey FROM conversations ORDER BY ckey")]
        assert keys == [1, 2, 3]


async def test_light_traffic_is_checkpointed_later_not_on_every_look(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "parley.db"))
    await store.open()
    try:
        await store.create_conversation(_conversation(), [_alice()])
        await store.append([_message("one")])
        await asyncio.sleep(3 * CHECKPOINT_INTERVAL)
        assert store.worker.checkpoints == 0, "a few writes wait for CHECKPOINT_MAX_AGE"
    finally:
        await store.close()


async def test_tickets_from_before_origin_get_an_empty_origin_on_open(tmp_path: Path) -> None:
    """The ``origin`` column (a case on the brand conversation) is added to an older tickets table."""
    path = tmp_path / "old-tickets.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE tickets (app TEXT NOT NULL, conv TEXT NOT NULL, customer TEXT NOT NULL, "
            "state TEXT NOT NULL, agent TEXT NOT NULL, reason TEXT NOT NULL, summary TEXT NOT NULL, "
            "notes_conv TEXT NOT NULL, score INTEGER NOT NULL, created INTEGER NOT NULL, "
            "updated INTEGER NOT NULL, PRIMARY KEY (app, conv))"
        )
        db.execute("INSERT INTO tickets VALUES ('a', 'c1', 'cus', 'agent', 'ann', 'r', 's', '', 0, 1, 2)")
    store = SQLiteStore(str(path))
    await store.open()
    try:
        old = await store.get_ticket("a", "c1")
        assert old is not None and (old.agent, old.origin) == ("ann", {})
        await store.update_ticket(replace(old, origin={"kind": "campaign", "campaign": "c9"}), {"agent"})
        assert (await store.get_ticket("a", "c1")).origin == {"kind": "campaign", "campaign": "c9"}  # type: ignore[union-attr]
    finally:
        await store.close()
