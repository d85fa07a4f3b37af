"""The directory role of the MongoDB adapter: apps, API keys and users
(:class:`~parley.server.store_ports.Directory`; the reach policy and ``last_seen_of`` are in
``mongo_members``). A small class over the store's one :class:`MongoConnection`."""

from __future__ import annotations

import contextlib
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from parley.server.models import App, User
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_docs import API_KEYS, APPS, NO_ID, USERS, from_app, to_app, to_user
from parley.server.store.mongo_errors import guarded as _guarded

__all__ = ["MongoDirectory"]


class MongoDirectory:
    """Apps, API key digests and users on the shared client."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

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
        """The app with this id; None if there is none."""
        doc = await self._db[APPS].find_one({"app": app}, NO_ID)
        return to_app(doc) if doc else None

    @_guarded
    async def list_apps(self) -> list[App]:
        """Every app, ordered by id."""
        return sorted(
            (to_app(d) for d in await self._db[APPS].find({}, NO_ID).to_list()), key=lambda a: a.app
        )

    @_guarded
    async def add_api_key(self, app: str, key_hash: str, created: int) -> None:
        """Store the digest of a key for ``app``; idempotent (an already stored digest is kept as is)."""
        with contextlib.suppress(DuplicateKeyError):  # already stored: adding a key is idempotent
            await self._db[API_KEYS].insert_one({"key_hash": key_hash, "app": app, "created": created})

    @_guarded
    async def app_for_key(self, key_hash: str) -> App | None:
        """The app owning the key with ``key_hash``; None for an unknown or revoked key.

        Read on every call (nothing cached), so a revoked key stops working on every node at once.
        """
        doc = await self._db[API_KEYS].find_one({"key_hash": key_hash}, NO_ID)
        return await self.get_app(doc["app"]) if doc else None

    # users ------------------------------------------------------------
    @_guarded
    async def upsert_user(self, user: User) -> User:
        """Create the user or set ``name``, ``role`` and ``meta``, in one atomic upsert; ``created``
        and ``last_seen`` are written only on creation. Returns the stored user.
        """
        update = {
            "$set": {"name": user.name, "role": user.role, "meta": user.meta},
            "$setOnInsert": {"created": user.created, "last_seen": user.last_seen},
        }
        return to_user(await self._upsert(USERS, {"app": user.app, "user": user.user}, update))

    @_guarded
    async def get_user(self, app: str, user: str) -> User | None:
        """The user record; None if the user was never stored."""
        doc = await self._db[USERS].find_one({"app": app, "user": user}, NO_ID)
        return to_user(doc) if doc else None

    @_guarded
    async def anonymise_user(self, app: str, user: str) -> bool:
        """Clear ``name`` and ``meta`` of the user's document (no upsert); whether it exists."""
        done = await self._db[USERS].update_one(
            {"app": app, "user": user}, {"$set": {"name": "", "meta": {}}}
        )
        return done.matched_count > 0

    @_guarded
    async def set_last_seen(self, app: str, user: str, ts: int) -> None:
        # $max: several gateway nodes may report the same user out of order.
        """Move ``last_seen`` forward to ``ts`` (``$max``: reports out of order never move it back);
        creates a bare user (role ``user``, created ``ts``) if missing.
        """
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
