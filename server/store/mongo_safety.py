"""Safety collections of the Mongo store: blocks, user status, mutes, audit, retired secrets and
API keys, word lists, the review queue.

A role class of the MongoDB adapter over the store's one :class:`MongoConnection`.
Implements :class:`~parley.server.safety_port.SafetyStore`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Collection, Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from parley.server.safety_models import (
    ApiKeyRecord,
    AuditRecord,
    BlockRecord,
    Mute,
    RetiredSecret,
    ReviewItem,
    UserStatus,
    WordList,
)
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_docs import API_KEYS, APPS
from parley.server.store.mongo_errors import guarded

__all__ = ["SAFETY_INDEXES", "SafetyCollections"]

BLOCKS = "blocks"
USER_STATUS = "user_status"
MUTES = "mutes"
AUDIT = "audit"
RETIRED_SECRETS = "retired_secrets"
WORD_LISTS = "word_lists"
REVIEWS = "reviews"
NO_ID = {"_id": 0}

SAFETY_INDEXES: dict[str, list[IndexModel]] = {
    BLOCKS: [
        IndexModel(
            [("app", ASCENDING), ("blocker", ASCENDING), ("blocked", ASCENDING)], name="app_pair", unique=True
        ),
        IndexModel([("app", ASCENDING), ("blocked", ASCENDING)], name="app_blocked"),
    ],
    USER_STATUS: [IndexModel([("app", ASCENDING), ("user", ASCENDING)], name="app_user", unique=True)],
    MUTES: [
        IndexModel(
            [("app", ASCENDING), ("conv", ASCENDING), ("user", ASCENDING)], name="app_conv_user", unique=True
        )
    ],
    AUDIT: [
        IndexModel([("app", ASCENDING), ("id", ASCENDING)], name="app_id", unique=True),
        IndexModel([("app", ASCENDING), ("actor", ASCENDING), ("id", ASCENDING)], name="app_actor_id"),
        IndexModel([("app", ASCENDING), ("target", ASCENDING), ("id", ASCENDING)], name="app_target_id"),
    ],
    WORD_LISTS: [IndexModel([("app", ASCENDING), ("name", ASCENDING)], name="app_name", unique=True)],
    REVIEWS: [
        IndexModel([("app", ASCENDING), ("id", ASCENDING)], name="app_id", unique=True),
        IndexModel([("app", ASCENDING), ("key", ASCENDING)], name="app_key", unique=True),
        IndexModel([("app", ASCENDING), ("state", ASCENDING), ("id", ASCENDING)], name="app_state"),
    ],
    RETIRED_SECRETS: [
        IndexModel([("app", ASCENDING), ("secret", ASCENDING)], name="app_secret", unique=True)
    ],
}


def _block(d: Mapping[str, Any]) -> BlockRecord:
    return BlockRecord(d["app"], d["blocker"], d["blocked"], int(d["created"]))


class SafetyCollections:
    """The MongoDB adapter's :class:`~parley.server.safety_port.SafetyStore` role.

    Every call goes through the store's one :class:`MongoConnection`; the unique indexes of
    :data:`SAFETY_INDEXES` (created by the store's ``open``) enforce the one-per-key rules.
    Every method is ``guarded``: unreachable server or timeout → ``StoreUnavailable``.
    """

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def add_block(self, app: str, blocker: str, blocked: str, created: int) -> bool:
        """Insert the pair; False if the unique ``app_pair`` index says it already exists."""
        try:
            await self._db[BLOCKS].insert_one(
                {"app": app, "blocker": blocker, "blocked": blocked, "created": created}
            )
        except DuplicateKeyError:
            return False
        return True

    @guarded
    async def remove_block(self, app: str, blocker: str, blocked: str) -> bool:
        """Delete the pair ``blocker`` → ``blocked``; False if there was no such block."""
        result = await self._db[BLOCKS].delete_one({"app": app, "blocker": blocker, "blocked": blocked})
        return result.deleted_count > 0

    @guarded
    async def list_blocks(self, app: str, blocker: str) -> list[BlockRecord]:
        """Every block ``blocker`` made in ``app``, ordered by the blocked user's id."""
        docs = (
            await self._db[BLOCKS].find({"app": app, "blocker": blocker}, NO_ID).sort("blocked", 1).to_list()
        )
        return [_block(d) for d in docs]

    @guarded
    async def blocks_between(self, app: str, user: str, others: Collection[str]) -> list[BlockRecord]:
        """Blocks in either direction between ``user`` and ``others``, in one query
        (duplicates ignored; ``[]`` without a round trip for no ``others``). No particular order.
        """
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

    # moderation -------------------------------------------------------
    @guarded
    async def get_user_status(self, app: str, user: str) -> UserStatus | None:
        """The stored moderation status of ``user``; None if moderators never saved one."""
        d = await self._db[USER_STATUS].find_one({"app": app, "user": user}, NO_ID)
        if d is None:
            return None
        return UserStatus(
            d["app"], d["user"], bool(d["disabled"]), d["reason"], int(d["tokens_before"]), int(d["updated"])
        )

    @guarded
    async def save_user_status(self, status: UserStatus) -> None:
        """Create or replace (upsert) the one status document of ``(app, user)``."""
        doc = dataclasses.asdict(status)
        await self._db[USER_STATUS].replace_one({"app": status.app, "user": status.user}, doc, upsert=True)

    @guarded
    async def save_mute(self, mute: Mute) -> None:
        """Create or replace (upsert) the one mute of ``(app, conv, user)``."""
        query = {"app": mute.app, "conv": mute.conv, "user": mute.user}
        await self._db[MUTES].replace_one(query, dataclasses.asdict(mute), upsert=True)

    @guarded
    async def get_mute(self, app: str, conv: str, user: str) -> Mute | None:
        """The mute of ``(conv, user)``, even if ``until`` has passed (the caller decides); None if none."""
        d = await self._db[MUTES].find_one({"app": app, "conv": conv, "user": user}, NO_ID)
        return _mute(d) if d else None

    @guarded
    async def list_mutes(self, app: str, conv: str) -> list[Mute]:
        """Every mute of ``conv``, expired ones included, ordered by user id."""
        docs = await self._db[MUTES].find({"app": app, "conv": conv}, NO_ID).sort("user", 1).to_list()
        return [_mute(d) for d in docs]

    @guarded
    async def remove_mute(self, app: str, conv: str, user: str) -> bool:
        """Delete the mute of ``(conv, user)``; False if there was none."""
        result = await self._db[MUTES].delete_one({"app": app, "conv": conv, "user": user})
        return result.deleted_count > 0

    # audit ------------------------------------------------------------
    @guarded
    async def add_audit(self, record: AuditRecord) -> None:
        """Append ``record``. A plain insert: a repeated ``(app, id)`` raises ``DuplicateKeyError``
        rather than overwrite history.
        """
        await self._db[AUDIT].insert_one(dataclasses.asdict(record))

    @guarded
    async def list_audit(
        self,
        app: str,
        *,
        after: str,
        limit: int,
        actor: str = "",
        action: str = "",
        target: str = "",
        before: str = "",
    ) -> list[AuditRecord]:
        """Up to ``limit`` audit records of ``app`` with ``after < id`` (``< before`` if given),
        of ``actor`` / ``target`` (exact) and an ``action`` starting with ``action``, by id."""
        ids: dict[str, str] = {"$gt": after, **({"$lt": before} if before else {})}
        query: dict[str, Any] = {"app": app, "id": ids}
        query.update({k: v for k, v in (("actor", actor), ("target", target)) if v})
        if action:
            query["action"] = {"$regex": "^" + re.escape(action)}
        docs = await self._db[AUDIT].find(query, NO_ID).sort("id", 1).limit(limit).to_list()
        return [
            AuditRecord(
                d["app"], d["id"], int(d["ts"]), d["actor"], d["action"], d["target"], d.get("detail") or {}
            )
            for d in docs
        ]

    # secrets and keys -------------------------------------------------
    @guarded
    async def rotate_secret(self, app: str, secret: str, retired: RetiredSecret) -> bool:
        # The retired secret is written first: a crash in between leaves the old secret both
        # current and retired (harmless), never a new secret with the old one forgotten.
        """Swap the app's token secret and retire the old one; False (nothing written) for an unknown app.

        Three writes in this order, not a transaction: cut later ``until``s of retired secrets to
        ``retired.until``, store ``retired``, then set the new secret. A failure part-way leaves
        the old secret current and also retired (harmless), never a new secret with the old one lost.
        """
        if await self._db[APPS].count_documents({"app": app}, limit=1) == 0:
            return False
        await self._db[RETIRED_SECRETS].update_many(
            {"app": app, "until": {"$gt": retired.until}}, {"$set": {"until": retired.until}}
        )
        await self._db[RETIRED_SECRETS].replace_one(
            {"app": retired.app, "secret": retired.secret}, dataclasses.asdict(retired), upsert=True
        )
        result = await self._db[APPS].update_one({"app": app}, {"$set": {"secret": secret}})
        return result.matched_count > 0

    @guarded
    async def retired_secrets(self, app: str) -> list[RetiredSecret]:
        """Every retired secret of ``app``, soonest ``until`` first, expired or not."""
        docs = await self._db[RETIRED_SECRETS].find({"app": app}, NO_ID).sort("until", 1).to_list()
        return [RetiredSecret(d["app"], d["secret"], int(d["until"])) for d in docs]

    @guarded
    async def list_api_keys(self, app: str) -> list[ApiKeyRecord]:
        """The app's API key digests, oldest first (ties by digest)."""
        docs = (
            await self._db[API_KEYS]
            .find({"app": app}, NO_ID)
            .sort([("created", 1), ("key_hash", 1)])
            .to_list()
        )
        return [ApiKeyRecord(d["app"], d["key_hash"], int(d["created"])) for d in docs]

    @guarded
    async def remove_api_key(self, app: str, key_hash: str) -> bool:
        """Delete the key with ``key_hash`` only if it belongs to ``app``; False otherwise.

        Takes effect for every node at once: ``app_for_key`` reads the collection on every call.
        """
        result = await self._db[API_KEYS].delete_one({"app": app, "key_hash": key_hash})
        return result.deleted_count > 0

    # word lists and reviews -------------------------------------------
    @guarded
    async def put_word_list(self, words: WordList) -> None:
        """Create or replace (upsert) the whole list ``(app, words.name)``."""
        doc = dataclasses.asdict(words)
        await self._db[WORD_LISTS].replace_one({"app": words.app, "name": words.name}, doc, upsert=True)

    @guarded
    async def delete_word_list(self, app: str, name: str) -> bool:
        """Delete the list ``(app, name)``; False if there was none."""
        result = await self._db[WORD_LISTS].delete_one({"app": app, "name": name})
        return result.deleted_count > 0

    @guarded
    async def list_word_lists(self, app: str) -> list[WordList]:
        """Every word list of ``app``, ordered by name."""
        docs = await self._db[WORD_LISTS].find({"app": app}, NO_ID).sort("name", 1).to_list()
        return [WordList(d["app"], d["name"], d["action"], list(d["words"]), int(d["updated"])) for d in docs]

    @guarded
    async def add_review(self, item: ReviewItem) -> bool:
        """Queue ``item``; False, storing nothing, if the unique ``(app, id)`` or ``(app, key)`` index
        already holds one (a repeated report of one message is a no-op).
        """
        try:
            await self._db[REVIEWS].insert_one(dataclasses.asdict(item))
        except DuplicateKeyError:
            return False
        return True

    @guarded
    async def get_review(self, app: str, review_id: str) -> ReviewItem | None:
        """The review item ``review_id`` of ``app`` in any state; None if the app has no such item."""
        d = await self._db[REVIEWS].find_one({"app": app, "id": review_id}, NO_ID)
        return _review(d) if d else None

    @guarded
    async def list_reviews(self, app: str, *, state: str, after: str, limit: int) -> list[ReviewItem]:
        """Up to ``limit`` items of ``app`` in ``state`` with ``id > after``, ascending by id."""
        query = {"app": app, "state": state, "id": {"$gt": after}}
        docs = await self._db[REVIEWS].find(query, NO_ID).sort("id", 1).limit(limit).to_list()
        return [_review(d) for d in docs]

    @guarded
    async def resolve_review(self, app: str, review_id: str, *, outcome: str, by: str, ts: int) -> bool:
        """Compare-and-set from ``open`` to ``resolved`` with ``outcome``, ``by`` and ``ts``.

        One conditional ``update_one``, so of two concurrent resolutions exactly one returns True;
        False if the item is absent, of another app, or no longer open.
        """
        result = await self._db[REVIEWS].update_one(
            {"app": app, "id": review_id, "state": "open"},
            {"$set": {"state": "resolved", "outcome": outcome, "resolved_by": by, "resolved_at": ts}},
        )
        return result.modified_count > 0


_REVIEW_FIELDS = [f.name for f in dataclasses.fields(ReviewItem)]


def _review(d: Mapping[str, Any]) -> ReviewItem:
    values = {k: d[k] for k in _REVIEW_FIELDS if k in d}
    for k in ("seq", "ts", "resolved_at"):
        values[k] = int(values.get(k, 0))
    return ReviewItem(**values)


def _mute(d: Mapping[str, Any]) -> Mute:
    return Mute(
        d["app"], d["conv"], d["user"], int(d["until"]), d.get("reason", ""), int(d.get("created", 0))
    )
