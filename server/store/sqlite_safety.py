"""Safety tables of the SQLite store: blocks (and, later, moderation, audit, words, reports).

A mixin of :class:`~parley.server.store.sqlite.SQLiteStore`: it runs on the
same connection and worker thread (``self._run``). Implements
:class:`~parley.server.safety_port.SafetyStore`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from typing import Any

from parley.server.safety_models import BlockRecord

__all__ = ["SAFETY_SCHEMA", "SafetyTables"]

Db = sqlite3.Connection

SAFETY_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    app TEXT NOT NULL, blocker TEXT NOT NULL, blocked TEXT NOT NULL, created INTEGER NOT NULL,
    PRIMARY KEY (app, blocker, blocked)
);
CREATE INDEX IF NOT EXISTS blocks_blocked ON blocks (app, blocked, blocker);
"""

#: SQLite's default limit of host parameters is 999 on old builds; chunks stay below it.
_CHUNK = 400


class SafetyTables:
    _run: Callable[[Callable[[Db], Any]], Any]

    async def add_block(self, app: str, blocker: str, blocked: str, created: int) -> bool:
        sql = "INSERT OR IGNORE INTO blocks (app, blocker, blocked, created) VALUES (?, ?, ?, ?)"
        changed: int = await self._run(lambda db: db.execute(sql, (app, blocker, blocked, created)).rowcount)
        return changed > 0

    async def remove_block(self, app: str, blocker: str, blocked: str) -> bool:
        sql = "DELETE FROM blocks WHERE app = ? AND blocker = ? AND blocked = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, blocker, blocked)).rowcount)
        return changed > 0

    async def list_blocks(self, app: str, blocker: str) -> list[BlockRecord]:
        sql = (
            "SELECT app, blocker, blocked, created FROM blocks WHERE app = ? AND blocker = ? ORDER BY blocked"
        )
        rows = await self._run(lambda db: db.execute(sql, (app, blocker)).fetchall())
        return [BlockRecord(*r) for r in rows]

    async def blocks_between(self, app: str, user: str, others: Collection[str]) -> list[BlockRecord]:
        wanted = sorted(set(others))

        def read(db: Db) -> list[BlockRecord]:
            found = []
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i : i + _CHUNK]
                marks = ", ".join("?" * len(chunk))
                sql = (
                    "SELECT app, blocker, blocked, created FROM blocks WHERE app = ? AND "
                    f"((blocker = ? AND blocked IN ({marks})) OR (blocked = ? AND blocker IN ({marks})))"
                )
                rows = db.execute(sql, (app, user, *chunk, user, *chunk)).fetchall()
                found += [BlockRecord(*r) for r in rows]
            return found

        records: list[BlockRecord] = await self._run(read)
        return records
