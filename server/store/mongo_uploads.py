"""Knowledge-upload collection of the Mongo store (:class:`~parley.server.uploads_port.KnowledgeUploads`).

A role class over the store's one :class:`MongoConnection`; the settle is one ``update_one``
filtered on ``state: pending`` (atomic on the document), so of two settles exactly one matches.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_errors import guarded
from parley.server.uploads_port import PENDING_UPLOAD, KnowledgeUpload

__all__ = ["UPLOADS_INDEXES", "UploadCollections"]

UPLOADS = "knowledge_uploads"
NO_ID = {"_id": 0}
_FIELDS = ("app", "uid", "source", "content", "by", "created", "state", "version", "error", "updated")

UPLOADS_INDEXES: dict[str, list[IndexModel]] = {
    UPLOADS: [
        IndexModel([("app", ASCENDING), ("uid", ASCENDING)], name="app_uid", unique=True),
        IndexModel([("app", ASCENDING), ("state", ASCENDING), ("created", ASCENDING)], name="app_state"),
        IndexModel([("app", ASCENDING), ("created", DESCENDING)], name="app_created"),
    ]
}


def _upload(d: Mapping[str, Any]) -> KnowledgeUpload:
    return KnowledgeUpload(
        d["app"], d["uid"], d["source"], d["content"], d["by"], int(d["created"]), d["state"],
        int(d["version"]), d["error"], int(d["updated"]),
    )  # fmt: skip


class UploadCollections:
    """The MongoDB adapter's knowledge-upload role; every method is ``guarded``."""

    def __init__(self, conn: MongoConnection) -> None:
        self._conn = conn

    @property
    def _db(self) -> AsyncDatabase[dict[str, Any]]:
        return self._conn.db

    @guarded
    async def add_upload(self, upload: KnowledgeUpload) -> None:
        """Insert the upload document."""
        await self._db[UPLOADS].insert_one({f: getattr(upload, f) for f in _FIELDS})

    @guarded
    async def list_uploads(self, app: str, *, pending: bool, limit: int) -> list[KnowledgeUpload]:
        """Pending oldest first, or all newest first (an index each)."""
        if pending:
            cursor = (
                self._db[UPLOADS]
                .find({"app": app, "state": PENDING_UPLOAD}, NO_ID)
                .sort([("created", 1), ("uid", 1)])
            )
        else:
            cursor = self._db[UPLOADS].find({"app": app}, NO_ID).sort([("created", -1), ("uid", -1)])
        return [_upload(d) for d in await cursor.limit(limit).to_list()]

    @guarded
    async def settle_upload(
        self, app: str, uid: str, *, state: str, version: int, error: str, now: int
    ) -> bool:
        """``update_one`` filtered on ``state: pending``."""
        change = {"state": state, "version": version, "error": error, "updated": now}
        result = await self._db[UPLOADS].update_one(
            {"app": app, "uid": uid, "state": PENDING_UPLOAD}, {"$set": change}
        )
        return result.modified_count > 0
