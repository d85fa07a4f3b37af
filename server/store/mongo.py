"""MongoDB adapter of :class:`~parley.server.ports.Store`, on ``pymongo.AsyncMongoClient``.

No transactions are used (a standalone ``mongod`` has none): every guarantee
rests on unique indexes (see :mod:`.mongo_docs`) and single-document atomic
updates (``$max`` for read positions and ``last_seq``). Message seqs are
assigned in :mod:`.mongo_messages`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Sequence
from typing import Any, ParamSpec, TypeVar

from pymongo import AsyncMongoClient, ReturnDocument, UpdateOne
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError, ConnectionFailure, DuplicateKeyError

from parley.server.models import App, Appended, Conversation, Member, NewMessage, StoredMessage, User
from parley.server.ports import StoreUnavailable
from parley.server.store.mongo_docs import (
    API_KEYS,
    APPS,
    CONVERSATIONS,
    INDEXES,
    MEMBERS,
    NO_ID,
    USERS,
    from_app,
    from_conversation,
    from_member,
    to_app,
    to_conversation,
    to_member,
    to_user,
)
from parley.server.store.mongo_errors import guarded
from parley.server.store.mongo_invites import INVITES_INDEXES, InvitationCollections
from parley.server.store.mongo_members import MEMBER_QUERY_INDEXES, MemberQueries
from parley.server.store.mongo_messages import DUPLICATE_KEY, MessageLog
from parley.server.store.mongo_safety import SAFETY_INDEXES, SafetyCollections
from parley.server.store.mongo_service import SERVICE_INDEXES, KnowledgeCollections, ServiceCollections

__all__ = ["MongoStore"]

P = ParamSpec("P")
T = TypeVar("T")
S = TypeVar("S", bound="MongoStore")


_guarded = guarded


class MongoStore(
    ServiceCollections, KnowledgeCollections, SafetyCollections, InvitationCollections, MemberQueries
):
    """The :class:`~parley.server.ports.Store` port on MongoDB (``url``, ``database``).

    ``server_selection_timeout_ms`` bounds how long a call waits for a reachable
    server before raising ``StoreUnavailable``; ``socket_timeout_ms`` bounds one
    round trip to a server that stopped answering, and ``operation_timeout_ms``
    the whole of one operation (retries included).
    """

    def __init__(
        self,
        url: str,
        database: str,
        *,
        server_selection_timeout_ms: int = 2000,
        socket_timeout_ms: int = 20_000,
        operation_timeout_ms: int = 3000,
    ) -> None:
        self._url = url
        self._database = database
        self._options: dict[str, Any] = {
            "serverSelectionTimeoutMS": server_selection_timeout_ms,
            "connectTimeoutMS": server_selection_timeout_ms,
            "socketTimeoutMS": socket_timeout_ms,
            # A deadline per operation (client-side operation timeout): a store
            # that stops answering makes sends fail fast with "unavailable"
            # instead of hanging until it comes back.
            "timeoutMS": operation_timeout_ms,
        }
        self._client: AsyncMongoClient[dict[str, Any]] | None = None
        self._log_: MessageLog | None = None

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        if self._client is None:
            raise RuntimeError("MongoStore is not open")
        return self._client[self._database]

    @property
    def _log(self) -> MessageLog:
        if self._log_ is None:
            raise RuntimeError("MongoStore is not open")
        return self._log_

    async def open(self) -> None:
        if self._client is not None:
            return
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self._url, **self._options)
        try:
            db = client[self._database]
            for name, indexes in INDEXES.items():
                await db[name].create_indexes(indexes)
            for name, indexes in SERVICE_INDEXES.items():
                await db[name].create_indexes(indexes)
            for name, indexes in {**SAFETY_INDEXES, **INVITES_INDEXES}.items():
                await db[name].create_indexes(indexes)
            for name, indexes in MEMBER_QUERY_INDEXES.items():
                await db[name].create_indexes(indexes)
        except ConnectionFailure as exc:
            await client.close()
            raise StoreUnavailable(f"mongo: {exc}") from exc
        except BaseException:
            await client.close()
            raise
        self._client = client
        self._log_ = MessageLog(db)

    async def close(self) -> None:
        client, self._client, self._log_ = self._client, None, None
        if client is not None:
            await client.close()

    @_guarded
    async def ping(self) -> None:
        await self._db.command("ping")

    # apps -------------------------------------------------------------
    @_guarded
    async def create_app(self, app: App) -> None:
        """Create ``app``; raises ``ValueError`` if the id is taken."""
        try:
            await self._db[APPS].insert_one(from_app(app))
        except DuplicateKeyError:
            raise ValueError(f"app {app.app!r} exists") from None

    @_guarded
    async def get_app(self, app: str) -> App | None:
        doc = await self._db[APPS].find_one({"app": app}, NO_ID)
        return to_app(doc) if doc else None

    @_guarded
    async def list_apps(self) -> list[App]:
        return sorted(
            (to_app(d) for d in await self._db[APPS].find({}, NO_ID).to_list()), key=lambda a: a.app
        )

    @_guarded
    async def add_api_key(self, app: str, key_hash: str, created: int) -> None:
        with contextlib.suppress(DuplicateKeyError):  # already stored: adding a key is idempotent
            await self._db[API_KEYS].insert_one({"key_hash": key_hash, "app": app, "created": created})

    @_guarded
    async def app_for_key(self, key_hash: str) -> App | None:
        doc = await self._db[API_KEYS].find_one({"key_hash": key_hash}, NO_ID)
        return await self.get_app(doc["app"]) if doc else None

    # users ------------------------------------------------------------
    @_guarded
    async def upsert_user(self, user: User) -> User:
        update = {
            "$set": {"name": user.name, "role": user.role, "meta": user.meta},
            "$setOnInsert": {"created": user.created, "last_seen": user.last_seen},
        }
        return to_user(await self._upsert(USERS, {"app": user.app, "user": user.user}, update))

    @_guarded
    async def get_user(self, app: str, user: str) -> User | None:
        doc = await self._db[USERS].find_one({"app": app, "user": user}, NO_ID)
        return to_user(doc) if doc else None

    @_guarded
    async def set_last_seen(self, app: str, user: str, ts: int) -> None:
        # $max: several gateway nodes may report the same user out of order.
        update = {
            "$max": {"last_seen": ts},
            "$setOnInsert": {"name": "", "role": "user", "meta": {}, "created": ts},
        }
        await self._upsert(USERS, {"app": app, "user": user}, update)

    async def _upsert(self, collection: str, key: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
        """Upsert one document and return it; retried once because two concurrent
        upserts of a new key race on the unique index (the loser then updates)."""
        for attempt in (1, 2):
            try:
                doc = await self._db[collection].find_one_and_update(
                    key, update, projection=NO_ID, upsert=True, return_document=ReturnDocument.AFTER
                )
                assert doc is not None  # upsert + AFTER always yields a document
                return doc
            except DuplicateKeyError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    # conversations ----------------------------------------------------
    @_guarded
    async def create_conversation(self, conv: Conversation, members: Sequence[Member]) -> Conversation:
        """See the port. A ``conv`` id that already exists also returns the stored one unchanged."""
        convs = self._db[CONVERSATIONS]
        by_direct = {"app": conv.app, "direct_key": conv.direct_key}
        if conv.direct_key is not None and (doc := await convs.find_one(by_direct, NO_ID)):
            return to_conversation(doc)
        doc = from_conversation(conv)
        try:
            await convs.insert_one(doc)
        except DuplicateKeyError:
            # Lost a race for this direct pair, or the id is taken.
            found = await convs.find_one(by_direct, NO_ID) if conv.direct_key is not None else None
            found = found or await convs.find_one({"app": conv.app, "conv": conv.conv}, NO_ID)
            if found is None:
                raise
            return to_conversation(found)
        # Not atomic with the insert above (no transactions): a crash here
        # leaves a conversation without members, which nobody lists.
        await self._insert_members(members)
        return to_conversation(doc)

    @_guarded
    async def get_conversation(self, app: str, conv: str) -> Conversation | None:
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
        doc = await self._db[MEMBERS].find_one({"app": app, "conv": conv, "user": user}, NO_ID)
        return to_member(doc) if doc else None

    @_guarded
    async def list_members(self, app: str, conv: str) -> list[Member]:
        """See the port; ordered by join time, then user id."""
        docs = await self._db[MEMBERS].find({"app": app, "conv": conv}, NO_ID).to_list()
        return sorted((to_member(d) for d in docs), key=lambda m: (m.joined, m.user))

    @_guarded
    async def add_members(self, members: Sequence[Member]) -> list[Member]:
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
        if not users:
            return []
        query = {"app": app, "conv": conv, "user": {"$in": list(users)}}
        found = [d["user"] for d in await self._db[MEMBERS].find(query, {"_id": 0, "user": 1}).to_list()]
        if found:
            await self._db[MEMBERS].delete_many(query)
        return found

    @_guarded
    async def set_member_role(self, app: str, conv: str, user: str, role: str) -> bool:
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

    # messages ---------------------------------------------------------
    @_guarded
    async def append(self, batch: Sequence[NewMessage]) -> list[Appended]:
        return await self._log.append(batch) if batch else []

    @_guarded
    async def get_messages(self, app: str, conv: str, first: int, last: int) -> list[StoredMessage]:
        return await self._log.get_messages(app, conv, first, last)

    @_guarded
    async def edit_message(
        self, app: str, conv: str, seq: int, body: dict[str, Any], edited: int
    ) -> StoredMessage | None:
        """See the port. A recalled message is returned unchanged (check ``.recalled``)."""
        return await self._log.edit_message(app, conv, seq, body, edited)

    @_guarded
    async def recall_message(self, app: str, conv: str, seq: int) -> StoredMessage | None:
        return await self._log.recall_message(app, conv, seq)
