"""The MongoDB adapter's segment roles: rules as aggregation pipelines, saved segments, members.

A role class over the store's one :class:`MongoConnection`. Each evaluation first resolves the
clauses that live outside the profile document (:mod:`.mongo_segments_query`), then runs one
pipeline over ``aud_profiles``: ``$match`` on the driver clause (an index answers it alone),
``$match`` on the whole filter, then ``$group`` (count), ``$sort``/``$limit`` (sample, pages).
Pages walk the ``(app, pid)`` index from ``after``: memory stays one page.

Members are one document per (app, segment, pid); adding is an upsert and removing a delete
per pid, each atomic on its document (not one transaction: a failure part-way leaves a prefix
done, and repeating the call finishes it).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from parley.proto.segments import EventAgg, Occurrence, OpenTicket, Rated, Rule, SegmentRef, compare
from parley.server.segments_port import EvalContext, SavedSegment
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded
from parley.server.store.mongo_segments_query import driver, events_pipeline, needs_resolving, to_filter
from parley.server.store.sqlite_segments import clauses

__all__ = ["SEGMENT_INDEXES", "SegmentCollections"]

PROFILES = "aud_profiles"
SEGMENTS = "aud_segments"
MEMBERS = "aud_segment_members"
_LIVE = {"merged_into": ""}
#: Indexes the compiled rules need beyond the profile adapter's (attribute and counter indexes
#: are created the first time a rule is driven by them: see ``SegmentCollections._ensure_index``).
SEGMENT_INDEXES: dict[str, list[IndexModel]] = {
    PROFILES: [IndexModel([("app", ASCENDING), ("pid", ASCENDING)], name="app_pid")],
    MEMBERS: [IndexModel([("app", ASCENDING), ("seg", ASCENDING), ("pid", ASCENDING)], name="app_seg_pid")],
    "tickets": [IndexModel([("app", ASCENDING), ("score", ASCENDING)], name="seg_app_score")],
}


def _segment(d: dict[str, Any]) -> SavedSegment:
    return SavedSegment(
        d["app"], d["seg"], d["name"], bytes(d["rule"]), d["text"], d["mode"], int(d["frozen_at"]),
        int(d["created"]), int(d["updated"]), int(d["version"]), bool(d["timed"]),
    )  # fmt: skip


class SegmentCollections:
    """The MongoDB adapter's :class:`~parley.server.segments_port.SegmentsPort` (both roles)."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn
        self._indexed: set[str] = set()

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    async def _ensure_index(self, keys: list[str]) -> None:
        """Create ``(app, *keys)`` on ``aud_profiles`` once per process (idempotent on the server)."""
        name = "seg_" + "_".join(keys)
        if name not in self._indexed:
            await self._db[PROFILES].create_index(
                [("app", ASCENDING), *((k, ASCENDING) for k in keys)], name=name
            )
            self._indexed.add(name)

    async def _pids(self, pipeline: list[dict[str, Any]], collection: str, field: str) -> list[Any]:
        cursor = await self._db[collection].aggregate(pipeline)
        return [d[field] async for d in cursor]

    async def _resolve(
        self, app: str, rule: Rule, ctx: EvalContext, only: list[str] | None = None
    ) -> dict[str, dict[str, Any]]:
        """Each clause outside the profile document -> its ``pid``/``ids`` filter (see the module);
        ``only``: just those profiles matter (their events are read through ``(app, pid, ts)``)."""
        resolved: dict[str, dict[str, Any]] = {}
        for path, node in clauses(rule):
            if not needs_resolving(node):
                continue
            if isinstance(node, EventAgg | Occurrence):
                negate = isinstance(node, EventAgg) and compare(node.op, 0, node.value)
                pipe = events_pipeline(app, node, ctx.now, negate)
                if only is not None:
                    pipe[0]["$match"]["pid"] = {"$in": only}
                pids = await self._pids(pipe, "aud_events", "_id")
                resolved[path] = {"pid": {"$nin" if negate else "$in": pids}}
            elif isinstance(node, Rated | OpenTicket):
                cond: dict[str, Any] = (
                    {"score": {"$gte": 1, "$lte": node.max}}
                    if isinstance(node, Rated)
                    else {"state": {"$ne": "resolved"}}
                )
                pipe = [{"$match": {"app": app, **cond}}, {"$group": {"_id": "$customer"}}]
                users = await self._pids(pipe, "tickets", "_id")
                resolved[path] = {"ids": {"$elemMatch": {"kind": "user", "value": {"$in": users}}}}
            elif isinstance(node, SegmentRef):
                pipe = [{"$match": {"app": app, "seg": node.id}}, {"$project": {"pid": 1}}]
                resolved[path] = {"pid": {"$in": await self._pids(pipe, MEMBERS, "pid")}}
        return resolved

    async def pipeline(
        self, app: str, rule: Rule, ctx: EvalContext, after: str | None = None
    ) -> list[dict[str, Any]]:
        """The ``$match`` stages of ``rule`` (after resolving); ``after``: walk pids above it instead."""
        resolved = await self._resolve(app, rule, ctx)
        full = {"app": app, **_LIVE, "$and": [to_filter(rule, ctx.now, ctx.attrs, resolved)]}
        if after is not None:
            return [{"$match": {"app": app, "pid": {"$gt": after}}}, {"$sort": {"pid": 1}}, {"$match": full}]
        first = driver(app, rule, ctx.now, ctx.attrs, resolved)
        # The profile adapter declares the tag, lifecycle, RFM and identifier indexes; attributes and
        # counters are open-ended, so their index is made the first time a rule is driven by one.
        keys = [k for k in first if k.startswith(("attrs.", "computed.counts."))]
        if keys:
            await self._ensure_index(keys)
        return [{"$match": first}, {"$match": full}]

    @guarded
    async def count_segment(self, app: str, rule: Rule, ctx: EvalContext) -> int:
        """Count the pipeline's documents with one ``$group``."""
        stages = [*await self.pipeline(app, rule, ctx), {"$group": {"_id": None, "n": {"$sum": 1}}}]
        rows = await self._pids(stages, PROFILES, "n")
        return int(rows[0]) if rows else 0

    @guarded
    async def sample_segment(self, app: str, rule: Rule, ctx: EvalContext, limit: int) -> list[str]:
        """The first ``limit`` members by pid."""
        stages = [
            *await self.pipeline(app, rule, ctx),
            {"$sort": {"pid": 1}},
            {"$limit": limit},
            {"$project": {"pid": 1}},
        ]
        return [str(p) for p in await self._pids(stages, PROFILES, "pid")]

    async def preview_segment(
        self, app: str, rule: Rule, ctx: EvalContext, limit: int
    ) -> tuple[int, list[str]]:
        """Count, then sample (two pipelines: ``$facet`` is not assumed of every server)."""
        return await self.count_segment(app, rule, ctx), await self.sample_segment(app, rule, ctx, limit)

    @guarded
    async def segment_page(self, app: str, rule: Rule, ctx: EvalContext, after: str, limit: int) -> list[str]:
        """Members after ``after`` by pid, walking the ``(app, pid)`` index."""
        stages = [*await self.pipeline(app, rule, ctx, after), {"$limit": limit}, {"$project": {"pid": 1}}]
        return [str(p) for p in await self._pids(stages, PROFILES, "pid")]

    @guarded
    async def profile_page(self, app: str, after: str, limit: int) -> list[str]:
        """Live pids after ``after`` along the ``(app, pid)`` index (the ``everyone`` audience)."""
        query = {"app": app, "pid": {"$gt": after}, **_LIVE}
        cursor = self._db[PROFILES].find(query, {"pid": 1}).sort("pid", 1).limit(limit)
        return [str(d["pid"]) async for d in cursor]

    @guarded
    async def segment_members_among(
        self, app: str, rule: Rule, ctx: EvalContext, pids: Collection[str]
    ) -> set[str]:
        """The whole filter over just those profiles (``_id`` lookups)."""
        only = sorted(set(pids))
        if not only:
            return set()
        resolved = await self._resolve(app, rule, ctx, only)
        query: dict[str, Any] = {"_id": {"$in": [f"{app}/{p}" for p in only]}, **_LIVE}
        query["$and"] = [to_filter(rule, ctx.now, ctx.attrs, resolved)]
        return {str(d["pid"]) async for d in self._db[PROFILES].find(query, {"pid": 1})}

    @guarded
    async def explain_segment(
        self, app: str, rule: Rule, ctx: EvalContext, pid: str
    ) -> dict[str, bool] | None:
        """One ``count_documents`` per clause, each restricted to the profile's ``_id``."""
        key = {"_id": f"{app}/{pid}", **_LIVE}
        if await self._db[PROFILES].count_documents(key, limit=1) == 0:
            return None
        resolved = await self._resolve(app, rule, ctx)
        out: dict[str, bool] = {}
        for path, node in clauses(rule):
            query = {**key, "$and": [to_filter(node, ctx.now, ctx.attrs, resolved, path)]}
            out[path] = await self._db[PROFILES].count_documents(query, limit=1) > 0
        return out

    async def explain_plan(self, app: str, rule: Rule, ctx: EvalContext) -> dict[str, Any]:
        """The server's query plan of the count pipeline (``explain`` of ``aggregate``)."""
        stages = await self.pipeline(app, rule, ctx)
        cmd = {"aggregate": PROFILES, "pipeline": stages, "cursor": {}}
        plan: dict[str, Any] = await self._db.command("explain", cmd, verbosity="queryPlanner")
        return plan

    @guarded
    async def put_segment(self, segment: SavedSegment, *, expect_version: int | None = None) -> bool:
        """Upsert; ``expect_version`` 0 inserts only if absent, n replaces only version n (CAS)."""
        s = segment
        doc = {"_id": f"{s.app}/{s.id}", "app": s.app, "seg": s.id, "name": s.name, "rule": s.rule, "text": s.text,
               "mode": s.mode, "frozen_at": s.frozen_at, "created": s.created, "updated": s.updated,
               "version": s.version, "timed": s.timed}  # fmt: skip
        col = self._db[SEGMENTS]
        if expect_version == 0:
            try:
                await col.insert_one(doc)
            except DuplicateKeyError:
                return False
            return True
        if expect_version is not None:
            res = await col.replace_one({"_id": doc["_id"], "version": expect_version}, doc)
            return res.matched_count > 0
        await col.replace_one({"_id": doc["_id"]}, doc, upsert=True)
        return True

    @guarded
    async def get_segment(self, app: str, seg: str) -> SavedSegment | None:
        """The saved segment; None if absent."""
        doc = await self._db[SEGMENTS].find_one({"_id": f"{app}/{seg}"})
        return _segment(doc) if doc else None

    @guarded
    async def list_segments(self, app: str) -> list[SavedSegment]:
        """Every saved segment of ``app`` by id."""
        return [_segment(d) async for d in self._db[SEGMENTS].find({"app": app}).sort("seg", ASCENDING)]

    @guarded
    async def delete_segment(self, app: str, seg: str) -> bool:
        """Delete the definition, then its members."""
        res = await self._db[SEGMENTS].delete_one({"_id": f"{app}/{seg}"})
        await self._db[MEMBERS].delete_many({"app": app, "seg": seg})
        return res.deleted_count > 0

    @guarded
    async def change_members(
        self, app: str, seg: str, add: Collection[str], remove: Collection[str]
    ) -> tuple[list[str], list[str]]:
        """Upsert each added member, delete each removed one; report those that changed."""
        added, removed = [], []
        col = self._db[MEMBERS]
        for pid in sorted(set(add)):
            doc = {"app": app, "seg": seg, "pid": pid}
            res = await col.update_one({"_id": f"{app}/{seg}/{pid}"}, {"$setOnInsert": doc}, upsert=True)
            if res.upserted_id is not None:
                added.append(pid)
        for pid in sorted(set(remove) - set(add)):
            if (await col.delete_one({"_id": f"{app}/{seg}/{pid}"})).deleted_count:
                removed.append(pid)
        return added, removed

    @guarded
    async def stored_members(self, app: str, seg: str, after: str, limit: int) -> list[str]:
        """Stored members after ``after`` by pid (``(app, seg, pid)`` index)."""
        cursor = self._db[MEMBERS].find({"app": app, "seg": seg, "pid": {"$gt": after}}, {"pid": 1})
        return [d["pid"] async for d in cursor.sort("pid", ASCENDING).limit(limit)]

    @guarded
    async def is_stored_member(self, app: str, seg: str, pids: Collection[str]) -> set[str]:
        """Which of ``pids`` are stored members."""
        ids = [f"{app}/{seg}/{p}" for p in set(pids)]
        return {d["pid"] async for d in self._db[MEMBERS].find({"_id": {"$in": ids}}, {"pid": 1})}

    @guarded
    async def freeze_segment(self, app: str, seg: str, rule: Rule, ctx: EvalContext) -> int:
        """Replace the members page by page (1 000 pids at a time: memory stays one page)."""
        await self._db[MEMBERS].delete_many({"app": app, "seg": seg})
        after, total = "", 0
        while page := await self.segment_page(app, rule, ctx, after, 1000):
            await self._db[MEMBERS].insert_many(
                [{"_id": f"{app}/{seg}/{p}", "app": app, "seg": seg, "pid": p} for p in page]
            )
            total += len(page)
            after = page[-1]
        return total
