"""The conversations role of the SQLite adapter: conversations, members and read positions
(:class:`~parley.server.store_ports.Conversations`; the bounded membership queries are in
``sqlite_members``). A small class over the store's one :class:`SQLiteWorker`."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import Any

from parley.server.models import Conversation, Member
from parley.server.store.sqlite_schema import (
    CONV_COLS,
    CONV_WIDTH,
    MEMBER_COLS,
    MIGRATE_MESSAGES,
    MIGRATIONS,
    pack,
    to_conversation,
    to_member,
)
from parley.server.store.sqlite_worker import Db, SQLiteWorker, immediate

__all__ = ["SQLiteConversations", "migrate"]


class SQLiteConversations:
    """Conversations, members and reads on the shared connection."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._w = worker

    # conversations ----------------------------------------------------
    async def create_conversation(self, conv: Conversation, members: Sequence[Member]) -> Conversation:
        """See the port. A ``conv`` id that already exists also returns the stored one unchanged."""
        select = f"SELECT {CONV_COLS} FROM conversations WHERE app = ? AND "

        def q(db: Db) -> Conversation:
            with immediate(db):
                if conv.direct_key is not None:
                    row = db.execute(select + "direct_key = ?", (conv.app, conv.direct_key)).fetchone()
                    if row:
                        existing = to_conversation(row)
                        # A direct conversation without members (written by an older creator that
                        # stopped between its writes) gets the pair's; one with members is kept.
                        has = "SELECT 1 FROM members WHERE app = ? AND conv = ? LIMIT 1"
                        if db.execute(has, (existing.app, existing.conv)).fetchone() is None:
                            _insert_members(db, [dataclasses.replace(m, conv=existing.conv) for m in members])
                        return existing
                row = db.execute(select + "conv = ?", (conv.app, conv.conv)).fetchone()
                if row:
                    return to_conversation(row)
                db.execute(
                    f"INSERT INTO conversations ({CONV_COLS}, ckey) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, "
                    "(SELECT coalesce(max(ckey), 0) + 1 FROM conversations))",
                    (
                        conv.app,
                        conv.conv,
                        conv.kind,
                        conv.epoch,
                        conv.created,
                        conv.name,
                        pack(conv.meta),
                        conv.created_by,
                        conv.direct_key,
                    ),
                )
                _insert_members(db, members)
                return to_conversation(db.execute(select + "conv = ?", (conv.app, conv.conv)).fetchone())

        return await self._w.run(q)

    async def get_conversation(self, app: str, conv: str) -> Conversation | None:
        """See the port."""
        sql = f"SELECT {CONV_COLS} FROM conversations WHERE app = ? AND conv = ?"
        row = await self._w.run(lambda db: db.execute(sql, (app, conv)).fetchone())
        return to_conversation(row) if row else None

    async def update_conversation(
        self, app: str, conv: str, *, name: str | None = None, meta: dict[str, Any] | None = None
    ) -> Conversation | None:
        """Set ``name`` and/or replace ``meta`` (not merged); None if the conversation is absent."""
        sql = (
            "UPDATE conversations SET name = coalesce(?, name), meta = coalesce(?, meta) "
            f"WHERE app = ? AND conv = ? RETURNING {CONV_COLS}"
        )
        args = (name, None if meta is None else pack(meta), app, conv)
        row = await self._w.run(lambda db: db.execute(sql, args).fetchone())
        return to_conversation(row) if row else None

    async def list_user_conversations(self, app: str, user: str) -> list[tuple[Conversation, Member]]:
        """See the port; ordered by conversation id."""
        cols = ", ".join(f"c.{c}" for c in CONV_COLS.split(", ")) + ", "
        cols += ", ".join(f"m.{c}" for c in MEMBER_COLS.split(", "))
        sql = (
            f"SELECT {cols} FROM members m JOIN conversations c ON c.app = m.app AND c.conv = m.conv "
            "WHERE m.app = ? AND m.user = ? ORDER BY c.conv"
        )
        rows = await self._w.run(lambda db: db.execute(sql, (app, user)).fetchall())
        return [(to_conversation(r[:CONV_WIDTH]), to_member(r[CONV_WIDTH:])) for r in rows]

    # members ----------------------------------------------------------
    async def get_member(self, app: str, conv: str, user: str) -> Member | None:
        """See the port."""
        sql = f"SELECT {MEMBER_COLS} FROM members WHERE app = ? AND conv = ? AND user = ?"
        row = await self._w.run(lambda db: db.execute(sql, (app, conv, user)).fetchone())
        return to_member(row) if row else None

    async def list_members(self, app: str, conv: str) -> list[Member]:
        """See the port; ordered by join time, then user id."""
        sql = f"SELECT {MEMBER_COLS} FROM members WHERE app = ? AND conv = ? ORDER BY joined, user"
        rows = await self._w.run(lambda db: db.execute(sql, (app, conv)).fetchall())
        return [to_member(r) for r in rows]

    async def add_members(self, members: Sequence[Member]) -> list[Member]:
        """See the port."""

        def q(db: Db) -> list[Member]:
            with immediate(db):
                return _insert_members(db, members)

        return await self._w.run(q) if members else []

    async def remove_members(self, app: str, conv: str, users: Collection[str]) -> list[str]:
        """See the port."""
        sql = "DELETE FROM members WHERE app = ? AND conv = ? AND user = ? RETURNING user"

        def q(db: Db) -> list[str]:
            with immediate(db):
                return [r[0] for u in users for r in db.execute(sql, (app, conv, u)).fetchall()]

        return await self._w.run(q) if users else []

    async def set_member_role(self, app: str, conv: str, user: str, role: str) -> bool:
        """See the port."""
        sql = "UPDATE members SET role = ? WHERE app = ? AND conv = ? AND user = ?"
        return await self._w.run(lambda db: db.execute(sql, (role, app, conv, user)).rowcount) > 0

    async def set_read(self, app: str, conv: str, user: str, seq: int) -> int:
        """See the port; returns 0 (and stores nothing) if ``user`` is not a member."""
        sql = (
            "UPDATE members SET read_seq = max(read_seq, ?) WHERE app = ? AND conv = ? AND user = ? "
            "RETURNING read_seq"
        )
        row = await self._w.run(lambda db: db.execute(sql, (seq, app, conv, user)).fetchone())
        return int(row[0]) if row else 0

    async def set_reads(self, positions: Sequence[tuple[str, str, str, int]]) -> None:
        """See the port: one thread hop and one transaction for all of them."""
        if not positions:
            return
        sql = "UPDATE members SET read_seq = max(read_seq, ?) WHERE app = ? AND conv = ? AND user = ?"
        rows = [(seq, app, conv, user) for app, conv, user, seq in positions]

        def write(db: Db) -> None:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany(sql, rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

        await self._w.run(write)


def _insert_members(db: Db, members: Sequence[Member]) -> list[Member]:
    """Insert members that do not exist yet (inside the caller's transaction)."""
    sql = f"INSERT INTO members ({MEMBER_COLS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
    added = []
    for m in members:
        if db.execute(sql, (m.app, m.conv, m.user, m.role, m.joined, m.read_seq)).rowcount:
            added.append(m)
    return added


def migrate(db: Db) -> None:
    """Bring a database written by an older Parley up to date (see ``MIGRATIONS``)."""
    columns = {r[1] for r in db.execute("PRAGMA table_info(conversations)")}
    old_messages = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'messages'"
    ).fetchone()
    with immediate(db):
        if "ckey" not in columns:
            db.execute("ALTER TABLE conversations ADD COLUMN ckey INTEGER")
        for statement in MIGRATIONS:
            db.execute(statement)
        if old_messages:
            for statement in MIGRATE_MESSAGES:
                db.execute(statement)
