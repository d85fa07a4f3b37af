"""Campaigns collection of the Mongo store.

A role class of the MongoDB adapter over the store's one :class:`MongoConnection`. Implements
:class:`~parley.server.campaign_port.CampaignStore`: one document per campaign
(``_id = app/cid``); every compare-and-set is a single-document ``find_one_and_update`` /
``update_one`` whose filter is the condition (atomic on the document).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from parley.proto.plain import repair
from parley.server.campaign_port import RUNNABLE, Campaign
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded

__all__ = ["CAMPAIGNS_INDEXES", "CampaignCollections"]

CAMPAIGNS = "act_campaigns"

CAMPAIGNS_INDEXES: dict[str, list[IndexModel]] = {
    CAMPAIGNS: [
        IndexModel([("app", ASCENDING), ("cid", ASCENDING)], name="app_cid"),
        IndexModel([("state", ASCENDING), ("start_at", ASCENDING)], name="state_start"),
    ],
}

_FIELDS = (
    "app",
    "cid",
    "state",
    "start_at",
    "doc",
    "cursor",
    "version",
    "owner",
    "lease_until",
    "created",
    "updated",
)


def _campaign(d: Mapping[str, Any]) -> Campaign:
    """Plain values: BSON reads integers past 32 bits (every ms time) as ``bson.Int64``, which
    msgspec refuses to encode (the admin API's campaign answered 500)."""
    return Campaign(**{k: repair(d[k]) for k in _FIELDS})


class CampaignCollections:
    """The MongoDB adapter's :class:`~parley.server.campaign_port.CampaignStore` role."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def create_campaign(self, campaign: Campaign) -> bool:
        """``insert_one`` with ``_id = app/cid``: False on a duplicate key."""
        c = campaign
        doc = {
            "_id": f"{c.app}/{c.cid}", "app": c.app, "cid": c.cid, "state": c.state, "start_at": c.start_at,
            "doc": c.doc, "cursor": c.cursor, "version": 1, "owner": "", "lease_until": 0,
            "created": c.created, "updated": c.updated,
        }  # fmt: skip
        try:
            await self._db[CAMPAIGNS].insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    @guarded
    async def get_campaign(self, app: str, cid: str) -> Campaign | None:
        """The campaign document; None if absent."""
        d = await self._db[CAMPAIGNS].find_one({"_id": f"{app}/{cid}"})
        return _campaign(d) if d else None

    @guarded
    async def list_campaigns(self, app: str) -> list[Campaign]:
        """The app's campaigns by id."""
        cursor = self._db[CAMPAIGNS].find({"app": app}).sort("cid", 1)
        return [_campaign(d) for d in await cursor.to_list()]

    @guarded
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
        """``find_one_and_update`` filtered on the version: the CAS."""
        sets: dict[str, Any] = {"updated": now}
        if state is not None:
            sets["state"] = state
        if cursor is not None:
            sets["cursor"] = cursor
        if start_at is not None:
            sets["start_at"] = start_at
        d = await self._db[CAMPAIGNS].find_one_and_update(
            {"_id": f"{app}/{cid}", "version": expect_version},
            {"$set": sets, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )
        return _campaign(d) if d else None

    @guarded
    async def lease_campaign(self, app: str, cid: str, *, owner: str, now: int, lease_ms: int) -> bool:
        """``update_one`` whose filter is the lease condition."""
        result = await self._db[CAMPAIGNS].update_one(
            {
                "_id": f"{app}/{cid}",
                "state": {"$in": list(RUNNABLE)},
                "start_at": {"$lte": now},
                "$or": [{"lease_until": {"$lte": now}}, {"owner": owner}],
            },
            {"$set": {"owner": owner, "lease_until": now + lease_ms}},
        )
        return result.modified_count > 0 or result.matched_count > 0

    @guarded
    async def due_campaigns(self, now: int, limit: int) -> list[tuple[str, str]]:
        """Runnable, started, unleased campaigns."""
        query = {"state": {"$in": list(RUNNABLE)}, "start_at": {"$lte": now}, "lease_until": {"$lte": now}}
        cursor = self._db[CAMPAIGNS].find(query).sort("start_at", 1).limit(limit)
        return [(d["app"], d["cid"]) for d in await cursor.to_list()]
