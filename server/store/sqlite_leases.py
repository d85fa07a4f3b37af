"""Named-lease table of the SQLite store (:class:`~parley.server.lease_port.LeaseStore`).

A role class over the store's one :class:`SQLiteWorker`. ``acquire_lease`` is one conditional
UPSERT (insert, or update only where the row is the holder's or expired) and the read-back of
the row, both in one ``BEGIN IMMEDIATE`` transaction of one worker job: the write lock serialises
processes on the same file, so of concurrent acquires exactly one holder wins, and what is read
back is what that acquire left.
"""

from __future__ import annotations

from typing import Any

from parley.server.lease_port import Lease
from parley.server.store.sqlite_worker import Db, SQLiteWorker, immediate

__all__ = ["LEASES_SCHEMA", "LeaseTables"]

LEASES_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    app TEXT NOT NULL, name TEXT NOT NULL, holder TEXT NOT NULL, until INTEGER NOT NULL,
    PRIMARY KEY (app, name)
);
"""

_ACQUIRE = (
    "INSERT INTO leases (app, name, holder, until) VALUES (?, ?, ?, ?) "
    "ON CONFLICT(app, name) DO UPDATE SET holder = excluded.holder, until = excluded.until "
    "WHERE leases.holder = excluded.holder OR leases.until <= ?"
)
_GET = "SELECT app, name, holder, until FROM leases WHERE app = ? AND name = ?"


def _row(r: tuple[Any, ...]) -> Lease:
    return Lease(r[0], r[1], r[2], int(r[3]))


class LeaseTables:
    """The SQLite adapter's lease role (one job on the store's worker thread per call)."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def acquire_lease(self, app: str, name: str, holder: str, *, now: int, ttl_ms: int) -> Lease:
        """The conditional UPSERT and its read-back in one immediate transaction."""

        def acquire(db: Db) -> Lease:
            with immediate(db):
                db.execute(_ACQUIRE, (app, name, holder, now + ttl_ms, now))
                return _row(db.execute(_GET, (app, name)).fetchone())

        return await self._run(acquire)

    async def release_lease(self, app: str, name: str, holder: str) -> bool:
        """``DELETE`` where the row is ``holder``'s; True only for the call that removed it."""
        sql = "DELETE FROM leases WHERE app = ? AND name = ? AND holder = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, name, holder)).rowcount)
        return changed > 0

    async def get_lease(self, app: str, name: str) -> Lease | None:
        """The stored lease; None if absent."""
        row = await self._run(lambda db: db.execute(_GET, (app, name)).fetchone())
        return _row(row) if row else None
