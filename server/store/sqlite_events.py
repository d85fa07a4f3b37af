"""Event log table of the SQLite store (``aud_events``).

A role class of the SQLite adapter over the store's one :class:`SQLiteWorker`. Implements
:class:`~parley.server.events_port.EventLog`. Idempotency rests on the primary key
``(app, eid)`` and ``INSERT OR IGNORE``; a batch is one ``BEGIN IMMEDIATE`` transaction.
An event stored ``pending`` (``pending = 1``, under the partial index ``aud_events_pending``)
waits to be applied to its profile; :func:`claim_events` marks it applied inside the profile
change's own transaction, so on SQLite "applied" and "counted" can never disagree.
``props`` is stored as JSON text so that segments can read it with SQLite's JSON functions
(``json_extract(props, '$.category')``). SQLite has no TTL: retention is the service's
sweep calling :meth:`EventTables.purge_events`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import msgspec

from parley.server.audience_models import AlreadyApplied
from parley.server.events_models import MAX_EVENT_BATCH, Event, EventTotals
from parley.server.events_port import MAX_TS
from parley.server.store.sqlite_worker import SQLiteWorker, immediate

__all__ = ["EVENTS_SCHEMA", "EventTables", "claim_events", "migrate_events"]

Db = sqlite3.Connection

EVENTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS aud_events (
    app TEXT NOT NULL, eid TEXT NOT NULL, pid TEXT NOT NULL, name TEXT NOT NULL,
    ts INTEGER NOT NULL, props TEXT NOT NULL, received INTEGER NOT NULL,
    origin TEXT NOT NULL DEFAULT '', pending INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (app, eid)
);
CREATE INDEX IF NOT EXISTS aud_events_name ON aud_events (app, name, ts);
CREATE INDEX IF NOT EXISTS aud_events_pid ON aud_events (app, pid, ts);
CREATE INDEX IF NOT EXISTS aud_events_received ON aud_events (app, received, eid);
CREATE TABLE IF NOT EXISTS aud_pass_marks (
    app TEXT NOT NULL, name TEXT NOT NULL, mark INTEGER NOT NULL, PRIMARY KEY (app, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS aud_pass_leases (
    app TEXT NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL, lease_until INTEGER NOT NULL,
    PRIMARY KEY (app, name)
) WITHOUT ROWID;
"""

_COLS = "app, eid, pid, name, ts, props, received"


def migrate_events(db: Db) -> None:
    """Give an older database's events their origin (the pid they are under: the best known)
    and the ``pending`` mark (0: events stored before it existed were applied when stored);
    idempotent, so it runs on every open."""
    columns = {r[1] for r in db.execute("PRAGMA table_info(aud_events)")}
    with immediate(db):
        if "origin" not in columns:
            db.execute("ALTER TABLE aud_events ADD COLUMN origin TEXT NOT NULL DEFAULT ''")
            db.execute("UPDATE aud_events SET origin = pid WHERE origin = ''")
        if "pending" not in columns:
            db.execute("ALTER TABLE aud_events ADD COLUMN pending INTEGER NOT NULL DEFAULT 0")
        db.execute(
            "CREATE INDEX IF NOT EXISTS aud_events_pending ON aud_events (app, received) WHERE pending = 1"
        )


#: Ids per ``IN (...)`` statement (well under SQLite's bound on parameters).
_CHUNK = 500


def claim_events(db: Db, app: str, pid: str, eids: Sequence[str]) -> None:
    """Inside the caller's transaction: raise ``AlreadyApplied`` if one of ``eids`` is stored
    and no longer pending, else mark them applied (ids not stored, e.g. purged, pass)."""
    ids = sorted(set(eids))
    done: set[str] = set()
    for i in range(0, len(ids), _CHUNK):
        part = ids[i : i + _CHUNK]
        marks = ", ".join("?" * len(part))
        sql = f"SELECT eid FROM aud_events WHERE app = ? AND eid IN ({marks}) AND pending = 0"
        done.update(r[0] for r in db.execute(sql, (app, *part)))
    if done:
        raise AlreadyApplied(pid, frozenset(done))
    _mark(db, app, ids)


def _mark(db: Db, app: str, ids: Sequence[str]) -> int:
    marked = 0
    for i in range(0, len(ids), _CHUNK):
        part = ids[i : i + _CHUNK]
        sql = f"UPDATE aud_events SET pending = 0 WHERE app = ? AND eid IN ({', '.join('?' * len(part))}) AND pending = 1"
        marked += db.execute(sql, (app, *part)).rowcount
    return marked


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(dict[str, Any]).decode


def _event(r: tuple[Any, ...]) -> Event:
    return Event(r[0], r[1], r[2], r[3], int(r[4]), _decode(r[5]), int(r[6]))


def _window(since: int, until: int, after: tuple[int, str] | None) -> tuple[str, list[Any]]:
    """The ``ts`` window and the ``(ts, eid) > after`` cursor as SQL and its parameters."""
    sql = " AND ts >= ? AND ts < ?"
    args: list[Any] = [since, until]
    if after is not None:
        sql += " AND (ts, eid) > (?, ?)"
        args += [after[0], after[1]]
    return sql, args


class EventTables:
    """The SQLite adapter's :class:`~parley.server.events_port.EventLog` role (see the module)."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def append_events(
        self, events: Sequence[Event], retention_ms: Mapping[str, int] | None = None, *, pending: bool = False
    ) -> list[bool]:
        """Insert each event unless ``(app, eid)`` exists, in one transaction (all or nothing);
        per event whether this call stored it. ``retention_ms`` is not stored: the sweep
        (``purge_events``) applies the app's retention as it is when it runs."""
        if len(events) > MAX_EVENT_BATCH:
            raise ValueError(f"at most {MAX_EVENT_BATCH} events per call, got {len(events)}")
        if not events:
            return []
        sql = (
            f"INSERT OR IGNORE INTO aud_events ({_COLS}, origin, pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        flag = int(pending)
        rows = [
            (e.app, e.eid, e.pid, e.name, e.ts, _encode(e.props).decode(), e.received, e.pid, flag)
            for e in events
        ]

        def write(db: Db) -> list[bool]:
            with immediate(db):
                # rowcount per row tells a duplicate (0) from a new event (1), also within the batch
                return [db.execute(sql, row).rowcount == 1 for row in rows]

        stored: list[bool] = await self._run(write)
        return stored

    async def pending_events(self, app: str, *, before: int, limit: int = 1000) -> list[Event]:
        """Pending events received before ``before``, oldest first, on the partial index."""
        sql = (f"SELECT {_COLS} FROM aud_events WHERE app = ? AND pending = 1 AND received < ? "
               "ORDER BY received, eid LIMIT ?")  # fmt: skip
        rows = await self._run(lambda db: db.execute(sql, (app, before, limit)).fetchall())
        return [_event(r) for r in rows]

    async def mark_events_applied(self, app: str, eids: Collection[str]) -> int:
        """Mark ``eids`` applied (one transaction); returns how many were pending."""
        ids = sorted(set(eids))

        def write(db: Db) -> int:
            with immediate(db):
                return _mark(db, app, ids)

        marked: int = await self._run(write) if ids else 0
        return marked

    async def get_event(self, app: str, eid: str) -> Event | None:
        """The event ``(app, eid)``; None if there is none."""
        sql = f"SELECT {_COLS} FROM aud_events WHERE app = ? AND eid = ?"
        row = await self._run(lambda db: db.execute(sql, (app, eid)).fetchone())
        return _event(row) if row else None

    async def events_of(
        self,
        app: str,
        pid: str,
        *,
        names: Collection[str] = (),
        since: int = 0,
        until: int = MAX_TS,
        after: tuple[int, str] | None = None,
        limit: int = 100,
        props: Mapping[str, str | float | bool] | None = None,
    ) -> list[Event]:
        """A page of ``pid``'s events by ``(ts, eid)`` on the ``(app, pid, ts)`` index (property
        filters are checked on the rows of that range: ``json_extract``)."""
        window, args = _window(since, until, after)
        sql = f"SELECT {_COLS} FROM aud_events WHERE app = ? AND pid = ?{window}"
        wanted = sorted(set(names))
        if wanted:
            sql += f" AND name IN ({', '.join('?' * len(wanted))})"
        equal: list[Any] = []
        for key, value in (props or {}).items():
            sql += " AND json_extract(props, ?) = ?"
            equal += [f'$."{key}"', value]
        sql += " ORDER BY ts, eid LIMIT ?"
        params = (app, pid, *args, *wanted, *equal, limit)
        rows = await self._run(lambda db: db.execute(sql, params).fetchall())
        return [_event(r) for r in rows]

    async def events_named(
        self,
        app: str,
        name: str,
        *,
        since: int = 0,
        until: int = MAX_TS,
        after: tuple[int, str] | None = None,
        limit: int = 100,
    ) -> list[Event]:
        """A page of the events ``name`` by ``(ts, eid)`` on the ``(app, name, ts)`` index."""
        window, args = _window(since, until, after)
        sql = f"SELECT {_COLS} FROM aud_events WHERE app = ? AND name = ?{window} ORDER BY ts, eid LIMIT ?"
        params = (app, name, *args, limit)
        rows = await self._run(lambda db: db.execute(sql, params).fetchall())
        return [_event(r) for r in rows]

    async def events_received(
        self,
        app: str,
        names: Collection[str],
        *,
        since: int,
        after: tuple[int, str] | None = None,
        limit: int = 100,
    ) -> list[Event]:
        """A page by ``(received, eid)`` on the ``(app, received, eid)`` index (names filtered on the rows)."""
        if not names:
            return []
        marks = ", ".join("?" * len(names))
        cursor = " AND (received, eid) > (?, ?)" if after is not None else ""
        sql = (
            f"SELECT {_COLS} FROM aud_events WHERE app = ? AND received >= ?{cursor} AND name IN ({marks}) "
            "ORDER BY received, eid LIMIT ?"
        )
        params = (app, since, *(after or ()), *names, limit)
        rows = await self._run(lambda db: db.execute(sql, params).fetchall())
        return [_event(r) for r in rows]

    async def pass_mark(self, app: str, name: str) -> int:
        """The ``aud_pass_marks`` row's mark (0 without one)."""
        sql = "SELECT mark FROM aud_pass_marks WHERE app = ? AND name = ?"
        row = await self._run(lambda db: db.execute(sql, (app, name)).fetchone())
        return int(row[0]) if row else 0

    async def advance_pass_mark(self, app: str, name: str, mark: int) -> None:
        """One upsert keeping the larger mark."""
        sql = (
            "INSERT INTO aud_pass_marks (app, name, mark) VALUES (?, ?, ?) "
            "ON CONFLICT (app, name) DO UPDATE SET mark = max(aud_pass_marks.mark, excluded.mark)"
        )
        await self._run(lambda db: db.execute(sql, (app, name, mark)))

    async def count_events(
        self, app: str, pid: str, name: str, *, since: int = 0, until: int = MAX_TS
    ) -> int:
        """``COUNT(*)`` on the ``(app, pid, ts)`` index."""
        sql = "SELECT COUNT(*) FROM aud_events WHERE app = ? AND pid = ? AND name = ? AND ts >= ? AND ts < ?"
        row = await self._run(lambda db: db.execute(sql, (app, pid, name, since, until)).fetchone())
        return int(row[0])

    async def event_totals(
        self,
        app: str,
        names: Collection[str],
        prop: str = "",
        *,
        since: int = 0,
        after_pid: str = "",
        limit: int = 1000,
    ) -> list[EventTotals]:
        """One ``GROUP BY pid`` over the ``(app, pid, ts)`` index; a non-numeric ``prop`` adds 0."""
        wanted = sorted(set(names))
        if not wanted:
            return []
        path = f'$."{prop}"'  # quoted: a property name is any string the schema declares
        total = (
            "SUM(CASE WHEN json_type(props, ?) IN ('integer', 'real') THEN json_extract(props, ?) ELSE 0 END)"
        )
        paths: tuple[str, ...] = (path, path) if prop else ()
        sql = (
            f"SELECT pid, COUNT(*), {total if prop else 0}, MIN(ts), MAX(ts) FROM aud_events "
            f"WHERE app = ? AND pid > ? AND name IN ({', '.join('?' * len(wanted))}) AND ts >= ? "
            "GROUP BY pid ORDER BY pid LIMIT ?"
        )
        params = (*paths, app, after_pid, *wanted, since, limit)
        rows = await self._run(lambda db: db.execute(sql, params).fetchall())
        return [EventTotals(r[0], int(r[1]), float(r[2] or 0), int(r[3]), int(r[4])) for r in rows]

    async def reassign_events(self, app: str, from_pid: str, to_pid: str) -> int:
        """One ``UPDATE`` of the pid (atomic)."""
        sql = "UPDATE aud_events SET pid = ? WHERE app = ? AND pid = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (to_pid, app, from_pid)).rowcount)
        return changed

    async def restore_events(self, app: str, from_pid: str, to_pid: str, origins: Collection[str]) -> int:
        """One ``UPDATE`` over ``from_pid``'s rows (the ``(app, pid, ts)`` index) of those origins."""
        wanted = sorted(set(origins))
        if not wanted:
            return 0
        sql = (
            "UPDATE aud_events SET pid = ? WHERE app = ? AND pid = ? "
            f"AND origin IN ({', '.join('?' * len(wanted))})"
        )
        changed: int = await self._run(lambda db: db.execute(sql, (to_pid, app, from_pid, *wanted)).rowcount)
        return changed

    async def purge_events(self, app: str, before: int, *, limit: int = 10_000) -> int:
        """Delete up to ``limit`` of the app's oldest events with ``ts < before``."""
        next_name = "SELECT name FROM aud_events WHERE app = ? AND name > ? ORDER BY name LIMIT 1"
        delete = (
            "DELETE FROM aud_events WHERE rowid IN (SELECT rowid FROM aud_events "
            "WHERE app = ? AND name = ? AND ts < ? LIMIT ?)"
        )

        def purge(db: Db) -> int:
            # A skip-scan by hand over the (app, name, ts) index: one seek per event name, so the
            # sweep reads only what it deletes (there is no (app, ts) index to keep up on writes).
            done, name = 0, ""
            while done < limit:
                row = db.execute(next_name, (app, name)).fetchone()
                if row is None:
                    break
                name = row[0]
                done += db.execute(delete, (app, name, before, limit - done)).rowcount
            return done

        changed: int = await self._run(purge)
        return changed

    async def delete_events_of(self, app: str, pid: str) -> int:
        """Delete every event of ``pid``."""
        sql = "DELETE FROM aud_events WHERE app = ? AND pid = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, pid)).rowcount)
        return changed

    async def lease_pass(self, app: str, name: str, *, owner: str, now: int, lease_ms: int) -> bool:
        """One upsert whose ``DO UPDATE`` is conditional on the lease being free or ``owner``'s
        (the store's one writer makes it atomic)."""
        sql = (
            "INSERT INTO aud_pass_leases (app, name, owner, lease_until) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (app, name) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until "
            "WHERE aud_pass_leases.lease_until <= ? OR aud_pass_leases.owner = ?"
        )
        args = (app, name, owner, now + lease_ms, now, owner)
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0
