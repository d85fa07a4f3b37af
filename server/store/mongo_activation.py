"""Delivery ledger, cap touches and send-policy records of the Mongo store.

A role class of the MongoDB adapter over the store's one :class:`MongoConnection`. Implements
:class:`~parley.server.activation_port.ActivationStore` without transactions:

* a delivery is one document with ``_id = app/key/pid``: the first claim is an ``insert_one``
  (the unique ``_id`` lets exactly one of concurrent inserts succeed), a take-over a
  ``find_one_and_update`` whose filter is the take-over condition, and a settle an
  ``update_one`` filtered on ``state: pending, owner`` — each atomic on its document;
* a recipient's touches are one document ``{_id: app/pid, v, touches: [{k, ts}]}``: a
  reservation reads it, decides in Python and writes it back with ``update_one`` filtered on the
  version it read (compare-and-set), retrying from the read when another writer got there first;
  the first touch is an insert that fails on a concurrent insert (and retries the same way).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from parley.server.activation_port import DEFERRED, PENDING, CapWindow, Delivery
from parley.server.ports import StoreUnavailable
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded

__all__ = ["ACTIVATION_INDEXES", "ActivationCollections"]

DELIVERIES = "act_deliveries"
TOUCHES = "act_touches"
POLICIES = "act_policies"
#: Compare-and-set rounds before a reservation gives up (only under extreme contention on one recipient).
_CAS_ROUNDS = 200
#: Touches older than this are forgotten when a recipient's document is rewritten (the longest cap
#: window is 31 days).
_KEEP_MS = 32 * 86_400_000

ACTIVATION_INDEXES: dict[str, list[IndexModel]] = {
    DELIVERIES: [
        IndexModel(
            [("app", ASCENDING), ("key", ASCENDING), ("pid", ASCENDING)], name="app_key_pid", unique=True
        ),
        IndexModel([("app", ASCENDING), ("key", ASCENDING), ("state", ASCENDING)], name="app_key_state"),
        IndexModel([("app", ASCENDING), ("key", ASCENDING), ("retry_at", ASCENDING)], name="app_key_retry"),
    ],
}


def _delivery(d: Mapping[str, Any]) -> Delivery:
    return Delivery(
        d["app"], d["key"], d["pid"], d["state"], d["owner"], int(d["lease_until"]), int(d["attempts"]),
        int(d["updated"]), int(d.get("retry_at", 0)), d.get("mid", ""), d.get("detail", ""),
    )  # fmt: skip


class ActivationCollections:
    """The MongoDB adapter's :class:`~parley.server.activation_port.ActivationStore` role."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def claim_delivery(
        self, app: str, key: str, pid: str, *, owner: str, now: int, lease_ms: int
    ) -> Delivery | None:
        """Insert the pending document, or take over an expired pending / due deferred one with a
        conditional ``find_one_and_update``; None otherwise."""
        doc = {
            "_id": f"{app}/{key}/{pid}", "app": app, "key": key, "pid": pid, "state": PENDING, "owner": owner,
            "lease_until": now + lease_ms, "attempts": 1, "updated": now, "retry_at": 0, "mid": "", "detail": "",
        }  # fmt: skip
        try:
            await self._db[DELIVERIES].insert_one(doc)
            return _delivery(doc)
        except DuplicateKeyError:
            pass
        takeover = {
            "_id": doc["_id"],
            "$or": [
                {"state": PENDING, "lease_until": {"$lte": now}},
                {"state": {"$in": list(DEFERRED)}, "retry_at": {"$lte": now}},
            ],
        }
        update = {"$set": {"state": PENDING, "owner": owner, "lease_until": now + lease_ms, "updated": now},
                  "$inc": {"attempts": 1}}  # fmt: skip
        found = await self._db[DELIVERIES].find_one_and_update(
            takeover, update, return_document=ReturnDocument.AFTER
        )
        return _delivery(found) if found else None

    @guarded
    async def settle_delivery(
        self, app: str, key: str, pid: str, *, owner: str, state: str, now: int,
        retry_at: int = 0, mid: str = "", detail: str = "",
    ) -> bool:  # fmt: skip
        """``update_one`` filtered on ``state: pending`` and ``owner``: a compare-and-set."""
        result = await self._db[DELIVERIES].update_one(
            {"_id": f"{app}/{key}/{pid}", "state": PENDING, "owner": owner},
            {"$set": {"state": state, "updated": now, "retry_at": retry_at, "mid": mid, "detail": detail,
                      "lease_until": 0}},
        )  # fmt: skip
        return result.modified_count > 0

    @guarded
    async def get_delivery(self, app: str, key: str, pid: str) -> Delivery | None:
        """The document of ``(key, pid)``; None if never claimed."""
        d = await self._db[DELIVERIES].find_one({"_id": f"{app}/{key}/{pid}"})
        return _delivery(d) if d else None

    @guarded
    async def list_deliveries(self, app: str, key: str, *, after: str, limit: int) -> list[Delivery]:
        """Up to ``limit`` documents of ``key`` with ``pid > after``, ascending by pid."""
        cursor = (
            self._db[DELIVERIES]
            .find({"app": app, "key": key, "pid": {"$gt": after}})
            .sort("pid", 1)
            .limit(limit)
        )
        return [_delivery(d) for d in await cursor.to_list()]

    @guarded
    async def count_deliveries(self, app: str, key: str) -> dict[str, int]:
        """Documents of ``key`` per state, in one aggregation."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"app": app, "key": key}},
            {"$group": {"_id": "$state", "n": {"$sum": 1}}},
        ]
        cursor = await self._db[DELIVERIES].aggregate(pipeline)
        return {d["_id"]: int(d["n"]) async for d in cursor}

    @guarded
    async def deferred_deliveries(self, app: str, key: str, *, due_by: int, limit: int) -> list[Delivery]:
        """Deferred documents due by ``due_by``, earliest first (index ``app_key_retry``)."""
        query = {
            "app": app,
            "key": key,
            "retry_at": {"$gt": 0, "$lte": due_by},
            "state": {"$in": list(DEFERRED)},
        }
        cursor = self._db[DELIVERIES].find(query).sort([("retry_at", 1), ("pid", 1)]).limit(limit)
        return [_delivery(d) for d in await cursor.to_list()]

    @guarded
    async def reserve_touch(
        self, app: str, pid: str, key: str, ts: int, windows: Sequence[CapWindow]
    ) -> bool:
        """Read the recipient's document, decide, write it back only if its version is unchanged."""
        coll = self._db[TOUCHES]
        _id = f"{app}/{pid}"
        for _ in range(_CAS_ROUNDS):
            doc = await coll.find_one({"_id": _id})
            touches: list[dict[str, Any]] = list(doc["touches"]) if doc else []
            if any(t["k"] == key for t in touches):
                return True
            if any(sum(1 for t in touches if t["ts"] >= w.since) >= w.limit for w in windows):
                return False
            oldest = min([ts - _KEEP_MS, *(w.since for w in windows)])
            kept = [t for t in touches if t["ts"] >= oldest] + [{"k": key, "ts": ts}]
            if doc is None:
                try:
                    await coll.insert_one({"_id": _id, "app": app, "pid": pid, "v": 1, "touches": kept})
                    return True
                except DuplicateKeyError:
                    continue
            result = await coll.update_one(
                {"_id": _id, "v": doc["v"]}, {"$set": {"touches": kept}, "$inc": {"v": 1}}
            )
            if result.modified_count:
                return True
        raise StoreUnavailable(
            f"mongo: touch reservation of {pid!r} lost {_CAS_ROUNDS} compare-and-set rounds"
        )

    @guarded
    async def release_touch(self, app: str, pid: str, key: str) -> bool:
        """``$pull`` the touch (atomic on the document; bumps the version so a concurrent CAS retries)."""
        result = await self._db[TOUCHES].update_one(
            {"_id": f"{app}/{pid}", "touches.k": key}, {"$pull": {"touches": {"k": key}}, "$inc": {"v": 1}}
        )
        return result.modified_count > 0

    @guarded
    async def count_touches(self, app: str, pid: str, since: int) -> int:
        """Touches of ``pid`` with ``ts >= since``."""
        doc = await self._db[TOUCHES].find_one({"_id": f"{app}/{pid}"})
        return sum(1 for t in doc["touches"] if t["ts"] >= since) if doc else 0

    @guarded
    async def get_send_policy(self, app: str) -> dict[str, Any] | None:
        """The app's stored settings object."""
        d = await self._db[POLICIES].find_one({"_id": app})
        return dict(d["policy"]) if d else None

    @guarded
    async def put_send_policy(self, app: str, policy: dict[str, Any]) -> None:
        """Replace the app's settings object."""
        await self._db[POLICIES].replace_one({"_id": app}, {"_id": app, "policy": policy}, upsert=True)
