"""The one MongoDB client of a store, shared by every role class of the adapter.

``mongo_directory``, ``mongo_conversations``, ``mongo_members``, ``mongo_messages``,
``mongo_service`` and ``mongo_safety`` each hold this object, not the store: one client,
one connection pool, one set of timeouts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import ConnectionFailure

from parley.server.ports import StoreUnavailable
from parley.server.store.mongo_messages import MessageLog

__all__ = ["MongoConnection"]


class MongoConnection:
    """The client of ``url`` / ``database`` and the message log on it, once opened.

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
        self._log: MessageLog | None = None

    @property
    def db(self) -> AsyncDatabase[dict[str, Any]]:
        """The database; ``RuntimeError`` before :meth:`open`."""
        if self._client is None:
            raise RuntimeError("MongoStore is not open")
        return self._client[self._database]

    @property
    def log(self) -> MessageLog:
        """The message log (seq assignment) on the database; ``RuntimeError`` before :meth:`open`."""
        if self._log is None:
            raise RuntimeError("MongoStore is not open")
        return self._log

    async def open(self, indexes: Iterable[Mapping[str, Sequence[IndexModel]]]) -> None:
        """Connect and create every role's ``indexes`` (idempotent)."""
        if self._client is not None:
            return
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(self._url, **self._options)
        try:
            db = client[self._database]
            for role in indexes:
                for name, models in role.items():
                    await db[name].create_indexes(list(models))
        except ConnectionFailure as exc:
            await client.close()
            raise StoreUnavailable(f"mongo: {exc}") from exc
        except BaseException:
            await client.close()
            raise
        self._client = client
        self._log = MessageLog(db)

    async def close(self) -> None:
        """Close the client (a later :meth:`open` connects again)."""
        client, self._client, self._log = self._client, None, None
        if client is not None:
            await client.close()
