"""The knowledge base bots answer from: ingested sources of chunks (and their vectors).

Each ingested file is one ``source``; replacing or deleting one bumps the app's knowledge
version, which bots poll to know when to reload, and is kept as a revision of the source (its
version history: what changed when, with how many chunks; the content itself is not kept, so a
rollback is a re-ingest of the older file). The admin API is the only writer.
"""

from __future__ import annotations

from collections.abc import Sequence

from parley.server.models import KnowledgeEntry, KnowledgeRevision
from parley.server.store_ports import Knowledge

__all__ = ["HISTORY_SHOWN", "KnowledgeService"]

#: Revisions of one source listed at most (the newest).
HISTORY_SHOWN = 50


class KnowledgeService:
    """Reads and replaces the knowledge of an app (a thin service over the knowledge port)."""

    def __init__(self, store: Knowledge) -> None:
        self._store = store

    async def replace(self, app: str, source: str, entries: Sequence[KnowledgeEntry]) -> int:
        """Make ``entries`` the whole content of ``source``; returns the new version."""
        return await self._store.replace_knowledge(app, source, entries)

    async def delete(self, app: str, source: str) -> int:
        """Drop ``source``; returns the new version."""
        return await self._store.delete_knowledge(app, source)

    async def dump(self, app: str) -> tuple[int, list[KnowledgeEntry]]:
        """The version and every entry, by source then chunk id."""
        return await self._store.list_knowledge(app)

    async def version(self, app: str) -> int:
        """The app's knowledge version (0 until the first ingest)."""
        return await self._store.knowledge_version(app)

    async def history(self, app: str, source: str) -> list[KnowledgeRevision]:
        """The source's newest revisions, newest first: the first is what bots answer from (a revision
        with no chunks is a delete)."""
        return await self._store.knowledge_history(app, source, HISTORY_SHOWN)
