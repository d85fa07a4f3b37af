"""Safety collections of the Mongo store: blocks (and, later, moderation, audit, words, reports).

A mixin of :class:`~parley.server.store.mongo.MongoStore` (uses ``self._db``).
Implements :class:`~parley.server.safety_port.SafetyStore`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from parley.server.safety_models import BlockRecord
from parley.server.store.mongo_errors import guarded

__all__ = ["SAFETY_INDEXES", "SafetyCollections"]

BLOCKS = "blocks"
NO_ID = {"_id": 0}

SAFETY_INDEXES: dict[str, list[IndexModel]] = {
    BLOCKS: [
        IndexModel(
            [("app", ASCENDING), ("blocker", ASCENDING), ("blocked", ASCENDING)], name="app_pair", unique=True
        ),
        IndexModel([("app", ASCENDING), ("blocked", ASCENDING)], name="app_blocked"),
    ],
}


def _block(d: Mapping[str, Any]) -> BlockRecord:
    return BlockRecord(d["app"], d["blocker"], d["blocked"], int(d["created"]))


class SafetyCollections:
    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        raise NotImplementedError  # provided by MongoStore

    @guarded
    async def add_block(self, app: str, blocker: str, blocked: str, created: int) -> bool:
        try:
            await self._db[BLOCKS].insert_one(
                {"app": app, "blocker": blocker, "blocked": blocked, "created": created}
            )
        except DuplicateKeyError:
            return False
        return True

    @guarded
    async def remove_block(self, app: str, blocker: str, blocked: str) -> bool:
        result = await self._db[BLOCKS].delete_one({"app": app, "blocker": blocker, "blocked": blocked})
        return result.deleted_count > 0

    @guarded
    async def list_blocks(self, app: str, blocker: str) -> list[BlockRecord]:
        docs = (
            await self._db[BLOCKS].find({"app": app, "blocker": blocker}, NO_ID).sort("blocked", 1).to_list()
        )
        return [_block(d) for d in docs]

    @guarded
    async def blocks_between(self, app: str, user: str, others: Collection[str]) -> list[BlockRecord]:
        wanted = sorted(set(others))
        if not wanted:
            return []
        query = {
            "app": app,
            "$or": [
                {"blocker": user, "blocked": {"$in": wanted}},
                {"blocked": user, "blocker": {"$in": wanted}},
            ],
        }
        return [_block(d) for d in await self._db[BLOCKS].find(query, NO_ID).to_list()]
