"""Journey collections of the Mongo store (:class:`~parley.server.journey_port.JourneyStore`).

Every compare-and-set is a single-document ``update_one`` / ``find_one_and_update`` whose filter
is the condition (atomic on the document); uniqueness rests on ``_id`` (``app/jid``,
``app/jid/version``, ``app/jid/entry``, ``app/rid``, ``app/rid/step``). Due timers are found by the
index ``due`` (a claim reads the earliest by it, then updates each by ``_id``), never a scan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from parley.server.journey_port import JourneyHead, Run, StepRecord
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_docs import plain_dict
from parley.server.store.mongo_errors import guarded

__all__ = ["JOURNEY_INDEXES", "JourneyCollections"]

HEADS, VERSIONS, ENTRIES, RUNS, STEPS = "jr_journeys", "jr_versions", "jr_entries", "jr_runs", "jr_steps"

JOURNEY_INDEXES: dict[str, list[IndexModel]] = {
    HEADS: [
        IndexModel([("app", ASCENDING), ("trigger", ASCENDING), ("state", ASCENDING)], name="app_trigger")
    ],
    RUNS: [
        IndexModel([("due", ASCENDING)], name="due"),
        IndexModel([("app", ASCENDING), ("pid", ASCENDING), ("state", ASCENDING)], name="app_pid"),
        IndexModel([("app", ASCENDING), ("jid", ASCENDING), ("state", ASCENDING)], name="app_jid"),
        IndexModel([("app", ASCENDING), ("pid", ASCENDING), ("started", ASCENDING)], name="app_pid_started"),
    ],
    STEPS: [IndexModel([("app", ASCENDING), ("rid", ASCENDING), ("started", ASCENDING)], name="app_rid")],
}

_HEAD = ("app", "jid", "state", "version", "trigger", "created", "updated")
_RUN = tuple(Run.__dataclass_fields__)
_STEP = ("rid", "step", "started", "finished", "next", "outcome")


def _plain(d: Mapping[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    """The fields ``keys`` of ``d``, BSON's ``Int64`` (large ms times) as plain ints: msgspec refuses it."""
    return {k: int(d[k]) if isinstance(d[k], int) and not isinstance(d[k], bool) else d[k] for k in keys}


def _head(d: Mapping[str, Any]) -> JourneyHead:
    return JourneyHead(**_plain(d, _HEAD))


def _run(d: Mapping[str, Any]) -> Run:
    return Run(**_plain(d, _RUN))


def _step(d: Mapping[str, Any]) -> StepRecord:
    return StepRecord(**_plain(d, _STEP))


class JourneyCollections:
    """The MongoDB adapter's :class:`~parley.server.journey_port.JourneyStore` role."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def create_journey(self, app: str, jid: str, doc: dict[str, Any], trigger: str, now: int) -> bool:
        """Version 1 (an upsert: a retry rewrites it), then the head (``insert_one``: the uniqueness)."""
        await self._db[VERSIONS].update_one(
            {"_id": f"{app}/{jid}/1"}, {"$setOnInsert": {"app": app, "jid": jid, "doc": doc, "created": now}},
            upsert=True,
        )  # fmt: skip
        head = {"_id": f"{app}/{jid}", "app": app, "jid": jid, "state": "active", "version": 1,
                "trigger": trigger, "created": now, "updated": now}  # fmt: skip
        try:
            await self._db[HEADS].insert_one(head)
        except DuplicateKeyError:
            return False
        return True

    @guarded
    async def add_journey_version(
        self, app: str, jid: str, expect_version: int, doc: dict[str, Any], trigger: str, now: int
    ) -> int | None:
        """The new version's document (unique ``_id``: one of two racers wins), then the head's CAS."""
        v = expect_version + 1
        try:
            await self._db[VERSIONS].insert_one(
                {"_id": f"{app}/{jid}/{v}", "app": app, "jid": jid, "doc": doc, "created": now}
            )
        except DuplicateKeyError:
            return None
        moved = await self._db[HEADS].update_one(
            {"_id": f"{app}/{jid}", "version": expect_version, "state": {"$ne": "archived"}},
            {"$set": {"version": v, "trigger": trigger, "updated": now}},
        )
        if moved.matched_count == 0:
            await self._db[VERSIONS].delete_one({"_id": f"{app}/{jid}/{v}"})
            return None
        return v

    @guarded
    async def get_journey(self, app: str, jid: str) -> JourneyHead | None:
        """The head document."""
        d = await self._db[HEADS].find_one({"_id": f"{app}/{jid}"})
        return _head(d) if d else None

    @guarded
    async def journey_doc(self, app: str, jid: str, version: int) -> dict[str, Any] | None:
        """One version's definition."""
        d = await self._db[VERSIONS].find_one({"_id": f"{app}/{jid}/{version}"})
        return plain_dict(d["doc"]) if d else None

    @guarded
    async def list_journeys(self, app: str) -> list[JourneyHead]:
        """Heads by id."""
        return [_head(d) for d in await self._db[HEADS].find({"app": app}).sort("jid", 1).to_list()]

    @guarded
    async def set_journey_state(
        self, app: str, jid: str, state: str, expect: tuple[str, ...], now: int
    ) -> bool:
        """``update_one`` filtered on the expected states."""
        r = await self._db[HEADS].update_one(
            {"_id": f"{app}/{jid}", "state": {"$in": list(expect)}},
            {"$set": {"state": state, "updated": now}},
        )
        return r.matched_count > 0

    @guarded
    async def triggered_journeys(self, app: str, event: str) -> list[JourneyHead]:
        """Active heads by trigger (index ``app_trigger``)."""
        found = self._db[HEADS].find({"app": app, "trigger": event, "state": "active"})
        return [_head(d) for d in await found.to_list()]

    @guarded
    async def enter_journey(self, app: str, jid: str, entry: str, now: int, every_ms: int) -> bool:
        """Insert; with ``every_ms`` an upsert whose filter is "the last entry is old enough"."""
        key = {"_id": f"{app}/{jid}/{entry}"}
        try:
            if every_ms <= 0:
                await self._db[ENTRIES].insert_one({**key, "last": now})
            else:
                await self._db[ENTRIES].update_one(
                    {**key, "last": {"$lte": now - every_ms}}, {"$set": {"last": now}}, upsert=True
                )
        except DuplicateKeyError:
            return False
        return True

    @guarded
    async def start_run(self, run: Run) -> bool:
        """``insert_one`` with ``_id = app/rid``."""
        try:
            await self._db[RUNS].insert_one({"_id": f"{run.app}/{run.rid}", **asdict(run)})
        except DuplicateKeyError:
            return False
        return True

    @guarded
    async def get_run(self, app: str, rid: str) -> Run | None:
        """The run document."""
        d = await self._db[RUNS].find_one({"_id": f"{app}/{rid}"})
        return _run(d) if d else None

    @guarded
    async def claim_due_runs(self, now: int, owner: str, lease_ms: int, limit: int) -> list[Run]:
        """One indexed read of the earliest due runs, then an ``update_one`` by ``_id`` per run
        whose filter repeats the due condition and the ``seq``, ``sig`` and lease just read.
        Every writer of a run moves one of those three, so a match means the run is exactly as
        read: it is returned with the new owner and lease and no second read. A miss (another
        node claimed it, a signal or an advance came in between) leaves it to the next poll.
        Not ``find_one_and_update``: the wire server of the tests runs that as a scan of the
        collection (~750 ms per claim at 100 000 runs; an update by ``_id`` ~1 ms, BENCHMARKS.md)."""
        due = {"due": {"$gt": 0, "$lte": now}, "lease_until": {"$lte": now}}
        found = self._db[RUNS].find(due).sort("due", ASCENDING).limit(limit)
        claimed: list[Run] = []
        lease = now + lease_ms
        for d in await found.to_list():
            got = await self._db[RUNS].update_one(
                {"_id": d["_id"], "seq": d["seq"], "sig": d["sig"], "due": due["due"],
                 "lease_until": d["lease_until"]},
                {"$set": {"owner": owner, "lease_until": lease}},
            )  # fmt: skip
            if got.matched_count:
                claimed.append(_run({**d, "owner": owner, "lease_until": lease}))
        return claimed

    @guarded
    async def advance_run(
        self, app: str, rid: str, *, owner: str, seq: int, sig: int, step: str, state: str, due: int,
        wait_event: str, wait_key: str, now: int,
    ) -> bool:  # fmt: skip
        """CAS on ``(owner, seq, sig)``; if only ``sig`` moved, the same CAS keeping the signal, due now."""
        sets = {"step": step, "state": state, "wait_event": wait_event, "wait_key": wait_key,
                "owner": "", "lease_until": 0, "updated": now}  # fmt: skip
        where = {"_id": f"{app}/{rid}", "owner": owner, "seq": seq}
        r = await self._db[RUNS].update_one(
            {**where, "sig": sig}, {"$set": {**sets, "due": due, "signal": ""}, "$inc": {"seq": 1}}
        )
        if r.matched_count:
            return True
        r = await self._db[RUNS].update_one(
            where, {"$set": {**sets, "due": now if state == "active" else due}, "$inc": {"seq": 1}}
        )
        return r.matched_count > 0

    @guarded
    async def signal_runs(self, app: str, pid: str, event: str, keys: Sequence[str], now: int) -> int:
        """One ``update_many`` over the profile's active runs (index ``app_pid``)."""
        r = await self._db[RUNS].update_many(
            {"app": app, "pid": pid, "state": "active", "$or": [
                {"wait_event": event, "wait_key": {"$in": ["", *keys]}},
                {"goal": event, "key": {"$in": ["", *keys]}},
            ]},
            {"$set": {"signal": event, "due": now}, "$inc": {"sig": 1}},
        )  # fmt: skip
        return int(r.modified_count)

    @guarded
    async def begin_step(self, app: str, rid: str, step: str, now: int) -> StepRecord:
        """An upsert with ``$setOnInsert`` (the first one wins), then the row."""
        _id = f"{app}/{rid}/{step}"
        fresh = {
            "app": app,
            "rid": rid,
            "step": step,
            "started": now,
            "finished": 0,
            "next": "",
            "outcome": "",
        }
        try:
            await self._db[STEPS].update_one({"_id": _id}, {"$setOnInsert": fresh}, upsert=True)
        except DuplicateKeyError:
            pass  # a concurrent first insert: read it
        d = await self._db[STEPS].find_one({"_id": _id})
        return _step(d if d else fresh)

    @guarded
    async def finish_step(
        self, app: str, rid: str, step: str, next_step: str, outcome: str, now: int
    ) -> None:
        """Only an unfinished row is written."""
        await self._db[STEPS].update_one(
            {"_id": f"{app}/{rid}/{step}", "finished": 0},
            {"$set": {"finished": now, "next": next_step, "outcome": outcome}},
        )

    @guarded
    async def step_log(self, app: str, rid: str) -> list[StepRecord]:
        """Rows by start time."""
        found = self._db[STEPS].find({"app": app, "rid": rid}).sort([("started", 1), ("_id", 1)])
        return [_step(d) for d in await found.to_list()]

    @guarded
    async def waiting_at(self, app: str, jid: str) -> dict[str, int]:
        """The journey's active runs (index ``app_jid``), counted per step."""
        counts: dict[str, int] = {}
        async for d in self._db[RUNS].find({"app": app, "jid": jid, "state": "active"}, {"step": 1}):
            counts[d["step"]] = counts.get(d["step"], 0) + 1
        return counts

    @guarded
    async def runs_of(self, app: str, jid: str, *, after: str, limit: int) -> list[Run]:
        """Runs by id after ``after``."""
        found = (
            self._db[RUNS].find({"app": app, "jid": jid, "rid": {"$gt": after}}).sort("rid", 1).limit(limit)
        )
        return [_run(d) for d in await found.to_list()]

    @guarded
    async def runs_of_profile(self, app: str, pid: str, *, since: int, limit: int) -> list[Run]:
        """Newest first on the ``app_pid_started`` index."""
        query = {"app": app, "pid": pid, "started": {"$gte": since}}
        found = self._db[RUNS].find(query).sort([("started", -1), ("rid", 1)]).limit(limit)
        return [_run(d) for d in await found.to_list()]
