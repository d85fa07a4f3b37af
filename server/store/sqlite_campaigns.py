"""Campaigns table of the SQLite store.

A role class of the SQLite adapter over the store's one :class:`SQLiteWorker`. Implements
:class:`~parley.server.campaign_port.CampaignStore`: the definition is a JSON column; every
compare-and-set is one ``UPDATE ... WHERE`` (atomic; SQLite serialises writers across processes).
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from parley.server.campaign_port import RUNNABLE, Campaign
from parley.server.store.sqlite_worker import SQLiteWorker

__all__ = ["CAMPAIGNS_SCHEMA", "CampaignTables"]

Db = sqlite3.Connection

CAMPAIGNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS act_campaigns (
    app TEXT NOT NULL, cid TEXT NOT NULL, state TEXT NOT NULL, start_at INTEGER NOT NULL,
    doc TEXT NOT NULL, cursor TEXT NOT NULL, version INTEGER NOT NULL, owner TEXT NOT NULL,
    lease_until INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
    PRIMARY KEY (app, cid)
);
CREATE INDEX IF NOT EXISTS act_campaigns_due ON act_campaigns (state, start_at);
"""

_COLS = "app, cid, state, start_at, doc, cursor, version, owner, lease_until, created, updated"
_RUNNABLE = "('" + "', '".join(RUNNABLE) + "')"


def _campaign(r: tuple[Any, ...]) -> Campaign:
    return Campaign(
        r[0], r[1], r[2], int(r[3]), json.loads(r[4]), r[5], int(r[6]), r[7], int(r[8]), int(r[9]), int(r[10])
    )


class CampaignTables:
    """The SQLite adapter's :class:`~parley.server.campaign_port.CampaignStore` role."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def create_campaign(self, campaign: Campaign) -> bool:
        """``INSERT OR IGNORE``: True only if the row was new."""
        c = campaign
        sql = f"INSERT OR IGNORE INTO act_campaigns ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, 1, '', 0, ?, ?)"
        args = (c.app, c.cid, c.state, c.start_at, json.dumps(c.doc), c.cursor, c.created, c.updated)
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0

    async def get_campaign(self, app: str, cid: str) -> Campaign | None:
        """The campaign row; None if absent."""
        sql = f"SELECT {_COLS} FROM act_campaigns WHERE app = ? AND cid = ?"
        row = await self._run(lambda db: db.execute(sql, (app, cid)).fetchone())
        return _campaign(row) if row else None

    async def list_campaigns(self, app: str) -> list[Campaign]:
        """The app's campaigns by id."""
        sql = f"SELECT {_COLS} FROM act_campaigns WHERE app = ? ORDER BY cid"
        rows = await self._run(lambda db: db.execute(sql, (app,)).fetchall())
        return [_campaign(r) for r in rows]

    async def update_campaign(
        self,
        app: str,
        cid: str,
        expect_version: int,
        *,
        now: int,
        state: str | None = None,
        cursor: str | None = None,
        start_at: int | None = None,
    ) -> Campaign | None:
        """One ``UPDATE ... WHERE version = ?`` (the CAS), then the row as it is now."""
        sets, args = ["version = version + 1", "updated = ?"], [now]
        if state is not None:
            sets.append("state = ?")
            args.append(state)  # type: ignore[arg-type]
        if cursor is not None:
            sets.append("cursor = ?")
            args.append(cursor)  # type: ignore[arg-type]
        if start_at is not None:
            sets.append("start_at = ?")
            args.append(start_at)
        sql = f"UPDATE act_campaigns SET {', '.join(sets)} WHERE app = ? AND cid = ? AND version = ?"
        select = f"SELECT {_COLS} FROM act_campaigns WHERE app = ? AND cid = ?"

        def update(db: Db) -> Campaign | None:
            if db.execute(sql, (*args, app, cid, expect_version)).rowcount == 0:
                return None
            return _campaign(db.execute(select, (app, cid)).fetchone())

        return await self._run(update)

    async def lease_campaign(self, app: str, cid: str, *, owner: str, now: int, lease_ms: int) -> bool:
        """One conditional ``UPDATE``: runnable, started, and the lease free or already ``owner``'s."""
        sql = (
            "UPDATE act_campaigns SET owner = ?, lease_until = ? WHERE app = ? AND cid = ? "
            f"AND state IN {_RUNNABLE} AND start_at <= ? AND (lease_until <= ? OR owner = ?)"
        )
        args = (owner, now + lease_ms, app, cid, now, now, owner)
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0

    async def due_campaigns(self, now: int, limit: int) -> list[tuple[str, str]]:
        """Runnable, started, unleased campaigns (index on state, start_at)."""
        sql = (
            f"SELECT app, cid FROM act_campaigns WHERE state IN {_RUNNABLE} AND start_at <= ? "
            "AND lease_until <= ? ORDER BY start_at LIMIT ?"
        )
        rows = await self._run(lambda db: db.execute(sql, (now, now, limit)).fetchall())
        return [(r[0], r[1]) for r in rows]
