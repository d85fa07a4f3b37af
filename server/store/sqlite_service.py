"""Customer-service tables of the SQLite store: tickets, users by role, knowledge.

Profiles (the chat ``Profiles`` port) live in the audience tables: ``sqlite_audience``.

A role class of the SQLite adapter over the store's one :class:`SQLiteWorker`: it runs on the
same connection and worker thread (``self._run``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from typing import Any, TypeVar

import msgspec

from parley.server.ids import now_ms
from parley.server.models import KnowledgeEntry, KnowledgeRevision, KnowledgeVector, TagRecord, Ticket, User
from parley.server.store.sqlite_schema import USER_COLS, pack, to_user
from parley.server.store.sqlite_worker import SQLiteWorker

__all__ = ["SERVICE_SCHEMA", "KnowledgeTables", "ServiceTables", "migrate_tickets"]

T = TypeVar("T")
Db = sqlite3.Connection

SERVICE_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    app TEXT NOT NULL, conv TEXT NOT NULL, customer TEXT NOT NULL, state TEXT NOT NULL,
    agent TEXT NOT NULL, reason TEXT NOT NULL, summary TEXT NOT NULL, notes_conv TEXT NOT NULL,
    score INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
    origin TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (app, conv)
);
CREATE INDEX IF NOT EXISTS tickets_state ON tickets (app, state, updated);
CREATE INDEX IF NOT EXISTS tickets_agent ON tickets (app, agent, updated);
CREATE INDEX IF NOT EXISTS users_role ON users (app, role, user);
CREATE TABLE IF NOT EXISTS knowledge (
    app TEXT NOT NULL, source TEXT NOT NULL, chunk_id TEXT NOT NULL, chunk BLOB NOT NULL, vectors BLOB NOT NULL,
    PRIMARY KEY (app, source, chunk_id)
);
CREATE TABLE IF NOT EXISTS knowledge_versions (app TEXT PRIMARY KEY, version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS knowledge_history (
    app TEXT NOT NULL, source TEXT NOT NULL, version INTEGER NOT NULL, chunks INTEGER NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (app, source, version)
);
"""

TICKET_COLS = (
    "app, conv, customer, state, agent, reason, summary, notes_conv, score, created, updated, origin"
)
_tags = msgspec.msgpack.Decoder(dict[str, TagRecord])


_origin = msgspec.json.Decoder(dict[str, Any]).decode
_json = msgspec.json.Encoder().encode


def migrate_tickets(db: Db) -> None:
    """Give an older database's tickets their ``origin`` column (idempotent: runs on every open)."""
    if "origin" not in {r[1] for r in db.execute("PRAGMA table_info(tickets)")}:
        db.execute("ALTER TABLE tickets ADD COLUMN origin TEXT NOT NULL DEFAULT '{}'")


def _ticket(r: Sequence[Any]) -> Ticket:
    (app, conv, customer, state, agent, reason, summary, notes_conv, score, created, updated, origin) = r
    return Ticket(app, conv, customer, state, agent, reason, summary, notes_conv, score, created, updated,
                  _origin(origin or "{}"))  # fmt: skip


def _ticket_args(t: Ticket) -> tuple[Any, ...]:
    return (
        t.app,
        t.conv,
        t.customer,
        t.state,
        t.agent,
        t.reason,
        t.summary,
        t.notes_conv,
        t.score,
        t.created,
        t.updated,
        _json(t.origin).decode(),
    )


class ServiceTables:
    """The SQLite adapter's :class:`~parley.server.store_ports.Tickets` role, plus ``Directory.list_users``.

    Every call is one job on the store's worker thread (``SQLiteWorker.run``); a single
    statement is its own transaction.
    """

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def list_users(self, app: str, role: str) -> list[User]:
        """Users of ``app`` whose role is ``role`` (e.g. the agents), ordered by user id."""
        sql = f"SELECT {USER_COLS} FROM users WHERE app = ? AND role = ? ORDER BY user"
        rows = await self._run(lambda db: db.execute(sql, (app, role)).fetchall())
        return [to_user(r) for r in rows]

    async def save_ticket(self, ticket: Ticket) -> None:
        """Create or replace (``INSERT OR REPLACE``) the one ticket of ``(app, conv)``."""
        sql = f"INSERT OR REPLACE INTO tickets ({TICKET_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        await self._run(lambda db: db.execute(sql, _ticket_args(ticket)))

    async def get_ticket(self, app: str, conv: str) -> Ticket | None:
        """The ticket of ``conv``; None if it has none (not a support conversation)."""
        sql = f"SELECT {TICKET_COLS} FROM tickets WHERE app = ? AND conv = ?"
        row = await self._run(lambda db: db.execute(sql, (app, conv)).fetchone())
        return _ticket(row) if row else None

    async def update_ticket(self, ticket: Ticket, expect: Collection[str], *, unrated: bool = False) -> bool:
        """Compare-and-set: replace the stored ticket only if its state is in ``expect`` (and, with
        ``unrated``, its score is still 0).

        One conditional ``UPDATE``, so of two concurrent claims exactly one returns True; False if
        the ticket is absent or the condition failed (nothing written).
        """
        states = sorted(expect)
        marks = ", ".join("?" * len(states))
        sql = (
            "UPDATE tickets SET customer = ?, state = ?, agent = ?, reason = ?, summary = ?, notes_conv = ?, "
            f"score = ?, created = ?, updated = ?, origin = ? WHERE app = ? AND conv = ? AND state IN ({marks})"
            + (" AND score = 0" if unrated else "")
        )
        t = ticket
        args = (t.customer, t.state, t.agent, t.reason, t.summary, t.notes_conv, t.score, t.created, t.updated,
                _json(t.origin).decode(), t.app, t.conv, *states)  # fmt: skip
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0

    async def list_tickets(
        self, app: str, *, state: str | None = None, agent: str | None = None
    ) -> list[Ticket]:
        """Tickets of ``app`` filtered by ``state`` and/or ``agent``, least recently updated first (ties by
        conv)."""
        where, args = ["app = ?"], [app]
        if state is not None:
            where.append("state = ?")
            args.append(state)
        if agent is not None:
            where.append("agent = ?")
            args.append(agent)
        sql = f"SELECT {TICKET_COLS} FROM tickets WHERE {' AND '.join(where)} ORDER BY updated, conv"
        rows = await self._run(lambda db: db.execute(sql, args).fetchall())
        return [_ticket(r) for r in rows]


_vectors = msgspec.msgpack.Decoder(tuple[KnowledgeVector, ...])


def _bump(db: Db, app: str) -> int:
    row = db.execute(
        "INSERT INTO knowledge_versions (app, version) VALUES (?, 1) "
        "ON CONFLICT (app) DO UPDATE SET version = version + 1 RETURNING version",
        (app,),
    ).fetchone()
    return int(row[0])


class KnowledgeTables:
    """The SQLite adapter's :class:`~parley.server.store_ports.Knowledge` role.

    Every change and its version bump are one ``BEGIN IMMEDIATE`` transaction, so a reader sees
    a source either before or after a replacement, never half of it.
    """

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def replace_knowledge(self, app: str, source: str, entries: Sequence[KnowledgeEntry]) -> int:
        """Delete ``source``'s chunks, insert ``entries`` and bump the app's version, atomically.

        Returns the new version (1 for the app's first change); on error nothing is changed.
        """
        rows = [(app, source, e.chunk_id, pack(e.chunk), msgspec.msgpack.encode(e.vectors)) for e in entries]

        def write(db: Db) -> int:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM knowledge WHERE app = ? AND source = ?", (app, source))
                db.executemany("INSERT INTO knowledge VALUES (?, ?, ?, ?, ?)", rows)
                version = _bump(db, app)
                db.execute(
                    "INSERT INTO knowledge_history VALUES (?, ?, ?, ?, ?)",
                    (app, source, version, len(rows), now_ms()),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return version

        version: int = await self._run(write)
        return version

    async def delete_knowledge(self, app: str, source: str) -> int:
        """Drop ``source`` (a replacement with no entries); returns the new version, bumped even if it was
        empty."""
        return await self.replace_knowledge(app, source, ())

    async def list_knowledge(self, app: str) -> tuple[int, list[KnowledgeEntry]]:
        """The app's version (0 before the first ingest) and every entry, by source then chunk id.

        Both reads are one worker-thread job, so no write of this store lands between them.
        """

        def read(db: Db) -> tuple[int, list[KnowledgeEntry]]:
            row = db.execute("SELECT version FROM knowledge_versions WHERE app = ?", (app,)).fetchone()
            rows = db.execute(
                "SELECT source, chunk_id, chunk, vectors FROM knowledge WHERE app = ? ORDER BY source, chunk_id",
                (app,),
            ).fetchall()
            entries = [
                KnowledgeEntry(app, r[0], r[1], msgspec.msgpack.decode(r[2]), _vectors.decode(r[3]))
                for r in rows
            ]
            return (int(row[0]) if row else 0), entries

        result: tuple[int, list[KnowledgeEntry]] = await self._run(read)
        return result

    async def knowledge_version(self, app: str) -> int:
        """The app's knowledge version: 0 until the first change, then +1 per change."""
        sql = "SELECT version FROM knowledge_versions WHERE app = ?"
        row = await self._run(lambda db: db.execute(sql, (app,)).fetchone())
        return int(row[0]) if row else 0

    async def knowledge_history(self, app: str, source: str, limit: int) -> list[KnowledgeRevision]:
        """The newest ``limit`` revisions of ``source`` (the primary key's order), newest first."""
        sql = "SELECT version, chunks, ts FROM knowledge_history WHERE app = ? AND source = ? ORDER BY version DESC LIMIT ?"
        rows = await self._run(lambda db: db.execute(sql, (app, source, limit)).fetchall())
        return [KnowledgeRevision(app, source, int(r[0]), int(r[1]), int(r[2])) for r in rows]
