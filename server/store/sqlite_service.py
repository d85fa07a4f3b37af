"""Customer-service tables of the SQLite store: tickets, profiles, users by role.

A mixin of :class:`~parley.server.store.sqlite.SQLiteStore`: it runs on the
same connection and worker thread (``self._run``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, TypeVar

import msgspec

from parley.server.models import Profile, TagRecord, Ticket, User
from parley.server.store.sqlite_schema import USER_COLS, pack, to_user

__all__ = ["SERVICE_SCHEMA", "ServiceTables"]

T = TypeVar("T")
Db = sqlite3.Connection

SERVICE_SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    app TEXT NOT NULL, conv TEXT NOT NULL, customer TEXT NOT NULL, state TEXT NOT NULL,
    agent TEXT NOT NULL, reason TEXT NOT NULL, summary TEXT NOT NULL, notes_conv TEXT NOT NULL,
    score INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
    PRIMARY KEY (app, conv)
);
CREATE INDEX IF NOT EXISTS tickets_state ON tickets (app, state, updated);
CREATE INDEX IF NOT EXISTS tickets_agent ON tickets (app, agent, updated);
CREATE TABLE IF NOT EXISTS profiles (
    app TEXT NOT NULL, user TEXT NOT NULL, tags BLOB NOT NULL, attributes BLOB NOT NULL,
    counters BLOB NOT NULL, updated INTEGER NOT NULL,
    PRIMARY KEY (app, user)
);
CREATE INDEX IF NOT EXISTS users_role ON users (app, role, user);
"""

TICKET_COLS = "app, conv, customer, state, agent, reason, summary, notes_conv, score, created, updated"
_tags = msgspec.msgpack.Decoder(dict[str, TagRecord])


def _ticket(r: Sequence[Any]) -> Ticket:
    return Ticket(*r)


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
    )


class ServiceTables:
    _run: Callable[[Callable[[Db], Any]], Any]

    async def list_users(self, app: str, role: str) -> list[User]:
        sql = f"SELECT {USER_COLS} FROM users WHERE app = ? AND role = ? ORDER BY user"
        rows = await self._run(lambda db: db.execute(sql, (app, role)).fetchall())
        return [to_user(r) for r in rows]

    async def save_ticket(self, ticket: Ticket) -> None:
        sql = f"INSERT OR REPLACE INTO tickets ({TICKET_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        await self._run(lambda db: db.execute(sql, _ticket_args(ticket)))

    async def get_ticket(self, app: str, conv: str) -> Ticket | None:
        sql = f"SELECT {TICKET_COLS} FROM tickets WHERE app = ? AND conv = ?"
        row = await self._run(lambda db: db.execute(sql, (app, conv)).fetchone())
        return _ticket(row) if row else None

    async def update_ticket(self, ticket: Ticket, expect: Collection[str]) -> bool:
        states = sorted(expect)
        marks = ", ".join("?" * len(states))
        sql = (
            "UPDATE tickets SET customer = ?, state = ?, agent = ?, reason = ?, summary = ?, notes_conv = ?, "
            f"score = ?, created = ?, updated = ? WHERE app = ? AND conv = ? AND state IN ({marks})"
        )
        t = ticket
        args = (t.customer, t.state, t.agent, t.reason, t.summary, t.notes_conv, t.score, t.created, t.updated,
                t.app, t.conv, *states)  # fmt: skip
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0

    async def list_tickets(
        self, app: str, *, state: str | None = None, agent: str | None = None
    ) -> list[Ticket]:
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

    async def get_profile(self, app: str, user: str) -> Profile | None:
        profile: Profile | None = await self._run(lambda db: _read_profile(db, app, user))
        return profile

    async def merge_profile(
        self,
        app: str,
        user: str,
        *,
        set_tags: Sequence[TagRecord] = (),
        remove_tags: Collection[str] = (),
        attributes: Mapping[str, Any] | None = None,
        counters: Mapping[str, int] | None = None,
        updated: int = 0,
    ) -> Profile:
        def merge(db: Db) -> Profile:
            db.execute("BEGIN IMMEDIATE")
            try:
                current = _read_profile(db, app, user) or Profile(app, user)
                tags = {k: v for k, v in current.tags.items() if k not in remove_tags}
                tags.update({t.name: t for t in set_tags})
                attrs = {**current.attributes, **(attributes or {})}
                counts = dict(current.counters)
                for key, delta in (counters or {}).items():
                    counts[key] = counts.get(key, 0) + delta
                profile = Profile(app, user, tags, attrs, counts, max(updated, current.updated))
                db.execute(
                    "INSERT OR REPLACE INTO profiles (app, user, tags, attributes, counters, updated) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (app, user, msgspec.msgpack.encode(tags), pack(attrs), pack(counts), profile.updated),
                )
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return profile

        result: Profile = await self._run(merge)
        return result


def _read_profile(db: Db, app: str, user: str) -> Profile | None:
    row = db.execute(
        "SELECT tags, attributes, counters, updated FROM profiles WHERE app = ? AND user = ?", (app, user)
    ).fetchone()
    if row is None:
        return None
    return Profile(
        app,
        user,
        _tags.decode(row[0]),
        msgspec.msgpack.decode(row[1]),
        msgspec.msgpack.decode(row[2]),
        row[3],
    )
