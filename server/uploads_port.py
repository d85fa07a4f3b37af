"""The knowledge-upload role port: files an admin uploaded for the bot service to ingest.

The server cannot parse, chunk or embed a knowledge file (that is the bot service's work, with its
models), so an upload from the console is a queue record: the file's text under its ``source``
name, ``pending`` until a bot takes it — the bot parses, chunks and embeds it, stores it through
``PUT /v1/knowledge/sources/{source}`` (a new version of that source) and settles the upload as
``ingested`` with that version, or ``failed`` with the parser's reason. Uploads stay listed as the
source's upload history (the newest ``limit`` of an app).

Adapters: ``store/sqlite_uploads.py`` and ``store/mongo_uploads.py``;
``tests/server/store/test_uploads_contract.py`` runs against both, two store instances at once.

Guarantees: keyed by app; ``settle_upload`` is a compare-and-set from ``pending`` — of two bots
settling one upload exactly one wins (the other's ingest is a harmless re-put of the same file).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["PENDING_UPLOAD", "KnowledgeUpload", "KnowledgeUploads"]

#: The state of an upload no bot has settled yet.
PENDING_UPLOAD = "pending"


@dataclass(frozen=True, slots=True)
class KnowledgeUpload:
    """One uploaded file: ``state`` is ``pending``, ``ingested`` (``version``: the knowledge version
    its ingest produced) or ``failed`` (``error``: why)."""

    app: str
    uid: str
    source: str
    content: str
    by: str
    created: int
    state: str = PENDING_UPLOAD
    version: int = 0
    error: str = ""
    updated: int = 0


class KnowledgeUploads(Protocol):
    """Durable uploads (see the module's guarantees)."""

    async def add_upload(self, upload: KnowledgeUpload) -> None:
        """Store a new upload (its ``uid`` is new)."""

    async def list_uploads(self, app: str, *, pending: bool, limit: int) -> list[KnowledgeUpload]:
        """``pending``: the oldest ``limit`` pending uploads, oldest first (what a bot takes next);
        else the newest ``limit`` uploads of any state, newest first."""

    async def settle_upload(
        self, app: str, uid: str, *, state: str, version: int, error: str, now: int
    ) -> bool:
        """Set the outcome if the upload is still ``pending``; False otherwise (or absent)."""
