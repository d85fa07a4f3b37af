"""Delivery ledger, cap touches and send-policy records of the SQLite store.

A role class of the SQLite adapter over the store's one :class:`SQLiteWorker`. Implements
:class:`~parley.server.activation_port.ActivationStore`. Every read-then-write runs in one
``BEGIN IMMEDIATE`` transaction (:func:`immediate`): the write lock is held from the first read,
so two store instances (or processes) on one file serialise there and a claim or a cap
reservation can never be decided on a count another writer is changing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from parley.server.activation_port import DEFERRED, PENDING, CapWindow, Delivery
from parley.server.store.sqlite_worker import SQLiteWorker, immediate

__all__ = ["ACTIVATION_SCHEMA", "ActivationTables"]

Db = sqlite3.Connection

ACTIVATION_SCHEMA = """
CREATE TABLE IF NOT EXISTS act_deliveries (
    app TEXT NOT NULL, key TEXT NOT NULL, pid TEXT NOT NULL, state TEXT NOT NULL,
    owner TEXT NOT NULL, lease_until INTEGER NOT NULL, attempts INTEGER NOT NULL,
    updated INTEGER NOT NULL, retry_at INTEGER NOT NULL DEFAULT 0, mid TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (app, key, pid)
);
CREATE INDEX IF NOT EXISTS act_deliveries_retry ON act_deliveries (app, key, retry_at) WHERE retry_at > 0;
CREATE TABLE IF NOT EXISTS act_touches (
    app TEXT NOT NULL, pid TEXT NOT NULL, key TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (app, pid, key)
);
CREATE INDEX IF NOT EXISTS act_touches_ts ON act_touches (app, pid, ts);
CREATE TABLE IF NOT EXISTS act_policies (app TEXT PRIMARY KEY, policy TEXT NOT NULL);
"""

_COLS = "app, key, pid, state, owner, lease_until, attempts, updated, retry_at, mid, detail"


def _delivery(r: tuple[Any, ...]) -> Delivery:
    return Delivery(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), int(r[7]), int(r[8]), r[9], r[10])


class ActivationTables:
    """The SQLite adapter's :class:`~parley.server.activation_port.ActivationStore` role."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def claim_delivery(
        self, app: str, key: str, pid: str, *, owner: str, now: int, lease_ms: int
    ) -> Delivery | None:
        """Insert a ``pending`` row, or take over an expired pending / due deferred one, in one
        immediate transaction; None for any other existing row."""
        select = f"SELECT {_COLS} FROM act_deliveries WHERE app = ? AND key = ? AND pid = ?"

        def claim(db: Db) -> Delivery | None:
            with immediate(db):
                row = db.execute(select, (app, key, pid)).fetchone()
                if row is None:
                    attempts = 1
                    db.execute(
                        f"INSERT INTO act_deliveries ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, 1, ?, 0, '', '')",
                        (app, key, pid, PENDING, owner, now + lease_ms, now),
                    )
                else:
                    current = _delivery(row)
                    expired = current.state == PENDING and current.lease_until <= now
                    due = current.state in DEFERRED and current.retry_at <= now
                    if not (expired or due):
                        return None
                    attempts = current.attempts + 1
                    db.execute(
                        "UPDATE act_deliveries SET state = ?, owner = ?, lease_until = ?, attempts = ?, "
                        "updated = ? WHERE app = ? AND key = ? AND pid = ?",
                        (PENDING, owner, now + lease_ms, attempts, now, app, key, pid),
                    )
            return Delivery(app, key, pid, PENDING, owner, now + lease_ms, attempts, now)

        return await self._run(claim)

    async def settle_delivery(
        self, app: str, key: str, pid: str, *, owner: str, state: str, now: int,
        retry_at: int = 0, mid: str = "", detail: str = "",
    ) -> bool:  # fmt: skip
        """One ``UPDATE ... WHERE state = 'pending' AND owner = ?``: a compare-and-set."""
        sql = (
            "UPDATE act_deliveries SET state = ?, updated = ?, retry_at = ?, mid = ?, detail = ?, lease_until = 0 "
            "WHERE app = ? AND key = ? AND pid = ? AND state = ? AND owner = ?"
        )
        args = (state, now, retry_at, mid, detail, app, key, pid, PENDING, owner)
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0

    async def get_delivery(self, app: str, key: str, pid: str) -> Delivery | None:
        """The row of ``(key, pid)``; None if never claimed."""
        sql = f"SELECT {_COLS} FROM act_deliveries WHERE app = ? AND key = ? AND pid = ?"
        row = await self._run(lambda db: db.execute(sql, (app, key, pid)).fetchone())
        return _delivery(row) if row else None

    async def list_deliveries(self, app: str, key: str, *, after: str, limit: int) -> list[Delivery]:
        """Up to ``limit`` rows of ``key`` with ``pid > after``, ascending by pid."""
        sql = f"SELECT {_COLS} FROM act_deliveries WHERE app = ? AND key = ? AND pid > ? ORDER BY pid LIMIT ?"
        rows = await self._run(lambda db: db.execute(sql, (app, key, after, limit)).fetchall())
        return [_delivery(r) for r in rows]

    async def count_deliveries(self, app: str, key: str) -> dict[str, int]:
        """Rows of ``key`` per state."""
        sql = "SELECT state, COUNT(*) FROM act_deliveries WHERE app = ? AND key = ? GROUP BY state"
        rows = await self._run(lambda db: db.execute(sql, (app, key)).fetchall())
        return {r[0]: int(r[1]) for r in rows}

    async def deferred_deliveries(self, app: str, key: str, *, due_by: int, limit: int) -> list[Delivery]:
        """Deferred rows due by ``due_by``, earliest first (partial index on ``retry_at > 0``)."""
        marks = ", ".join("?" * len(DEFERRED))
        sql = (
            f"SELECT {_COLS} FROM act_deliveries WHERE app = ? AND key = ? AND retry_at > 0 AND retry_at <= ? "
            f"AND state IN ({marks}) ORDER BY retry_at, pid LIMIT ?"
        )
        rows = await self._run(lambda db: db.execute(sql, (app, key, due_by, *DEFERRED, limit)).fetchall())
        return [_delivery(r) for r in rows]

    async def reserve_touch(
        self, app: str, pid: str, key: str, ts: int, windows: Sequence[CapWindow]
    ) -> bool:
        """Count each window and insert the touch in one immediate transaction."""
        exists = "SELECT 1 FROM act_touches WHERE app = ? AND pid = ? AND key = ?"
        count = "SELECT COUNT(*) FROM act_touches WHERE app = ? AND pid = ? AND ts >= ?"

        def reserve(db: Db) -> bool:
            with immediate(db):
                if db.execute(exists, (app, pid, key)).fetchone():
                    return True
                for w in windows:
                    if db.execute(count, (app, pid, w.since)).fetchone()[0] >= w.limit:
                        return False
                db.execute(
                    "INSERT INTO act_touches (app, pid, key, ts) VALUES (?, ?, ?, ?)", (app, pid, key, ts)
                )
                return True

        return await self._run(reserve)

    async def release_touch(self, app: str, pid: str, key: str) -> bool:
        """Delete touch ``key``; False if there was none."""
        sql = "DELETE FROM act_touches WHERE app = ? AND pid = ? AND key = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, pid, key)).rowcount)
        return changed > 0

    async def count_touches(self, app: str, pid: str, since: int) -> int:
        """Touches of ``pid`` with ``ts >= since``."""
        sql = "SELECT COUNT(*) FROM act_touches WHERE app = ? AND pid = ? AND ts >= ?"
        n: int = await self._run(lambda db: db.execute(sql, (app, pid, since)).fetchone()[0])
        return n

    async def get_send_policy(self, app: str) -> dict[str, Any] | None:
        """The app's stored settings object."""
        row = await self._run(
            lambda db: db.execute("SELECT policy FROM act_policies WHERE app = ?", (app,)).fetchone()
        )
        return json.loads(row[0]) if row else None

    async def put_send_policy(self, app: str, policy: dict[str, Any]) -> None:
        """Replace the app's settings object."""
        sql = "INSERT OR REPLACE INTO act_policies (app, policy) VALUES (?, ?)"
        text = json.dumps(policy)
        await self._run(lambda db: db.execute(sql, (app, text)))
