"""Tag-definition collection of the Mongo store (:class:`~parley.server.tagdefs_port.TagDefinitionStore`).

A role class over the store's one :class:`MongoConnection`; the unique ``(app, name)`` index makes a
second create of one name fail (``DuplicateKeyError``: False), whichever node runs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded
from parley.server.tagdefs_port import TagDefinition

__all__ = ["TAGDEFS_INDEXES", "TagDefinitionCollections"]

TAGDEFS = "tag_definitions"
NO_ID = {"_id": 0}

TAGDEFS_INDEXES: dict[str, list[IndexModel]] = {
    TAGDEFS: [IndexModel([("app", ASCENDING), ("name", ASCENDING)], name="app_name", unique=True)],
}


def _definition(d: Mapping[str, Any]) -> TagDefinition:
    return TagDefinition(
        d["app"], d["name"], d["description"], d["kind"], tuple(d["sources"]), int(d["expiry_s"]),
        int(d["created"]), int(d["updated"]),
    )  # fmt: skip


class TagDefinitionCollections:
    """The MongoDB adapter's tag-definition role; every method is ``guarded``."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def create_tag_definition(self, definition: TagDefinition) -> bool:
        """Insert unless ``(app, name)`` exists (the unique index decides)."""
        d = definition
        doc = {
            "app": d.app, "name": d.name, "description": d.description, "kind": d.kind,
            "sources": list(d.sources), "expiry_s": d.expiry_s, "created": d.created, "updated": d.updated,
        }  # fmt: skip
        try:
            await self._db[TAGDEFS].insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    @guarded
    async def update_tag_definition(self, definition: TagDefinition) -> bool:
        """``$set`` the editable fields of an existing document (never an upsert)."""
        d = definition
        change = {"description": d.description, "kind": d.kind, "sources": list(d.sources),
                  "expiry_s": d.expiry_s, "updated": d.updated}  # fmt: skip
        result = await self._db[TAGDEFS].update_one({"app": d.app, "name": d.name}, {"$set": change})
        return result.matched_count > 0

    @guarded
    async def get_tag_definition(self, app: str, name: str) -> TagDefinition | None:
        """The definition; None if absent."""
        d = await self._db[TAGDEFS].find_one({"app": app, "name": name}, NO_ID)
        return _definition(d) if d else None

    @guarded
    async def list_tag_definitions(self, app: str) -> list[TagDefinition]:
        """The app's definitions, by name."""
        cursor = self._db[TAGDEFS].find({"app": app}, NO_ID).sort("name", 1)
        return [_definition(d) for d in await cursor.to_list()]

    @guarded
    async def delete_tag_definition(self, app: str, name: str) -> bool:
        """``delete_one`` is atomic: of concurrent deletes exactly one returns True."""
        result = await self._db[TAGDEFS].delete_one({"app": app, "name": name})
        return result.deleted_count > 0
