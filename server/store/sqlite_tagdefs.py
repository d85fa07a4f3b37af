"""Tag-definition table of the SQLite store (:class:`~parley.server.tagdefs_port.TagDefinitionStore`).

A role class over the store's one :class:`SQLiteWorker`; the primary key ``(app, name)`` makes a
second create of one name fail (``INSERT OR IGNORE`` reports no row), whichever process runs it.
"""

from __future__ import annotations

from typing import Any

from parley.server.store.sqlite_worker import SQLiteWorker
from parley.server.tagdefs_port import TagDefinition

__all__ = ["TAGDEFS_SCHEMA", "TagDefinitionTables"]

TAGDEFS_SCHEMA = """
CREATE TABLE IF NOT EXISTS tag_definitions (
    app TEXT NOT NULL, name TEXT NOT NULL, description TEXT NOT NULL, kind TEXT NOT NULL,
    sources TEXT NOT NULL, expiry_s INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
    PRIMARY KEY (app, name)
);
"""

_COLS = "app, name, description, kind, sources, expiry_s, created, updated"


def _row(r: tuple[Any, ...]) -> TagDefinition:
    sources = tuple(x for x in str(r[4]).split(",") if x)
    return TagDefinition(r[0], r[1], r[2], r[3], sources, int(r[5]), int(r[6]), int(r[7]))


class TagDefinitionTables:
    """The SQLite adapter's tag-definition role (one job on the store's worker thread per call)."""

    def __init__(self, worker: SQLiteWorker) -> None:
        self._run = worker.run

    async def create_tag_definition(self, definition: TagDefinition) -> bool:
        """Insert unless ``(app, name)`` exists."""
        d = definition
        sql = f"INSERT OR IGNORE INTO tag_definitions ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        args = (d.app, d.name, d.description, d.kind, ",".join(d.sources), d.expiry_s, d.created, d.updated)
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0

    async def update_tag_definition(self, definition: TagDefinition) -> bool:
        """Update the existing row (``created`` kept)."""
        d = definition
        sql = (
            "UPDATE tag_definitions SET description = ?, kind = ?, sources = ?, expiry_s = ?, updated = ? "
            "WHERE app = ? AND name = ?"
        )
        args = (d.description, d.kind, ",".join(d.sources), d.expiry_s, d.updated, d.app, d.name)
        changed: int = await self._run(lambda db: db.execute(sql, args).rowcount)
        return changed > 0

    async def get_tag_definition(self, app: str, name: str) -> TagDefinition | None:
        """The definition; None if absent."""
        sql = f"SELECT {_COLS} FROM tag_definitions WHERE app = ? AND name = ?"
        row = await self._run(lambda db: db.execute(sql, (app, name)).fetchone())
        return _row(row) if row else None

    async def list_tag_definitions(self, app: str) -> list[TagDefinition]:
        """The app's definitions, by name."""
        sql = f"SELECT {_COLS} FROM tag_definitions WHERE app = ? ORDER BY name"
        rows = await self._run(lambda db: db.execute(sql, (app,)).fetchall())
        return [_row(r) for r in rows]

    async def delete_tag_definition(self, app: str, name: str) -> bool:
        """Delete; True only for the call whose ``DELETE`` removed the row."""
        sql = "DELETE FROM tag_definitions WHERE app = ? AND name = ?"
        changed: int = await self._run(lambda db: db.execute(sql, (app, name)).rowcount)
        return changed > 0
