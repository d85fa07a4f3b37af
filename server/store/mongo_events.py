"""Event log collection of the Mongo store (``aud_events``).

A role class of the MongoDB adapter over the store's one :class:`MongoConnection`.
Implements :class:`~parley.server.events_port.EventLog`. Documents are
``{_id: "<app>/<eid>", app, pid, origin, name, ts, props, received, expire_at, pending}``: the
``_id`` carries the idempotency key (a duplicate insert fails on it alone, no extra unique index),
and ``expire_at`` (a BSON date, absent for "keep") is what the TTL index expires. ``pending: 1``
marks an event not yet applied to its profile (absent: applied, as every event stored before
the mark existed); it is unset after the profile change, whose document records the event ids
(``applied``), so a recovery between the two is refused by the profile, not counted twice.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from parley.server.events_models import MAX_EVENT_BATCH, Event, EventTotals
from parley.server.events_port import MAX_TS
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded

__all__ = ["EVENTS", "EVENTS_INDEXES", "EventCollections"]

EVENTS = "aud_events"
#: One document per ``app/pass``: who runs the app's scheduled pass, until when.
PASS_LEASES = "aud_pass_leases"
_DUPLICATE_KEY = 11000

EVENTS_INDEXES: dict[str, list[IndexModel]] = {
    EVENTS: [
        IndexModel([("app", ASCENDING), ("name", ASCENDING), ("ts", ASCENDING)], name="app_name_ts"),
        IndexModel([("app", ASCENDING), ("pid", ASCENDING), ("ts", ASCENDING)], name="app_pid_ts"),
        IndexModel([("app", ASCENDING), ("received", ASCENDING), ("_id", ASCENDING)], name="app_received"),
        # TTL: the server deletes a document once expire_at has passed (documents without it stay).
        IndexModel([("expire_at", ASCENDING)], name="expire_at_ttl", expireAfterSeconds=0),
        # only pending events are in it: a partial index costs nothing once they are applied
        IndexModel(
            [("app", ASCENDING), ("pending", ASCENDING), ("received", ASCENDING)],
            name="app_pending_received",
            partialFilterExpression={"pending": {"$exists": True}},
        ),
    ],
}


def _doc(e: Event, keep_ms: int, pending: bool = False) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": f"{e.app}/{e.eid}",
        "app": e.app,
        "pid": e.pid,
        "origin": e.pid,  # the pid first stored under: never changed by a move (restore_events)
        "name": e.name,
        "ts": e.ts,
        "props": e.props,
        "received": e.received,
    }
    if pending:
        doc["pending"] = 1
    if keep_ms > 0:
        doc["expire_at"] = datetime.fromtimestamp((e.ts + keep_ms) / 1000, UTC)
    return doc


def _event(d: Mapping[str, Any]) -> Event:
    app: str = d["app"]
    return Event(
        app, d["_id"][len(app) + 1 :], d["pid"], d["name"], int(d["ts"]), dict(d["props"]), int(d["received"])
    )


def _window(app: str, since: int, until: int, after: tuple[int, str] | None) -> dict[str, Any]:
    """The ``ts`` window and the ``(ts, _id) > after`` cursor as a filter."""
    query: dict[str, Any] = {"ts": {"$gte": since, "$lt": until}}
    if after is not None:
        query["$or"] = [{"ts": {"$gt": after[0]}}, {"ts": after[0], "_id": {"$gt": f"{app}/{after[1]}"}}]
    return query


class EventCollections:
    """The MongoDB adapter's :class:`~parley.server.events_port.EventLog` role (see the module).

    Every method is ``guarded`` (unreachable server or timeout → ``StoreUnavailable``).
    """

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def append_events(
        self, events: Sequence[Event], retention_ms: Mapping[str, int] | None = None, *, pending: bool = False
    ) -> list[bool]:
        """One unordered ``insert_many``; the ``_id`` refuses a duplicate (reported ``False``),
        any other write error is raised (the events before it may be stored: retry, it is
        idempotent)."""
        if len(events) > MAX_EVENT_BATCH:
            raise ValueError(f"at most {MAX_EVENT_BATCH} events per call, got {len(events)}")
        if not events:
            return []
        keep = retention_ms or {}
        stored = [True] * len(events)
        docs: list[dict[str, Any]] = []
        index: list[int] = []  # position in `events` of each doc sent
        seen: set[tuple[str, str]] = set()
        for i, e in enumerate(events):
            if (e.app, e.eid) in seen:  # the first of the batch wins, as in SQLite
                stored[i] = False
                continue
            seen.add((e.app, e.eid))
            docs.append(_doc(e, keep.get(e.app, 0), pending))
            index.append(i)
        try:
            await self._db[EVENTS].insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details["writeErrors"]
            if any(err.get("code") != _DUPLICATE_KEY for err in errors):
                raise
            for err in errors:
                stored[index[err["index"]]] = False
        return stored

    @guarded
    async def pending_events(self, app: str, *, before: int, limit: int = 1000) -> list[Event]:
        """Pending events received before ``before``, oldest first (``app_pending_received``)."""
        query = {"app": app, "pending": 1, "received": {"$lt": before}}
        cursor = self._db[EVENTS].find(query).sort([("received", 1), ("_id", 1)]).limit(limit)
        return [_event(d) for d in await cursor.to_list()]

    @guarded
    async def mark_events_applied(self, app: str, eids: Collection[str]) -> int:
        """Unset ``pending`` of ``eids`` (one ``update_many``); returns how many were pending."""
        if not eids:
            return 0
        ids = [f"{app}/{eid}" for eid in set(eids)]
        result = await self._db[EVENTS].update_many(
            {"_id": {"$in": ids}, "pending": 1}, {"$unset": {"pending": ""}}
        )
        return result.modified_count

    @guarded
    async def get_event(self, app: str, eid: str) -> Event | None:
        """The event ``(app, eid)`` by ``_id``; None if there is none."""
        d = await self._db[EVENTS].find_one({"_id": f"{app}/{eid}"})
        return _event(d) if d else None

    @guarded
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
        """A page of ``pid``'s events by ``(ts, _id)`` on the ``app_pid_ts`` index (property
        filters are checked on the documents of that range)."""
        query = {"app": app, "pid": pid, **_window(app, since, until, after)}
        if names:
            query["name"] = {"$in": sorted(set(names))}
        for key, value in (props or {}).items():
            query[f"props.{key}"] = value
        cursor = self._db[EVENTS].find(query).sort([("ts", 1), ("_id", 1)]).limit(limit)
        return [_event(d) for d in await cursor.to_list()]

    @guarded
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
        """A page of the events ``name`` by ``(ts, _id)`` on the ``app_name_ts`` index."""
        query = {"app": app, "name": name, **_window(app, since, until, after)}
        cursor = self._db[EVENTS].find(query).sort([("ts", 1), ("_id", 1)]).limit(limit)
        return [_event(d) for d in await cursor.to_list()]

    @guarded
    async def events_received(
        self,
        app: str,
        names: Collection[str],
        *,
        since: int,
        after: tuple[int, str] | None = None,
        limit: int = 100,
    ) -> list[Event]:
        """A page by ``(received, _id)`` on the ``app_received`` index."""
        if not names:
            return []
        window: dict[str, Any] = {"received": {"$gte": since}}
        if after is not None:
            key = f"{app}/{after[1]}"
            window = {"$or": [{"received": {"$gt": after[0]}}, {"received": after[0], "_id": {"$gt": key}}],
                      "received": {"$gte": since}}  # fmt: skip
        query = {"app": app, "name": {"$in": list(names)}, **window}
        cursor = self._db[EVENTS].find(query).sort([("received", 1), ("_id", 1)]).limit(limit)
        return [_event(d) for d in await cursor.to_list()]

    @guarded
    async def pass_mark(self, app: str, name: str) -> int:
        """The ``mark`` of the pass's lease document (0 without one)."""
        doc = await self._db[PASS_LEASES].find_one({"_id": f"{app}/{name}"}, {"mark": 1})
        return int(doc.get("mark", 0)) if doc else 0

    @guarded
    async def advance_pass_mark(self, app: str, name: str, mark: int) -> None:
        """``$max`` on the pass's lease document (an upsert: the lease fields stay as they are)."""
        await self._db[PASS_LEASES].update_one(
            {"_id": f"{app}/{name}"},
            {"$max": {"mark": mark}, "$setOnInsert": {"owner": "", "lease_until": 0}},
            upsert=True,
        )

    @guarded
    async def count_events(
        self, app: str, pid: str, name: str, *, since: int = 0, until: int = MAX_TS
    ) -> int:
        """``count_documents`` on the ``app_pid_ts`` index."""
        query = {"app": app, "pid": pid, "name": name, "ts": {"$gte": since, "$lt": until}}
        return await self._db[EVENTS].count_documents(query)

    @guarded
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
        """One aggregation grouped by pid (``$sum`` ignores missing and non-numeric values)."""
        wanted = sorted(set(names))
        if not wanted:
            return []
        group: dict[str, Any] = {
            "_id": "$pid",
            "n": {"$sum": 1},
            "total": {"$sum": f"$props.{prop}" if prop else 0},
            "first": {"$min": "$ts"},
            "last": {"$max": "$ts"},
        }
        pipeline: list[dict[str, Any]] = [
            {
                "$match": {
                    "app": app,
                    "pid": {"$gt": after_pid},
                    "name": {"$in": wanted},
                    "ts": {"$gte": since},
                }
            },
            {"$group": group},
            {"$sort": {"_id": 1}},
            {"$limit": limit},
        ]
        cursor = await self._db[EVENTS].aggregate(pipeline)
        return [
            EventTotals(d["_id"], int(d["n"]), float(d["total"] or 0), int(d["first"]), int(d["last"]))
            async for d in cursor
        ]

    @guarded
    async def reassign_events(self, app: str, from_pid: str, to_pid: str) -> int:
        """One ``update_many`` of the pid (each document atomically)."""
        result = await self._db[EVENTS].update_many({"app": app, "pid": from_pid}, {"$set": {"pid": to_pid}})
        return result.modified_count

    @guarded
    async def restore_events(self, app: str, from_pid: str, to_pid: str, origins: Collection[str]) -> int:
        """One ``update_many`` over ``from_pid``'s documents (``app_pid_ts``) of those origins."""
        wanted = sorted(set(origins))
        if not wanted:
            return 0
        query = {"app": app, "pid": from_pid, "origin": {"$in": wanted}}
        result = await self._db[EVENTS].update_many(query, {"$set": {"pid": to_pid}})
        return result.modified_count

    @guarded
    async def backfill_origins(self, *, batch: int = 1000) -> int:
        """Give documents stored before origins existed their origin (their pid: the best
        known); idempotent, run on every open. Returns how many were changed."""
        done = 0
        while True:
            cursor = self._db[EVENTS].find({"origin": {"$exists": False}}, {"pid": 1}).limit(batch)
            docs = await cursor.to_list()
            for d in docs:
                # by pid too: a document moved meanwhile is found again, with its new pid, next round
                await self._db[EVENTS].update_one(
                    {"_id": d["_id"], "pid": d["pid"], "origin": {"$exists": False}},
                    {"$set": {"origin": d["pid"]}},
                )
            done += len(docs)
            if len(docs) < batch:
                return done

    @guarded
    async def purge_events(self, app: str, before: int, *, limit: int = 10_000) -> int:
        """Delete up to ``limit`` of the app's events with ``ts < before`` (ids first, then one
        ``delete_many``: MongoDB's deletes take no limit)."""
        cursor = self._db[EVENTS].find({"app": app, "ts": {"$lt": before}}, {"_id": 1}).limit(limit)
        ids = [d["_id"] for d in await cursor.to_list()]
        if not ids:
            return 0
        result = await self._db[EVENTS].delete_many({"_id": {"$in": ids}})
        return result.deleted_count

    @guarded
    async def delete_events_of(self, app: str, pid: str) -> int:
        """Delete every event of ``pid``."""
        result = await self._db[EVENTS].delete_many({"app": app, "pid": pid})
        return result.deleted_count

    @guarded
    async def lease_pass(self, app: str, name: str, *, owner: str, now: int, lease_ms: int) -> bool:
        """An upsert whose filter is the lease condition: a lease held by another owner matches
        nothing, so the upsert's insert hits the ``_id`` and is refused (duplicate key: False)."""
        held = {"$or": [{"lease_until": {"$lte": now}}, {"owner": owner}]}
        try:
            await self._db[PASS_LEASES].update_one(
                {"_id": f"{app}/{name}", **held},
                {"$set": {"owner": owner, "lease_until": now + lease_ms}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False
        return True
