"""Console collections of the Mongo store: console users, their sessions and per-app settings.

A role class of the MongoDB adapter over the store's one :class:`MongoConnection`.
Implements :class:`~parley.server.console_port.ConsoleStore`. A ``delete_one`` is atomic on
its document: of concurrent deletes of one session exactly one counts it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from parley.server.console_port import ConsoleSession, ConsoleUser
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded

__all__ = ["CONSOLE_INDEXES", "ConsoleCollections"]

USERS, SESSIONS, SETTINGS = "console_users", "console_sessions", "console_settings"
NO_ID = {"_id": 0}

CONSOLE_INDEXES: dict[str, list[IndexModel]] = {
    USERS: [IndexModel([("app", ASCENDING), ("username", ASCENDING)], name="app_username", unique=True)],
    SESSIONS: [
        IndexModel([("token_hash", ASCENDING)], name="token_hash", unique=True),
        IndexModel([("app", ASCENDING), ("username", ASCENDING)], name="app_username"),
    ],
    SETTINGS: [IndexModel([("app", ASCENDING), ("key", ASCENDING)], name="app_key", unique=True)],
}


def _user(d: Mapping[str, Any]) -> ConsoleUser:
    return ConsoleUser(
        d["app"], d["username"], d["password_hash"], tuple(d["roles"]), d["name"], int(d["created"]),
        bool(d["disabled"]),
    )  # fmt: skip


def _session(d: Mapping[str, Any]) -> ConsoleSession:
    return ConsoleSession(
        d["token_hash"], d["app"], d["username"], d["csrf"], int(d["created"]), int(d["expires"])
    )


class ConsoleCollections:
    """The MongoDB adapter's :class:`~parley.server.console_port.ConsoleStore` role; unique indexes
    keep one user per name and one session per digest; every method is ``guarded``."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def put_console_user(self, user: ConsoleUser) -> None:
        """Upsert the whole user document on ``(app, username)``."""
        u = user
        doc = {
            "app": u.app, "username": u.username, "password_hash": u.password_hash, "roles": list(u.roles),
            "name": u.name, "created": u.created, "disabled": u.disabled,
        }  # fmt: skip
        await self._db[USERS].replace_one({"app": u.app, "username": u.username}, doc, upsert=True)

    @guarded
    async def get_console_user(self, app: str, username: str) -> ConsoleUser | None:
        """The user; None if there is none."""
        d = await self._db[USERS].find_one({"app": app, "username": username}, NO_ID)
        return _user(d) if d else None

    @guarded
    async def list_console_users(self, app: str) -> list[ConsoleUser]:
        """The app's users, by username."""
        cursor = self._db[USERS].find({"app": app}, NO_ID).sort("username", 1)
        return [_user(d) for d in await cursor.to_list()]

    @guarded
    async def add_console_session(self, session: ConsoleSession) -> None:
        """Insert the session document."""
        s = session
        doc = {
            "token_hash": s.token_hash, "app": s.app, "username": s.username, "csrf": s.csrf,
            "created": s.created, "expires": s.expires,
        }  # fmt: skip
        await self._db[SESSIONS].insert_one(doc)

    @guarded
    async def get_console_session(self, token_hash: str, now: int) -> ConsoleSession | None:
        """The session if ``expires > now``; None otherwise."""
        d = await self._db[SESSIONS].find_one({"token_hash": token_hash, "expires": {"$gt": now}}, NO_ID)
        return _session(d) if d else None

    @guarded
    async def delete_console_session(self, token_hash: str) -> bool:
        """Delete it; ``delete_one`` is atomic, so of concurrent deletes exactly one returns True."""
        result = await self._db[SESSIONS].delete_one({"token_hash": token_hash})
        return result.deleted_count > 0

    @guarded
    async def delete_console_sessions(self, app: str, username: str) -> int:
        """Delete every session of the user, expired or not; returns how many."""
        result = await self._db[SESSIONS].delete_many({"app": app, "username": username})
        return result.deleted_count

    @guarded
    async def purge_console_sessions(self, app: str, username: str, now: int) -> int:
        """Delete the user's sessions with ``expires <= now``; returns how many."""
        query = {"app": app, "username": username, "expires": {"$lte": now}}
        result = await self._db[SESSIONS].delete_many(query)
        return result.deleted_count

    @guarded
    async def get_console_setting(self, app: str, key: str) -> Any:
        """The app's value of ``key``; None if never set."""
        d = await self._db[SETTINGS].find_one({"app": app, "key": key}, NO_ID)
        return d["value"] if d else None

    @guarded
    async def put_console_setting(self, app: str, key: str, value: Any) -> None:
        """Create or replace the app's value of ``key``."""
        await self._db[SETTINGS].replace_one(
            {"app": app, "key": key}, {"app": app, "key": key, "value": value}, upsert=True
        )
