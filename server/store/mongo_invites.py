"""Invitations collection of the Mongo store.

A role class of the MongoDB adapter over the store's one :class:`MongoConnection`.
Implements :class:`~parley.server.invites_port.InvitationStore`.
A ``delete_one`` is atomic on its document: of concurrent deletes exactly one
counts it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, IndexModel, ReplaceOne
from pymongo.asynchronous.database import AsyncDatabase

from parley.server.invites_port import Invitation
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded

__all__ = ["INVITES_INDEXES", "InvitationCollections"]

INVITATIONS = "invitations"
NO_ID = {"_id": 0}

INVITES_INDEXES: dict[str, list[IndexModel]] = {
    INVITATIONS: [
        IndexModel(
            [("app", ASCENDING), ("conv", ASCENDING), ("user", ASCENDING)], name="app_conv_user", unique=True
        ),
        IndexModel([("app", ASCENDING), ("user", ASCENDING), ("conv", ASCENDING)], name="app_user_conv"),
    ],
}


def _invitation(d: Mapping[str, Any]) -> Invitation:
    return Invitation(
        d["app"], d["conv"], d["user"], d["inviter"], d["role"], int(d["created"]), int(d["expires"])
    )


class InvitationCollections:
    """The MongoDB adapter's :class:`~parley.server.invites_port.InvitationStore` role.

    The unique ``app_conv_user`` index keeps one invitation per key; every method is
    ``guarded`` (unreachable server or timeout → ``StoreUnavailable``).
    """

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def put_invitations(self, invitations: Sequence[Invitation]) -> None:
        """Upsert each invitation with one ordered ``bulk_write`` (a later one of the same key
        replaces an earlier one). Not a transaction: a failure part-way leaves the earlier ones stored.
        """
        if not invitations:
            return
        # ordered: a later invitation of the same key in the batch replaces an earlier one
        ops = [
            ReplaceOne({"app": i.app, "conv": i.conv, "user": i.user}, dataclasses.asdict(i), upsert=True)
            for i in invitations
        ]
        await self._db[INVITATIONS].bulk_write(ops, ordered=True)

    @guarded
    async def get_invitation(self, app: str, conv: str, user: str, now: int) -> Invitation | None:
        """The invitation of ``user`` to ``conv`` if ``expires > now``; None otherwise."""
        query = {"app": app, "conv": conv, "user": user, "expires": {"$gt": now}}
        d = await self._db[INVITATIONS].find_one(query, NO_ID)
        return _invitation(d) if d else None

    @guarded
    async def delete_invitation(self, app: str, conv: str, user: str) -> bool:
        """Delete the invitation, expired or not; ``delete_one`` is atomic on the document, so of
        concurrent deletes exactly one returns True.
        """
        result = await self._db[INVITATIONS].delete_one({"app": app, "conv": conv, "user": user})
        return result.deleted_count > 0

    @guarded
    async def list_invitations(
        self, app: str, user: str, now: int, *, after: str, limit: int
    ) -> list[Invitation]:
        """Up to ``limit`` unexpired invitations of ``user`` with ``conv > after``, ascending by conv."""
        query = {"app": app, "user": user, "conv": {"$gt": after}, "expires": {"$gt": now}}
        cursor = self._db[INVITATIONS].find(query, NO_ID).sort("conv", 1).limit(limit)
        return [_invitation(d) for d in await cursor.to_list()]

    @guarded
    async def count_invitations(self, app: str, users: Collection[str], now: int) -> dict[str, int]:
        """Per user, their unexpired invitations, in one aggregation; users with none are absent."""
        wanted = sorted(set(users))
        if not wanted:
            return {}
        pipeline: list[dict[str, Any]] = [
            {"$match": {"app": app, "user": {"$in": wanted}, "expires": {"$gt": now}}},
            {"$group": {"_id": "$user", "n": {"$sum": 1}}},
        ]
        cursor = await self._db[INVITATIONS].aggregate(pipeline)
        return {d["_id"]: int(d["n"]) async for d in cursor}

    @guarded
    async def delete_invitations_between(self, app: str, user: str, other: str) -> int:
        """Delete the invitations ``user`` sent ``other`` and ``other`` sent ``user``; returns how many."""
        query = {"app": app, "$or": [{"user": user, "inviter": other}, {"user": other, "inviter": user}]}
        result = await self._db[INVITATIONS].delete_many(query)
        return result.deleted_count

    @guarded
    async def purge_invitations(self, app: str, user: str, now: int) -> int:
        """Delete ``user``'s invitations with ``expires <= now``; returns how many."""
        query = {"app": app, "user": user, "expires": {"$lte": now}}
        result = await self._db[INVITATIONS].delete_many(query)
        return result.deleted_count
