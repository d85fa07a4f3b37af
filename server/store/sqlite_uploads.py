"""Knowledge-upload table of the SQLite store (:class:`~parley.server.uploads_port.KnowledgeUploads`).

A role class over the store's one :class:`SQLiteWorker`; the settle is one conditional ``UPDATE``
(``state = 'pending'``), so of two settles exactly one changes the row.
"""

from __future__ import annotations

from typing import Any

from parley.server.store.sqlite_worker import SQLiteWorker
from parley.server.uploads_port import PENDING_UPLOAD, KnowledgeUpload

__all__ = ["UPLOADS_SCHEMA", "UploadTables"]

UPLOADS_SCHEMA = """
CREATE TABLE IF NOT EXISTS knowledge_uploads (
    app TEXT NOT NULL, uid TEXT NOT NULL, source TEXT NOT NULL, content TEXT NOT NULL, by TEXT NOT NULL,
    created INTEGER NOT NULL, state TEXT NOT NULL, version INTEGER NOT NULL, error TEXT NOT NULL,
    updated INTEGER NOT NULL, PRIMARY KEY (app, uid)
);
CREATE INDEX IF NOT EXISTS knowledge_uploads_state ON knowledge_uploads (app, state, created);
CREATE INDEX IF NOT EXISTS knowledge_uploads_created ON knowledge_uploads (app, created);
"""

_COLS = "app, uid, source, content, by, created, state, version, error, updated"


def _row(r: tuple[Any, ...]) -> KnowledgeUpload:
    return KnowledgeUpload(r[0], r[1], r[2], r[3], r[4], int(r[5]), r[6], int(r[7]), r[8], int(r[9]))


class UploadTables:
    """The SQLite adapter's knowledge-upload role (one job on the store's worker thread per call)."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def add_upload(self, upload: KnowledgeUpload) -> None:
        """Insert the upload."""
        u = upload
        sql = f"INSERT INTO knowledge_uploads ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        args = (u.app, u.uid, u.source, u.content, u.by, u.created, u.state, u.version, u.error, u.updated)
        await self._run(lambda db: db.execute(sql, args))

    async def list_uploads(self, app: str, *, pending: bool, limit: int) -> list[KnowledgeUpload]:
        """Pending oldest first, or all newest first (an index each)."""
        if pending:
            sql = f"SELECT {_COLS} FROM knowledge_uploads WHERE app = ? AND state = ? ORDER BY created, uid LIMIT ?"
            args: tuple[Any, ...] = (app, PENDING_UPLOAD, limit)
        else:
            sql = (
                f"SELECT {_COLS} FROM knowledge_uploads WHERE app = ? ORDER BY created DESC, uid DESC LIMIT ?"
            )
            args = (app, limit)
        rows = await self._run(lambda db: db.execute(sql, args).fetchall())
        return [_row(r) for r in rows]

    async def settle_upload(
        self, app: str, uid: str, *, state: str, version: int, error: str, now: int
    ) -> bool:
        """A conditional update from ``pending``."""
        sql = (
            "UPDATE knowledge_uploads SET state = ?, version = ?, error = ?, updated = ? "
            "WHERE app = ? AND uid = ? AND state = ?"
        )
        args = (state, version, error, now, app, uid, PENDING_UPLOAD)
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0
