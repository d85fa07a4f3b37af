"""The conversations role of the MongoDB adapter: conversations, members and read positions
(:class:`~parley.server.store_ports.Conversations`; the bounded membership queries are in
``mongo_members``). A small class over the store's one :class:`MongoConnection`."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from typing import Any

from pymongo import ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from parley.server.models import Conversation, Member
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_docs import (
    CONVERSATIONS,
    MEMBERS,
    NO_ID,
    from_conversation,
    from_member,
    to_conversation,
    to_member,
)
from parley.server.store.mongo_errors import guarded as _guarded
from parley.server.store.mongo_messages import DUPLICATE_KEY

__all__ = ["MongoConversations"]


class MongoConversations:
    """Conversations, members and reads on the shared client."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    # conversations ----------------------------------------------------
    @_guarded
    async def create_conversation(self, conv: Conversation, members: Sequence[Member]) -> Conversation:
        """See the port. A ``conv`` id that already exists also returns the stored one unchanged."""
        convs = self._db[CONVERSATIONS]
        by_direct = {"app": conv.app, "direct_key": conv.direct_key}
        if conv.direct_key is not None and (doc := await convs.find_one(by_direct, NO_ID)):
            return await self._direct_with_members(to_conversation(doc), members)
        doc = from_conversation(conv)
        try:
            await convs.insert_one(doc)
        except DuplicateKeyError:
            # Lost a race for this direct pair, or the id is taken.
            found = await convs.find_one(by_direct, NO_ID) if conv.direct_key is not None else None
            found = found or await convs.find_one({"app": conv.app, "conv": conv.conv}, NO_ID)
            if found is None:
                raise
            return await self._direct_with_members(to_conversation(found), members)
        # Not atomic with the insert above (no transactions): a crash here leaves a conversation
        # without members, which nobody lists; a direct one is repaired by the next create.
        await self._insert_members(members)
        return to_conversation(doc)

    async def _direct_with_members(self, existing: Conversation, members: Sequence[Member]) -> Conversation:
        """An existing direct conversation, with its members written before the caller sees it.

        The creator that won the insert writes the members after it; a racing creator (or one
        after a crash between the two writes) would otherwise get a conversation without members
        and be refused as a non-member. Its own rows name the same pair (the key is the pair),
        and duplicates are ignored. A conversation that has members is never touched: a row
        under an older key scheme could name another pair.
        """
        if existing.direct_key is None:
            return existing
        if await self._db[MEMBERS].find_one({"app": existing.app, "conv": existing.conv}, {"_id": 1}):
            return existing
        await self._insert_members([dataclasses.replace(m, conv=existing.conv) for m in members])
        return existing

    @_guarded
    async def get_conversation(self, app: str, conv: str) -> Conversation | None:
        """The conversation with its current ``last_seq`` (advanced by ``append``); None if absent."""
        doc = await self._db[CONVERSATIONS].find_one({"app": app, "conv": conv}, NO_ID)
        return to_conversation(doc) if doc else None

    @_guarded
    async def update_conversation(
        self, app: str, conv: str, *, name: str | None = None, meta: dict[str, Any] | None = None
    ) -> Conversation | None:
        """Set ``name`` and/or replace ``meta`` (not merged); None if the conversation is absent."""
        changes: dict[str, Any] = {}
        if name is not None:
            changes["name"] = name
        if meta is not None:
            changes["meta"] = meta
        key = {"app": app, "conv": conv}
        convs = self._db[CONVERSATIONS]
        if changes:
            doc = await convs.find_one_and_update(
                key, {"$set": changes}, projection=NO_ID, return_document=ReturnDocument.AFTER
            )
        else:
            doc = await convs.find_one(key, NO_ID)
        return to_conversation(doc) if doc else None

    @_guarded
    async def list_user_conversations(self, app: str, user: str) -> list[tuple[Conversation, Member]]:
        """See the port; ordered by conversation id."""
        members = {
            d["conv"]: to_member(d)
            for d in await self._db[MEMBERS].find({"app": app, "user": user}, NO_ID).to_list()
        }
        if not members:
            return []
        query = {"app": app, "conv": {"$in": list(members)}}
        convs = [to_conversation(d) for d in await self._db[CONVERSATIONS].find(query, NO_ID).to_list()]
        return [(c, members[c.conv]) for c in sorted(convs, key=lambda c: c.conv)]

    # members ----------------------------------------------------------
    @_guarded
    async def get_member(self, app: str, conv: str, user: str) -> Member | None:
        """``user``'s membership of ``conv`` (role, joined, read position); None if not a member."""
        doc = await self._db[MEMBERS].find_one({"app": app, "conv": conv, "user": user}, NO_ID)
        return to_member(doc) if doc else None

    @_guarded
    async def list_members(self, app: str, conv: str) -> list[Member]:
        """See the port; ordered by join time, then user id."""
        docs = await self._db[MEMBERS].find({"app": app, "conv": conv}, NO_ID).to_list()
        return sorted((to_member(d) for d in docs), key=lambda m: (m.joined, m.user))

    @_guarded
    async def add_members(self, members: Sequence[Member]) -> list[Member]:
        """Insert the members with one unordered ``insert_many``; returns those newly added.

        Existing members are left untouched: their duplicate-key errors are dropped, any other
        write error is raised. The unique ``(app, conv, user)`` index makes two concurrent adds of
        one user report it exactly once.
        """
        return await self._insert_members(members)

    async def _insert_members(self, members: Sequence[Member]) -> list[Member]:
        if not members:
            return []
        try:
            await self._db[MEMBERS].insert_many([from_member(m) for m in members], ordered=False)
        except BulkWriteError as exc:
            errors = exc.details["writeErrors"]
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            existing = {e["index"] for e in errors}
            return [m for i, m in enumerate(members) if i not in existing]
        return list(members)

    @_guarded
    async def remove_members(self, app: str, conv: str, users: Collection[str]) -> list[str]:
        """Delete the memberships of ``users``; returns those that were members.

        Read then delete (no transaction): two removals of one user at once may both report it.
        """
        if not users:
            return []
        query = {"app": app, "conv": conv, "user": {"$in": list(users)}}
        found = [d["user"] for d in await self._db[MEMBERS].find(query, {"_id": 0, "user": 1}).to_list()]
        if found:
            await self._db[MEMBERS].delete_many(query)
        return found

    @_guarded
    async def set_member_role(self, app: str, conv: str, user: str, role: str) -> bool:
        """Set the member's role (one ``update_one``); False if ``user`` is not a member."""
        result = await self._db[MEMBERS].update_one(
            {"app": app, "conv": conv, "user": user}, {"$set": {"role": role}}
        )
        return result.matched_count > 0

    @_guarded
    async def set_read(self, app: str, conv: str, user: str, seq: int) -> int:
        """See the port; returns 0 (and stores nothing) if ``user`` is not a member."""
        doc = await self._db[MEMBERS].find_one_and_update(
            {"app": app, "conv": conv, "user": user},
            {"$max": {"read_seq": seq}},
            projection={"_id": 0, "read_seq": 1},
            return_document=ReturnDocument.AFTER,
        )
        return int(doc["read_seq"]) if doc else 0

    @_guarded
    async def set_reads(self, positions: Sequence[tuple[str, str, str, int]]) -> None:
        """See the port: one unordered bulk write of ``$max`` updates."""
        if positions:
            await self._db[MEMBERS].bulk_write(
                [
                    UpdateOne({"app": app, "conv": conv, "user": user}, {"$max": {"read_seq": seq}})
                    for app, conv, user, seq in positions
                ],
                ordered=False,
            )
