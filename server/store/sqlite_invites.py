"""Invitations table of the SQLite store.

A role class of the SQLite adapter over the store's one :class:`SQLiteWorker`: it runs on the
same connection and worker thread (``self._run``). Implements
:class:`~parley.server.invites_port.InvitationStore`. Of two deletes of one row exactly
one changes it: every statement runs on the store's one worker thread, and
across processes SQLite's write lock serialises them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from typing import Any

from parley.server.invites_port import Invitation
from parley.server.store.sqlite_worker import SQLiteWorker

__all__ = ["INVITES_SCHEMA", "InvitationTables"]

Db = sqlite3.Connection

INVITES_SCHEMA = """
CREATE TABLE IF NOT EXISTS invitations (
    app TEXT NOT NULL, conv TEXT NOT NULL, user TEXT NOT NULL, inviter TEXT NOT NULL,
    role TEXT NOT NULL, created INTEGER NOT NULL, expires INTEGER NOT NULL,
    PRIMARY KEY (app, conv, user)
);
CREATE INDEX IF NOT EXISTS invitations_user ON invitations (app, user, conv);
"""

_COLS = "app, conv, user, inviter, role, created, expires"
#: SQLite's default limit of host parameters is 999 on old builds; chunks stay below it.
_CHUNK = 400


def _invitation(r: tuple[Any, ...]) -> Invitation:
    return Invitation(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]))


class InvitationTables:
    """The SQLite adapter's :class:`~parley.server.invites_port.InvitationStore` role.

    Every call is one job on the store's worker thread (``SQLiteWorker.run``); the primary key
    ``(app, conv, user)`` keeps one invitation per key.
    """

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def put_invitations(self, invitations: Sequence[Invitation]) -> None:
        """Create or replace each invitation in one ``BEGIN IMMEDIATE`` transaction (one commit
        for the batch; all or nothing). A later invitation of the same key replaces an earlier one.
        """
        if not invitations:
            return
        sql = f"INSERT OR REPLACE INTO invitations ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        rows = [(i.app, i.conv, i.user, i.inviter, i.role, i.created, i.expires) for i in invitations]

        def write(db: Db) -> None:
            db.execute("BEGIN IMMEDIATE")  # one transaction: one commit for the batch
            try:
                db.executemany(sql, rows)
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

        await self._run(write)

    async def get_invitation(self, app: str, conv: str, user: str, now: int) -> Invitation | None:
        """The invitation of ``user`` to ``conv`` if ``expires > now``; None otherwise."""
        sql = f"SELECT {_COLS} FROM invitations WHERE app = ? AND conv = ? AND user = ? AND expires > ?"
        row = await self._run(lambda db: db.execute(sql, (app, conv, user, now)).fetchone())
        return _invitation(row) if row else None

    async def delete_invitation(self, app: str, conv: str, user: str) -> bool:
        """Delete the invitation, expired or not; True only for the call whose ``DELETE`` removed
        the row (SQLite serialises writers), so concurrent deletes count it once.
        """
        sql = "DELETE FROM invitations WHERE app = ? AND conv = ? AND user = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, conv, user)).rowcount)
        return changed > 0

    async def list_invitations(
        self, app: str, user: str, now: int, *, after: str, limit: int
    ) -> list[Invitation]:
        """Up to ``limit`` unexpired invitations of ``user`` with ``conv > after``, ascending by conv."""
        sql = (
            f"SELECT {_COLS} FROM invitations WHERE app = ? AND user = ? AND conv > ? AND expires > ? "
            "ORDER BY conv LIMIT ?"
        )
        rows = await self._run(lambda db: db.execute(sql, (app, user, after, now, limit)).fetchall())
        return [_invitation(r) for r in rows]

    async def count_invitations(self, app: str, users: Collection[str], now: int) -> dict[str, int]:
        """Per user, their unexpired invitations, queried in chunks of at most ``_CHUNK`` ids in one
        worker job; users with none are absent.
        """
        wanted = sorted(set(users))

        def read(db: Db) -> dict[str, int]:
            counts: dict[str, int] = {}
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                sql = (
                    "SELECT user, COUNT(*) FROM invitations WHERE app = ? AND expires > ? "
                    f"AND user IN ({marks}) GROUP BY user"
                )
                counts.update({r[0]: int(r[1]) for r in db.execute(sql, (app, now, *chunk)).fetchall()})
            return counts

        counts: dict[str, int] = await self._run(read)
        return counts

    async def delete_invitations_between(self, app: str, user: str, other: str) -> int:
        """Delete the invitations ``user`` sent ``other`` and ``other`` sent ``user``; returns how many."""
        sql = (
            "DELETE FROM invitations WHERE app = ? AND "
            "((user = ? AND inviter = ?) OR (user = ? AND inviter = ?))"
        )
        changed: int = await self._run(lambda db: db.execute(sql, (app, user, other, other, user)).rowcount)
        return changed

    async def purge_invitations(self, app: str, user: str, now: int) -> int:
        """Delete ``user``'s invitations with ``expires <= now``; returns how many."""
        sql = "DELETE FROM invitations WHERE app = ? AND user = ? AND expires <= ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, user, now)).rowcount)
        return changed
