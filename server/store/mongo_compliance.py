"""Erasure collections of the Mongo store: per-app tombstone salt, identifier tombstones, erase
records, and the delete of a person's audience documents.

A role class of the MongoDB adapter over the store's one :class:`MongoConnection`. Implements
:class:`~parley.server.compliance_port.ErasureStore`. ``delete_person_rows`` is a sequence of
``delete_many`` calls, each idempotent, with the profile documents deleted last: a crash part-way
leaves the profile readable, and running it again finishes the job.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from parley.server.activation_port import Delivery
from parley.server.compliance_port import ErasureRecord
from parley.server.store.mongo_activation import DELIVERIES
from parley.server.store.mongo_audience_docs import (
    CONSENT_LEDGER,
    IDENTIFIERS,
    MERGES,
    PROFILES,
    TAG_HISTORY,
)
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded
from parley.server.store.mongo_segments import MEMBERS

__all__ = ["COMPLIANCE_INDEXES", "ComplianceCollections"]

SALTS, TOMBSTONES, ERASURES = "aud_erase_salt", "aud_tombstones", "aud_erasures"

COMPLIANCE_INDEXES: dict[str, list[IndexModel]] = {
    ERASURES: [IndexModel([("app", ASCENDING), ("id", ASCENDING)], name="app_id", unique=True)],
    MEMBERS: [IndexModel([("app", ASCENDING), ("pid", ASCENDING)], name="app_pid")],
    DELIVERIES: [
        IndexModel([("app", ASCENDING), ("pid", ASCENDING), ("key", ASCENDING)], name="app_pid_key")
    ],
}


def _record(d: Mapping[str, Any]) -> ErasureRecord:
    return ErasureRecord(
        d["app"], d["id"], d["pid"], d["actor"], d["state"], int(d["started"]), int(d["finished"]),
        {str(k): int(v) for k, v in d["counts"].items()},
    )  # fmt: skip


def delivery_doc(d: Mapping[str, Any]) -> Delivery:
    """A delivery-ledger document (``mongo_activation``'s collection) as a :class:`Delivery`."""
    return Delivery(
        d["app"], d["key"], d["pid"], d["state"], d["owner"], int(d["lease_until"]), int(d["attempts"]),
        int(d["updated"]), int(d.get("retry_at", 0)), d.get("mid", ""), d.get("detail", ""),
    )  # fmt: skip


class ComplianceCollections:
    """The MongoDB adapter's :class:`~parley.server.compliance_port.ErasureStore` role; every
    method is ``guarded``."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def erase_salt(self, app: str, candidate: str) -> str:
        """The app's salt (insert by ``_id``; a duplicate key means another call won: read it)."""
        try:
            await self._db[SALTS].insert_one({"_id": app, "salt": candidate})
            return candidate
        except DuplicateKeyError:
            doc = await self._db[SALTS].find_one({"_id": app})
            assert doc is not None  # inserted by the winner, never deleted
            return str(doc["salt"])

    @guarded
    async def add_tombstones(self, app: str, digests: Collection[str], erasure: str, now: int) -> None:
        """Upsert each digest with ``$setOnInsert`` (an existing one stays)."""
        for d in digests:
            await self._db[TOMBSTONES].update_one(
                {"_id": f"{app}/{d}"},
                {"$setOnInsert": {"app": app, "digest": d, "erasure": erasure, "ts": now}},
                upsert=True,
            )

    @guarded
    async def remove_tombstones(self, app: str, digests: Collection[str]) -> int:
        """Delete the app's tombstones of ``digests`` (by ``_id``); how many were deleted."""
        ids = [f"{app}/{d}" for d in digests]
        if not ids:
            return 0
        return int((await self._db[TOMBSTONES].delete_many({"_id": {"$in": ids}})).deleted_count)

    @guarded
    async def tombstoned(self, app: str, digests: Collection[str]) -> list[str]:
        """Which of ``digests`` are the app's tombstones (by ``_id``)."""
        ids = [f"{app}/{d}" for d in digests]
        if not ids:
            return []
        return [str(d["digest"]) async for d in self._db[TOMBSTONES].find({"_id": {"$in": ids}})]

    @guarded
    async def delete_person_rows(self, app: str, pids: Collection[str]) -> int:
        """Delete the documents of ``pids``, the profiles last; how many profiles were deleted."""
        wanted = sorted(set(pids))
        if not wanted:
            return 0
        some = {"app": app, "pid": {"$in": wanted}}
        for name in (IDENTIFIERS, TAG_HISTORY, CONSENT_LEDGER, MEMBERS):
            await self._db[name].delete_many(some)
        await self._db[MERGES].delete_many(
            {"app": app, "$or": [{"winner": {"$in": wanted}}, {"loser": {"$in": wanted}}]}
        )
        res = await self._db[PROFILES].delete_many({"_id": {"$in": [f"{app}/{p}" for p in wanted]}})
        return int(res.deleted_count)

    @guarded
    async def deliveries_of(self, app: str, pid: str, *, after_key: str, limit: int) -> list[Delivery]:
        """The recipient's ledger rows with ``key > after_key``, by key (index ``app_pid_key``)."""
        query = {"app": app, "pid": pid, "key": {"$gt": after_key}}
        cursor = self._db[DELIVERIES].find(query).sort("key", ASCENDING).limit(limit)
        return [delivery_doc(d) async for d in cursor]

    @guarded
    async def save_erasure(self, record: ErasureRecord) -> None:
        """Create or replace the record (by ``_id`` ``app/id``)."""
        r = record
        doc = {
            "_id": f"{r.app}/{r.id}", "app": r.app, "id": r.id, "pid": r.pid, "actor": r.actor,
            "state": r.state, "started": r.started, "finished": r.finished, "counts": dict(r.counts),
        }  # fmt: skip
        await self._db[ERASURES].replace_one({"_id": doc["_id"]}, doc, upsert=True)

    @guarded
    async def get_erasure(self, app: str, erasure: str) -> ErasureRecord | None:
        """The record; None if there is none."""
        doc = await self._db[ERASURES].find_one({"_id": f"{app}/{erasure}"})
        return _record(doc) if doc else None

    @guarded
    async def list_erasures(self, app: str, *, after: str, limit: int) -> list[ErasureRecord]:
        """Up to ``limit`` records with ``id > after``, by id."""
        cursor = self._db[ERASURES].find({"app": app, "id": {"$gt": after}}).sort("id", ASCENDING)
        return [_record(d) async for d in cursor.limit(limit)]
