"""Journey tables of the SQLite store (:class:`~parley.server.journey_port.JourneyStore`).

Every compare-and-set is one ``UPDATE ... WHERE`` (atomic; SQLite serialises writers across
processes). Due timers are found by the partial index ``jr_runs_due`` on ``due`` (only runs with
a timer are in it), so a poll reads the due rows, never all runs.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from parley.server.journey_port import JourneyHead, Run, StepRecord
from parley.server.store.sqlite_worker import SQLiteWorker, immediate

__all__ = ["JOURNEY_SCHEMA", "JourneyTables"]

Db = sqlite3.Connection

JOURNEY_SCHEMA = """
CREATE TABLE IF NOT EXISTS jr_journeys (
    app TEXT NOT NULL, jid TEXT NOT NULL, state TEXT NOT NULL, version INTEGER NOT NULL,
    trigger TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (app, jid)
);
CREATE INDEX IF NOT EXISTS jr_journeys_trigger ON jr_journeys (app, trigger, state);
CREATE TABLE IF NOT EXISTS jr_versions (
    app TEXT NOT NULL, jid TEXT NOT NULL, version INTEGER NOT NULL, doc TEXT NOT NULL,
    created INTEGER NOT NULL, PRIMARY KEY (app, jid, version)
);
CREATE TABLE IF NOT EXISTS jr_entries (
    app TEXT NOT NULL, jid TEXT NOT NULL, entry TEXT NOT NULL, last INTEGER NOT NULL,
    PRIMARY KEY (app, jid, entry)
);
CREATE TABLE IF NOT EXISTS jr_runs (
    app TEXT NOT NULL, rid TEXT NOT NULL, jid TEXT NOT NULL, version INTEGER NOT NULL,
    pid TEXT NOT NULL, key TEXT NOT NULL, step TEXT NOT NULL, state TEXT NOT NULL,
    due INTEGER NOT NULL, owner TEXT NOT NULL, lease_until INTEGER NOT NULL,
    wait_event TEXT NOT NULL, wait_key TEXT NOT NULL, signal TEXT NOT NULL, goal TEXT NOT NULL,
    seq INTEGER NOT NULL, sig INTEGER NOT NULL, started INTEGER NOT NULL, updated INTEGER NOT NULL,
    PRIMARY KEY (app, rid)
);
CREATE INDEX IF NOT EXISTS jr_runs_due ON jr_runs (due) WHERE due > 0;
CREATE INDEX IF NOT EXISTS jr_runs_pid ON jr_runs (app, pid) WHERE state = 'active';
CREATE INDEX IF NOT EXISTS jr_runs_jid ON jr_runs (app, jid, state, step);
CREATE INDEX IF NOT EXISTS jr_runs_profile ON jr_runs (app, pid, started);
CREATE TABLE IF NOT EXISTS jr_steps (
    app TEXT NOT NULL, rid TEXT NOT NULL, step TEXT NOT NULL, started INTEGER NOT NULL,
    finished INTEGER NOT NULL, next TEXT NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY (app, rid, step)
);
"""

_HEAD = "app, jid, state, version, trigger, created, updated"
_RUN = (
    "app, rid, jid, version, pid, key, step, state, due, owner, lease_until, wait_event, wait_key, "
    "signal, goal, seq, sig, started, updated"
)
_STEP = "rid, step, started, finished, next, outcome"


def _head(r: tuple[Any, ...]) -> JourneyHead:
    return JourneyHead(r[0], r[1], r[2], int(r[3]), r[4], int(r[5]), int(r[6]))


def _run(r: tuple[Any, ...]) -> Run:
    return Run(*r)


class JourneyTables:
    """The SQLite adapter's :class:`~parley.server.journey_port.JourneyStore` role."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def create_journey(self, app: str, jid: str, doc: dict[str, Any], trigger: str, now: int) -> bool:
        """Head and version 1 in one transaction; False if the id exists."""

        def go(db: Db) -> bool:
            with immediate(db):
                cur = db.execute(
                    f"INSERT OR IGNORE INTO jr_journeys ({_HEAD}) VALUES (?, ?, 'active', 1, ?, ?, ?)",
                    (app, jid, trigger, now, now),
                )
                if cur.rowcount == 0:
                    return False
                db.execute("INSERT INTO jr_versions VALUES (?, ?, 1, ?, ?)", (app, jid, json.dumps(doc), now))
                return True

        return await self._run(go)

    async def add_journey_version(
        self, app: str, jid: str, expect_version: int, doc: dict[str, Any], trigger: str, now: int
    ) -> int | None:
        """CAS on the head's version, then the new version row, in one transaction."""

        def go(db: Db) -> int | None:
            with immediate(db):
                cur = db.execute(
                    "UPDATE jr_journeys SET version = version + 1, trigger = ?, updated = ? "
                    "WHERE app = ? AND jid = ? AND version = ? AND state != 'archived'",
                    (trigger, now, app, jid, expect_version),
                )
                if cur.rowcount == 0:
                    return None
                v = expect_version + 1
                db.execute(
                    "INSERT INTO jr_versions VALUES (?, ?, ?, ?, ?)", (app, jid, v, json.dumps(doc), now)
                )
                return v

        return await self._run(go)

    async def get_journey(self, app: str, jid: str) -> JourneyHead | None:
        """The head row."""
        sql = f"SELECT {_HEAD} FROM jr_journeys WHERE app = ? AND jid = ?"
        row = await self._run(lambda db: db.execute(sql, (app, jid)).fetchone())
        return _head(row) if row else None

    async def journey_doc(self, app: str, jid: str, version: int) -> dict[str, Any] | None:
        """One version's JSON."""
        sql = "SELECT doc FROM jr_versions WHERE app = ? AND jid = ? AND version = ?"
        row = await self._run(lambda db: db.execute(sql, (app, jid, version)).fetchone())
        return dict(json.loads(row[0])) if row else None

    async def list_journeys(self, app: str) -> list[JourneyHead]:
        """Heads by id."""
        sql = f"SELECT {_HEAD} FROM jr_journeys WHERE app = ? ORDER BY jid"
        return [_head(r) for r in await self._run(lambda db: db.execute(sql, (app,)).fetchall())]

    async def set_journey_state(
        self, app: str, jid: str, state: str, expect: tuple[str, ...], now: int
    ) -> bool:
        """``UPDATE ... WHERE state IN expect``."""
        marks = ", ".join("?" * len(expect))
        sql = (
            f"UPDATE jr_journeys SET state = ?, updated = ? WHERE app = ? AND jid = ? AND state IN ({marks})"
        )
        changed: int = await self._run(lambda db: db.execute(sql, (state, now, app, jid, *expect)).rowcount)
        return changed > 0

    async def triggered_journeys(self, app: str, event: str) -> list[JourneyHead]:
        """Active heads by trigger (index ``jr_journeys_trigger``)."""
        sql = f"SELECT {_HEAD} FROM jr_journeys WHERE app = ? AND trigger = ? AND state = 'active'"
        return [_head(r) for r in await self._run(lambda db: db.execute(sql, (app, event)).fetchall())]

    async def enter_journey(self, app: str, jid: str, entry: str, now: int, every_ms: int) -> bool:
        """Insert, or move ``last`` forward once ``every_ms`` has passed; one statement (atomic)."""
        sql = (
            "INSERT INTO jr_entries VALUES (?, ?, ?, ?) ON CONFLICT (app, jid, entry) DO UPDATE "
            "SET last = excluded.last WHERE ? > 0 AND jr_entries.last + ? <= excluded.last"
        )
        args = (app, jid, entry, now, every_ms, every_ms)
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0

    async def start_run(self, run: Run) -> bool:
        """``INSERT OR IGNORE`` by run id."""
        sql = f"INSERT OR IGNORE INTO jr_runs ({_RUN}) VALUES ({', '.join('?' * 19)})"
        args = (
            run.app, run.rid, run.jid, run.version, run.pid, run.key, run.step, run.state, run.due,
            run.owner, run.lease_until, run.wait_event, run.wait_key, run.signal, run.goal, run.seq,
            run.sig, run.started, run.updated,
        )  # fmt: skip
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0

    async def get_run(self, app: str, rid: str) -> Run | None:
        """The run row."""
        sql = f"SELECT {_RUN} FROM jr_runs WHERE app = ? AND rid = ?"
        row = await self._run(lambda db: db.execute(sql, (app, rid)).fetchone())
        return _run(row) if row else None

    async def claim_due_runs(self, now: int, owner: str, lease_ms: int, limit: int) -> list[Run]:
        """One ``UPDATE ... RETURNING`` over the due index, earliest first."""
        sql = (
            f"UPDATE jr_runs SET owner = ?, lease_until = ? WHERE rowid IN (SELECT rowid FROM jr_runs "
            f"INDEXED BY jr_runs_due WHERE due > 0 AND due <= ? AND lease_until <= ? ORDER BY due LIMIT ?) "
            f"RETURNING {_RUN}"
        )
        args = (owner, now + lease_ms, now, now, limit)

        def go(db: Db) -> list[tuple[Any, ...]]:
            with immediate(db):
                return db.execute(sql, args).fetchall()

        return sorted((_run(r) for r in await self._run(go)), key=lambda r: r.due)

    async def advance_run(
        self, app: str, rid: str, *, owner: str, seq: int, sig: int, step: str, state: str, due: int,
        wait_event: str, wait_key: str, now: int,
    ) -> bool:  # fmt: skip
        """CAS on ``(owner, seq)``; a newer signal keeps the run due now and its signal."""
        sql = (
            "UPDATE jr_runs SET step = ?, state = ?, wait_event = ?, wait_key = ?, seq = seq + 1, "
            "owner = '', lease_until = 0, updated = ?, "
            "due = CASE WHEN sig = ? OR ? != 'active' THEN ? ELSE ? END, "
            "signal = CASE WHEN sig = ? THEN '' ELSE signal END "
            "WHERE app = ? AND rid = ? AND owner = ? AND seq = ?"
        )
        args = (step, state, wait_event, wait_key, now, sig, state, due, now, sig, app, rid, owner, seq)
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0

    async def signal_runs(self, app: str, pid: str, event: str, keys: Sequence[str], now: int) -> int:
        """One ``UPDATE`` over the profile's active runs (index ``jr_runs_pid``)."""
        among = ", ".join("?" * (len(keys) + 1))
        sql = (
            "UPDATE jr_runs SET signal = ?, sig = sig + 1, due = ? WHERE app = ? AND pid = ? "
            f"AND state = 'active' AND ((wait_event = ? AND wait_key IN ({among})) "
            f"OR (goal = ? AND key IN ({among})))"
        )
        args = (event, now, app, pid, event, "", *keys, event, "", *keys)
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed

    async def begin_step(self, app: str, rid: str, step: str, now: int) -> StepRecord:
        """``INSERT OR IGNORE`` then read the row (the first insert's)."""

        def go(db: Db) -> tuple[Any, ...]:
            with immediate(db):
                db.execute(
                    "INSERT OR IGNORE INTO jr_steps VALUES (?, ?, ?, ?, 0, '', '')", (app, rid, step, now)
                )
                row: tuple[Any, ...] = db.execute(
                    f"SELECT {_STEP} FROM jr_steps WHERE app = ? AND rid = ? AND step = ?", (app, rid, step)
                ).fetchone()
                return row

        return StepRecord(*(await self._run(go)))

    async def finish_step(
        self, app: str, rid: str, step: str, next_step: str, outcome: str, now: int
    ) -> None:
        """Only an unfinished row is written."""
        sql = (
            "UPDATE jr_steps SET finished = ?, next = ?, outcome = ? "
            "WHERE app = ? AND rid = ? AND step = ? AND finished = 0"
        )
        await self._run(lambda db: db.execute(sql, (now, next_step, outcome, app, rid, step)))

    async def step_log(self, app: str, rid: str) -> list[StepRecord]:
        """Rows by start time."""
        sql = f"SELECT {_STEP} FROM jr_steps WHERE app = ? AND rid = ? ORDER BY started, rowid"
        return [StepRecord(*r) for r in await self._run(lambda db: db.execute(sql, (app, rid)).fetchall())]

    async def waiting_at(self, app: str, jid: str) -> dict[str, int]:
        """``GROUP BY step`` over the journey's active runs (index ``jr_runs_jid``)."""
        sql = (
            "SELECT step, COUNT(*) FROM jr_runs WHERE app = ? AND jid = ? AND state = 'active' GROUP BY step"
        )
        return {s: int(n) for s, n in await self._run(lambda db: db.execute(sql, (app, jid)).fetchall())}

    async def runs_of(self, app: str, jid: str, *, after: str, limit: int) -> list[Run]:
        """Runs by id after ``after``."""
        sql = f"SELECT {_RUN} FROM jr_runs WHERE app = ? AND jid = ? AND rid > ? ORDER BY rid LIMIT ?"
        return [
            _run(r) for r in await self._run(lambda db: db.execute(sql, (app, jid, after, limit)).fetchall())
        ]

    async def runs_of_profile(self, app: str, pid: str, *, since: int, limit: int) -> list[Run]:
        """Newest first on the ``jr_runs_profile`` index."""
        sql = (
            f"SELECT {_RUN} FROM jr_runs WHERE app = ? AND pid = ? AND started >= ? "
            "ORDER BY started DESC, rid LIMIT ?"
        )
        return [
            _run(r) for r in await self._run(lambda db: db.execute(sql, (app, pid, since, limit)).fetchall())
        ]
