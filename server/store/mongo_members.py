"""Bounded membership queries of the MongoDB store: pages, counts, who shares a conversation,
and the app's reach policy that uses them.

A role class of the MongoDB adapter over the store's one :class:`MongoConnection`. Queries keep to the adapter's
rule (equality on an index prefix, at most one ``$in`` or range on the next field).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from parley.server.models import AppPolicy, Member
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_docs import CONVERSATIONS, MEMBERS, NO_ID, USERS, to_member
from parley.server.store.mongo_errors import guarded

__all__ = ["MEMBER_QUERY_INDEXES", "MemberQueries"]

APP_POLICIES = "app_policies"

MEMBER_QUERY_INDEXES: dict[str, list[IndexModel]] = {
    APP_POLICIES: [IndexModel([("app", ASCENDING)], name="app", unique=True)],
    CONVERSATIONS: [
        IndexModel([("app", ASCENDING), ("created_by", ASCENDING), ("created", ASCENDING)], name="creator")
    ],
}


class MemberQueries:
    """The MongoDB adapter's bounded membership queries and reach policy (part of the
    :class:`~parley.server.store_ports.Directory` and :class:`~parley.server.store_ports.Conversations`
    roles). Each answers in a bounded number of round trips whatever the number of users, on
    the store's one :class:`MongoConnection`; every method is ``guarded``.
    """

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def last_seen_of(self, app: str, users: Collection[str]) -> dict[str, int]:
        """See the port."""
        if not users:
            return {}
        query = {"app": app, "user": {"$in": list(dict.fromkeys(users))}}
        docs = await self._db[USERS].find(query, {"_id": 0, "user": 1, "last_seen": 1}).to_list()
        return {d["user"]: int(d.get("last_seen", 0)) for d in docs}

    @guarded
    async def shared_with(self, app: str, user: str, candidates: Collection[str]) -> set[str]:
        """See the port."""
        wanted = [u for u in dict.fromkeys(candidates) if u != user]
        if not wanted:
            return set()
        mine = {
            d["conv"]
            for d in await self._db[MEMBERS].find({"app": app, "user": user}, {"_id": 0, "conv": 1}).to_list()
        }
        theirs = self._db[MEMBERS].find(
            {"app": app, "user": {"$in": wanted}}, {"_id": 0, "conv": 1, "user": 1}
        )
        return {d["user"] for d in await theirs.to_list() if d["conv"] in mine}

    @guarded
    async def count_created_since(self, app: str, user: str, since: int) -> int:
        """See the port."""
        query = {"app": app, "created_by": user, "created": {"$gte": since}, "kind": {"$ne": "direct"}}
        return int(await self._db[CONVERSATIONS].count_documents(query))

    @guarded
    async def count_joined_since(self, app: str, users: Collection[str], since: int) -> dict[str, int]:
        """See the port."""
        if not users:
            return {}
        query = {"app": app, "user": {"$in": list(dict.fromkeys(users))}, "joined": {"$gte": since}}
        counts: dict[str, int] = {}
        async for doc in self._db[MEMBERS].find(query, {"_id": 0, "user": 1}):
            counts[doc["user"]] = counts.get(doc["user"], 0) + 1
        return counts

    @guarded
    async def count_members(self, app: str, conv: str) -> int:
        """See the port."""
        return int(await self._db[MEMBERS].count_documents({"app": app, "conv": conv}))

    @guarded
    async def member_page(self, app: str, conv: str, after: str, limit: int) -> list[Member]:
        """See the port."""
        query = {"app": app, "conv": conv, "user": {"$gt": after}}
        docs = await self._db[MEMBERS].find(query, NO_ID).sort("user", 1).limit(limit).to_list()
        return [to_member(d) for d in docs]

    @guarded
    async def get_app_policy(self, app: str) -> AppPolicy | None:
        """See the port."""
        doc = await self._db[APP_POLICIES].find_one({"app": app}, NO_ID)
        return AppPolicy(app, doc.get("presence", ""), doc.get("add", "")) if doc else None

    @guarded
    async def set_app_policy(self, policy: AppPolicy) -> None:
        """See the port."""
        doc = {"app": policy.app, "presence": policy.presence, "add": policy.add}
        await self._db[APP_POLICIES].replace_one({"app": policy.app}, doc, upsert=True)
