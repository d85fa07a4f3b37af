"""Customer-service collections of the Mongo store: tickets, users by role, knowledge.

Profiles (the chat ``Profiles`` port) live in ``aud_profiles``: ``mongo_audience``.

A role class of the MongoDB adapter over the store's one :class:`MongoConnection`.
Tag names may contain ``.`` or start with ``$``, which MongoDB field paths
cannot: they are stored under escaped keys and unescaped on read.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from parley.proto.plain import repair
from parley.server.ids import now_ms
from parley.server.models import (
    KnowledgeEntry,
    KnowledgeRevision,
    KnowledgeVector,
    Profile,
    TagRecord,
    Ticket,
    User,
)
from parley.server.ports import StoreUnavailable
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_docs import USERS, to_user
from parley.server.store.mongo_errors import guarded

__all__ = ["SERVICE_INDEXES", "KnowledgeCollections", "ServiceCollections", "legacy_profile"]

TICKETS = "tickets"
PROFILES = "profiles"
KNOWLEDGE = "knowledge"
KNOWLEDGE_VERSIONS = "knowledge_versions"
KNOWLEDGE_HISTORY = "knowledge_history"

SERVICE_INDEXES: dict[str, list[IndexModel]] = {
    TICKETS: [
        IndexModel([("app", ASCENDING), ("conv", ASCENDING)], name="app_conv", unique=True),
        IndexModel([("app", ASCENDING), ("state", ASCENDING), ("updated", ASCENDING)], name="app_state"),
        IndexModel([("app", ASCENDING), ("agent", ASCENDING), ("updated", ASCENDING)], name="app_agent"),
    ],
    USERS: [IndexModel([("app", ASCENDING), ("role", ASCENDING), ("user", ASCENDING)], name="app_role")],
    KNOWLEDGE_HISTORY: [
        IndexModel(
            [("app", ASCENDING), ("source", ASCENDING), ("version", ASCENDING)],
            name="app_source_version",
            unique=True,
        )
    ],
    KNOWLEDGE: [
        IndexModel(
            [("app", ASCENDING), ("source", ASCENDING), ("chunk_id", ASCENDING)],
            name="app_source_chunk",
            unique=True,
        )
    ],
    KNOWLEDGE_VERSIONS: [IndexModel([("app", ASCENDING)], name="app", unique=True)],
}

_TICKET_FIELDS = [f.name for f in dataclasses.fields(Ticket)]
NO_ID = {"_id": 0}


def _escape(name: str) -> str:
    return name.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def _unescape(key: str) -> str:
    return key.replace("%24", "$").replace("%2E", ".").replace("%25", "%")


def _ticket(d: Mapping[str, Any]) -> Ticket:
    values = {k: d[k] for k in _TICKET_FIELDS if k in d}
    for k in ("score", "created", "updated"):
        values[k] = int(values.get(k, 0))
    return Ticket(**values)


def legacy_profile(d: Mapping[str, Any]) -> Profile:
    """The :class:`Profile` of a document of the old ``profiles`` collection (read once, to migrate it)."""
    tags = {}
    for key, t in (d.get("tags") or {}).items():
        tags[_unescape(key)] = TagRecord(
            name=t["name"], source=t["source"], confidence=float(t.get("confidence", 1.0)),
            evidence=t.get("evidence", ""), ts=int(t.get("ts", 0)), expires=int(t.get("expires", 0)),
        )  # fmt: skip
    counters = {_unescape(k): int(v) for k, v in (d.get("counters") or {}).items()}
    attributes = repair({_unescape(k): v for k, v in (d.get("attributes") or {}).items()})
    return Profile(d["app"], d["user"], tags, attributes, counters, int(d.get("updated", 0)))


async def _upsert(
    collection: AsyncCollection[dict[str, Any]], query: dict[str, Any], update: dict[str, Any]
) -> dict[str, Any]:
    """find_one_and_update with upsert, safe under concurrent upserts of a missing document.

    A loser of the race on the unique index gets a duplicate-key error and wrote nothing, so
    it is tried again against the winner's document. SecantusDB sometimes applies the update
    but answers "no document": then the document is read back, never updated twice.
    """
    for _ in range(5):
        try:
            doc = await collection.find_one_and_update(
                query, update, projection=NO_ID, upsert=True, return_document=ReturnDocument.AFTER
            )
        except DuplicateKeyError:
            continue
        if doc is None:
            doc = await collection.find_one(query, NO_ID)
        if doc is not None:
            return doc
    raise StoreUnavailable("upsert kept racing with concurrent writers; retry")


class ServiceCollections:
    """The MongoDB adapter's :class:`~parley.server.store_ports.Tickets` and
    :class:`~parley.server.store_ports.Profiles` roles, plus ``Directory.list_users``.

    Each method is a single-document operation (atomic in MongoDB) through the store's one
    :class:`MongoConnection`, ``guarded``: unreachable server or timeout → ``StoreUnavailable``.
    """

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def list_users(self, app: str, role: str) -> list[User]:
        """Users of ``app`` whose role is ``role`` (e.g. the agents), ordered by user id."""
        docs = await self._db[USERS].find({"app": app, "role": role}, NO_ID).sort("user", 1).to_list()
        return [to_user(d) for d in docs]

    @guarded
    async def save_ticket(self, ticket: Ticket) -> None:
        """Create or replace (upsert) the one ticket of ``(app, conv)``."""
        doc = dataclasses.asdict(ticket)
        await self._db[TICKETS].replace_one({"app": ticket.app, "conv": ticket.conv}, doc, upsert=True)

    @guarded
    async def get_ticket(self, app: str, conv: str) -> Ticket | None:
        """The ticket of ``conv``; None if it has none (not a support conversation)."""
        doc = await self._db[TICKETS].find_one({"app": app, "conv": conv}, NO_ID)
        return _ticket(doc) if doc else None

    @guarded
    async def update_ticket(self, ticket: Ticket, expect: Collection[str], *, unrated: bool = False) -> bool:
        """Compare-and-set: replace the stored ticket only if its state is in ``expect`` (and, with
        ``unrated``, its score is still 0).

        One conditional ``replace_one``, atomic on the document, so of two concurrent claims
        exactly one returns True; False if the ticket is absent or the condition failed.
        """
        query: dict[str, Any] = {"app": ticket.app, "conv": ticket.conv, "state": {"$in": list(expect)}}
        if unrated:
            query["score"] = 0
        result = await self._db[TICKETS].replace_one(query, dataclasses.asdict(ticket))
        return result.matched_count > 0

    @guarded
    async def list_tickets(
        self, app: str, *, state: str | None = None, agent: str | None = None
    ) -> list[Ticket]:
        """Tickets of ``app`` filtered by ``state`` and/or ``agent``, least recently updated first (ties by
        conv)."""
        query: dict[str, Any] = {"app": app}
        if state is not None:
            query["state"] = state
        if agent is not None:
            query["agent"] = agent
        # Sorted here: SecantusDB does not sort by index, and the lists are short.
        docs = await self._db[TICKETS].find(query, NO_ID).to_list()
        return sorted((_ticket(d) for d in docs), key=lambda t: (t.updated, t.conv))


class KnowledgeCollections:
    """The MongoDB adapter's :class:`~parley.server.store_ports.Knowledge` role.

    Not transactional: a replacement is a delete then an insert, and the version is bumped
    only after both, so a bot that reloads on the new version sees the final state.
    """

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    async def _bump(self, app: str) -> int:
        doc = await _upsert(self._db[KNOWLEDGE_VERSIONS], {"app": app}, {"$inc": {"version": 1}})
        return int(doc["version"])

    @guarded
    async def replace_knowledge(self, app: str, source: str, entries: Sequence[KnowledgeEntry]) -> int:
        # Not atomic across the delete and the insert: a reader in between sees the source
        # empty, and the version is bumped only after both, so bots reload the final state.
        """Make ``entries`` the whole of ``source`` and return the bumped version.

        A reader between the delete and the insert sees the source empty; a failure part-way
        leaves the version unbumped (the caller retries the replacement, which is idempotent).
        """
        await self._db[KNOWLEDGE].delete_many({"app": app, "source": source})
        if entries:
            await self._db[KNOWLEDGE].insert_many(
                [
                    {
                        "app": app,
                        "source": source,
                        "chunk_id": e.chunk_id,
                        "chunk": e.chunk,
                        "vectors": [
                            {"model": v.model, "view": v.view, "vector": v.vector} for v in e.vectors
                        ],
                    }
                    for e in entries
                ]
            )
        version = await self._bump(app)
        revision = {"app": app, "source": source, "version": version, "chunks": len(entries), "ts": now_ms()}
        await self._db[KNOWLEDGE_HISTORY].insert_one(revision)
        return version

    async def delete_knowledge(self, app: str, source: str) -> int:
        """Drop ``source`` (a replacement with no entries); returns the new version, bumped even if it was
        empty."""
        return await self.replace_knowledge(app, source, ())

    @guarded
    async def list_knowledge(self, app: str) -> tuple[int, list[KnowledgeEntry]]:
        """Every entry of ``app`` by source then chunk id, with the version read after them
        (so a concurrent change may show a version newer than the entries; a poller then reloads).
        """
        docs = await self._db[KNOWLEDGE].find({"app": app}, NO_ID).to_list()
        entries = [
            KnowledgeEntry(
                app,
                d["source"],
                d["chunk_id"],
                dict(d["chunk"]),
                tuple(
                    KnowledgeVector(v["model"], v["view"], bytes(v["vector"])) for v in d.get("vectors", [])
                ),
            )
            for d in docs
        ]
        entries.sort(key=lambda e: (e.source, e.chunk_id))
        return await self.knowledge_version(app), entries

    @guarded
    async def knowledge_version(self, app: str) -> int:
        """The app's knowledge version: 0 until the first change, then +1 per change."""
        doc = await self._db[KNOWLEDGE_VERSIONS].find_one({"app": app}, NO_ID)
        return int(doc["version"]) if doc else 0

    @guarded
    async def knowledge_history(self, app: str, source: str, limit: int) -> list[KnowledgeRevision]:
        """The newest ``limit`` revisions of ``source`` (the unique index's order), newest first."""
        cursor = self._db[KNOWLEDGE_HISTORY].find({"app": app, "source": source}, NO_ID).sort("version", -1)
        docs = await cursor.limit(limit).to_list()
        return [
            KnowledgeRevision(app, source, int(d["version"]), int(d["chunks"]), int(d["ts"])) for d in docs
        ]
