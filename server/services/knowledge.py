"""The knowledge base bots answer from: ingested sources of chunks (and their vectors).

Each ingested file is one ``source``; replacing or deleting one bumps the app's knowledge
version, which bots poll to know when to reload, and is kept as a revision of the source (its
version history: what changed when, with how many chunks; the content itself is not kept, so a
rollback is a re-ingest of the older file). The admin API is the only writer.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Protocol

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.ids import new_id, now_ms
from parley.server.models import KnowledgeEntry, KnowledgeRevision
from parley.server.store_ports import Knowledge
from parley.server.uploads_port import PENDING_UPLOAD, KnowledgeUpload, KnowledgeUploads

__all__ = [
    "HISTORY_SHOWN",
    "UPLOAD_SUFFIXES",
    "KnowledgeService",
    "KnowledgeStore",
    "UploadError",
]

#: The file types the bot service ingests (``parley.bots.ingest.KNOWLEDGE_SUFFIXES``, repeated here:
#: the server does not import the bot package). The size limit is ``Settings.knowledge_upload_max_bytes``.
UPLOAD_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".csv", ".jsonl"})
#: Uploads listed at most (the newest), and pending ones handed to a bot per request (the oldest).
UPLOADS_SHOWN, PENDING_HANDED = 50, 5


class KnowledgeStore(Knowledge, KnowledgeUploads, Protocol):
    """The role ports this service uses: the knowledge and the uploads waiting for the bot."""


#: Revisions of one source listed at most (the newest).
HISTORY_SHOWN = 50


class KnowledgeService:
    """Reads and replaces the knowledge of an app (a thin service over the knowledge port)."""

    def __init__(self, store: KnowledgeStore, *, upload_max_bytes: int) -> None:
        self._store = store
        self.upload_max_bytes = upload_max_bytes

    def too_large(self) -> UploadError:
        """The refusal of a file over ``upload_max_bytes`` (413 ``body_too_large``)."""
        return UploadError(
            ErrorCode.BODY_TOO_LARGE,
            f"a knowledge file is at most {self.upload_max_bytes} bytes (knowledge_upload_max_bytes)",
        )

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

    # ------------------------------------------------------------------ uploads (for the bot)
    async def upload(self, app: str, source: str, content: str | bytes, by: str) -> KnowledgeUpload:
        """Queue a file for the bot service to ingest as ``source``: its text, or its bytes, which must
        be UTF-8 (``encoding_invalid``: never stored with replacement characters); ``invalid_request``
        for a name that is not a plain file name of a known type, ``body_too_large`` past the limit."""
        name = PurePosixPath(source)
        if not 1 <= len(source) <= 200 or name.name != source or source.startswith("."):
            raise UploadError(
                ErrorCode.INVALID_REQUEST, "a source is a plain file name (no folder), 1 to 200 characters"
            )
        if name.suffix.lower() not in UPLOAD_SUFFIXES:
            raise UploadError(
                ErrorCode.INVALID_REQUEST, f"the bot reads {', '.join(sorted(UPLOAD_SUFFIXES))} files"
            )
        raw = content if isinstance(content, bytes) else content.encode()
        if len(raw) > self.upload_max_bytes:
            raise self.too_large()
        if isinstance(content, bytes):
            try:
                content = content.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise UploadError(
                    ErrorCode.ENCODING_INVALID,
                    f"the file is not UTF-8 text (byte {exc.start} is not): save it as UTF-8 and upload it again",
                ) from None
            content = content.removeprefix("\ufeff")  # a UTF-8 byte-order mark is not text
        if not content.strip():
            raise UploadError(ErrorCode.INVALID_REQUEST, "the file is empty")
        made = KnowledgeUpload(app, new_id("kbu"), source, content, by, now_ms())
        await self._store.add_upload(made)
        return made

    async def uploads(self, app: str, *, pending: bool) -> list[KnowledgeUpload]:
        """``pending``: the oldest few waiting for a bot; else the newest uploads of any state."""
        limit = PENDING_HANDED if pending else UPLOADS_SHOWN
        return await self._store.list_uploads(app, pending=pending, limit=limit)

    async def settle(self, app: str, uid: str, *, version: int, error: str) -> None:
        """A bot's outcome: ``ingested`` at ``version`` (no ``error``) or ``failed`` with ``error``;
        ``invalid_request`` if the upload is no longer pending (another bot settled it) or absent."""
        state = "failed" if error else "ingested"
        if not await self._store.settle_upload(
            app, uid, state=state, version=version, error=error[:500], now=now_ms()
        ):
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"upload {uid} is not {PENDING_UPLOAD}")


class UploadError(ServiceError):
    """A refused upload; ``field`` is the console's file input (the page shows the message beside it)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(code, message)
        self.field = "kb-file"
