"""Erasure tables of the SQLite store: per-app tombstone salt, identifier tombstones, erase
records, and the delete of a person's audience rows.

A role class of the SQLite adapter over the store's one :class:`SQLiteWorker`. Implements
:class:`~parley.server.compliance_port.ErasureStore`. ``delete_person_rows`` is one
``BEGIN IMMEDIATE`` transaction (all of a person's rows or none), idempotent by construction.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from typing import Any

from parley.server.activation_port import Delivery
from parley.server.compliance_port import ErasureRecord
from parley.server.store.sqlite_audience import in_transaction
from parley.server.store.sqlite_worker import SQLiteWorker

__all__ = ["COMPLIANCE_SCHEMA", "ComplianceTables"]

Db = sqlite3.Connection

COMPLIANCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS aud_erase_salt (app TEXT PRIMARY KEY, salt TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS aud_tombstones (
    app TEXT NOT NULL, digest TEXT NOT NULL, erasure TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (app, digest)
);
CREATE TABLE IF NOT EXISTS aud_erasures (
    app TEXT NOT NULL, id TEXT NOT NULL, pid TEXT NOT NULL, actor TEXT NOT NULL, state TEXT NOT NULL,
    started INTEGER NOT NULL, finished INTEGER NOT NULL, counts TEXT NOT NULL, PRIMARY KEY (app, id)
);
"""

#: Tables keyed by ``(app, pid)`` holding a person's audience data (the agreed layout).
_BY_PID = (
    "aud_attrs", "aud_tags", "aud_tag_history", "aud_consent", "aud_consent_ledger",
    "aud_computed", "aud_identifiers", "aud_segment_members",
)  # fmt: skip

_COLS = "app, id, pid, actor, state, started, finished, counts"
#: The delivery ledger's columns (``sqlite_activation``'s table), in :class:`Delivery` order.
DELIVERY_COLS = "app, key, pid, state, owner, lease_until, attempts, updated, retry_at, mid, detail"


def delivery_row(r: tuple[Any, ...]) -> Delivery:
    """A delivery-ledger row as a :class:`Delivery`."""
    return Delivery(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), int(r[7]), int(r[8]), r[9], r[10])


def _record(r: tuple[Any, ...]) -> ErasureRecord:
    return ErasureRecord(r[0], r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), json.loads(r[7]))


def _delete(db: Db, app: str, pids: list[str]) -> int:
    marks = ", ".join("?" * len(pids))
    args = (app, *pids)
    for table in _BY_PID:
        db.execute(f"DELETE FROM {table} WHERE app = ? AND pid IN ({marks})", args)
    mids = [
        r[0]
        for r in db.execute(
            f"SELECT mid FROM aud_merges WHERE app = ? AND (winner IN ({marks}) OR loser IN ({marks}))",
            (app, *pids, *pids),
        )
    ]
    for mid in mids:
        db.execute("DELETE FROM aud_merge_matches WHERE app = ? AND mid = ?", (app, mid))
        db.execute("DELETE FROM aud_merges WHERE app = ? AND mid = ?", (app, mid))
    return db.execute(f"DELETE FROM aud_profiles WHERE app = ? AND pid IN ({marks})", args).rowcount


class ComplianceTables:
    """The SQLite adapter's :class:`~parley.server.compliance_port.ErasureStore` role."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def erase_salt(self, app: str, candidate: str) -> str:
        """The app's salt (``INSERT OR IGNORE`` then read: the first stored wins)."""

        def go(db: Db) -> str:
            db.execute("INSERT OR IGNORE INTO aud_erase_salt (app, salt) VALUES (?, ?)", (app, candidate))
            return str(db.execute("SELECT salt FROM aud_erase_salt WHERE app = ?", (app,)).fetchone()[0])

        return await self._run(go)

    async def add_tombstones(self, app: str, digests: Collection[str], erasure: str, now: int) -> None:
        """Keep each digest (``INSERT OR IGNORE``: an existing one stays)."""
        sql = "INSERT OR IGNORE INTO aud_tombstones (app, digest, erasure, ts) VALUES (?, ?, ?, ?)"
        rows = [(app, d, erasure, now) for d in digests]
        await self._run(lambda db: db.executemany(sql, rows))

    async def remove_tombstones(self, app: str, digests: Collection[str]) -> int:
        """Delete the app's tombstones of ``digests``; how many were deleted."""
        wanted = list(digests)
        if not wanted:
            return 0
        sql = f"DELETE FROM aud_tombstones WHERE app = ? AND digest IN ({', '.join('?' * len(wanted))})"
        return await self._run(lambda db: db.execute(sql, (app, *wanted)).rowcount)

    async def tombstoned(self, app: str, digests: Collection[str]) -> list[str]:
        """Which of ``digests`` are the app's tombstones."""
        wanted = list(digests)
        if not wanted:
            return []
        sql = (
            f"SELECT digest FROM aud_tombstones WHERE app = ? AND digest IN ({', '.join('?' * len(wanted))})"
        )
        return await self._run(lambda db: [r[0] for r in db.execute(sql, (app, *wanted))])

    async def delete_person_rows(self, app: str, pids: Collection[str]) -> int:
        """Delete the rows of ``pids`` in one transaction; how many profiles were deleted."""
        wanted = sorted(set(pids))
        if not wanted:
            return 0
        return await self._run(lambda db: in_transaction(db, lambda: _delete(db, app, wanted)))

    async def deliveries_of(self, app: str, pid: str, *, after_key: str, limit: int) -> list[Delivery]:
        """The recipient's ledger rows with ``key > after_key``, by key (index ``act_deliveries_pid``)."""
        sql = f"SELECT {DELIVERY_COLS} FROM act_deliveries WHERE app = ? AND pid = ? AND key > ? ORDER BY key LIMIT ?"
        rows = await self._run(lambda db: db.execute(sql, (app, pid, after_key, limit)).fetchall())
        return [delivery_row(r) for r in rows]

    async def save_erasure(self, record: ErasureRecord) -> None:
        """Create or replace the record (``INSERT OR REPLACE`` on ``(app, id)``)."""
        r = record
        sql = f"INSERT OR REPLACE INTO aud_erasures ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        args = (r.app, r.id, r.pid, r.actor, r.state, r.started, r.finished, json.dumps(r.counts))
        await self._run(lambda db: db.execute(sql, args))

    async def get_erasure(self, app: str, erasure: str) -> ErasureRecord | None:
        """The record; None if there is none."""
        sql = f"SELECT {_COLS} FROM aud_erasures WHERE app = ? AND id = ?"
        row = await self._run(lambda db: db.execute(sql, (app, erasure)).fetchone())
        return _record(row) if row else None

    async def list_erasures(self, app: str, *, after: str, limit: int) -> list[ErasureRecord]:
        """Up to ``limit`` records with ``id > after``, by id."""
        sql = f"SELECT {_COLS} FROM aud_erasures WHERE app = ? AND id > ? ORDER BY id LIMIT ?"
        rows = await self._run(lambda db: db.execute(sql, (app, after, limit)).fetchall())
        return [_record(r) for r in rows]
