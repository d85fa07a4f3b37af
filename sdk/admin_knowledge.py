"""The knowledge base of :class:`~parley.sdk.admin.AdminClient`: the chunks and vectors the
support bot answers from, stored per source file and versioned per app.

Every put or delete of a source bumps the app's knowledge version, so a bot polls
:meth:`KnowledgeOps.knowledge_version` cheaply and reloads :meth:`KnowledgeOps.knowledge`
only when it changed.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from parley.sdk.errors import AdminError

__all__ = [
    "KnowledgeChunk",
    "KnowledgeOps",
    "KnowledgeSnapshot",
    "KnowledgeUploadRecord",
    "KnowledgeVectorRecord",
]


@dataclass(frozen=True, slots=True)
class KnowledgeVectorRecord:
    """One stored embedding of a knowledge chunk: ``view`` of chunk ``chunk_id`` under ``model``.

    ``vector`` is raw float32 little-endian bytes (base64 only on the wire).
    """

    chunk_id: str
    model: str
    view: str
    vector: bytes

    def to_json(self) -> dict[str, str]:
        """The wire form (vector base64-encoded)."""
        return {
            "chunk_id": self.chunk_id,
            "model": self.model,
            "view": self.view,
            "vector": base64.b64encode(self.vector).decode("ascii"),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KnowledgeVectorRecord:
        """Build from the wire form."""
        return cls(
            str(data["chunk_id"]),
            str(data["model"]),
            str(data.get("view") or ""),
            base64.b64decode(str(data["vector"])),
        )


@dataclass(frozen=True, slots=True)
class KnowledgeChunk:
    """A stored chunk: the ``source`` (file) it came from and its fields (``chunk["id"]`` at least)."""

    source: str
    chunk: dict[str, Any]


@dataclass(frozen=True, slots=True)
class KnowledgeSnapshot:
    """An app's whole knowledge base at ``version``: chunks and their vectors."""

    version: int
    chunks: tuple[KnowledgeChunk, ...] = ()
    vectors: tuple[KnowledgeVectorRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class KnowledgeUploadRecord:
    """A file an admin uploaded from the console, waiting for the bot service: ingest ``content`` as
    ``source``, then :meth:`KnowledgeOps.settle_upload` its ``id``."""

    id: str
    source: str
    content: str


class KnowledgeOps:
    """Mixed into :class:`~parley.sdk.admin.AdminClient`."""

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def put_knowledge(
        self,
        source: str,
        chunks: Sequence[Mapping[str, Any]],
        vectors: Iterable[KnowledgeVectorRecord] = (),
    ) -> int:
        """Store ``chunks`` (each with a string ``id``) and their ``vectors`` as ``source``.

        Replaces everything previously stored under ``source`` (re-ingesting a file);
        returns the app's new knowledge version.
        """
        payload = {"chunks": [dict(c) for c in chunks], "vectors": [v.to_json() for v in vectors]}
        data = _as_dict(await self._call("PUT", f"/v1/knowledge/sources/{_seg(source)}", json=payload))
        return int(data["version"])

    async def delete_knowledge(self, source: str) -> int:
        """Remove every chunk of ``source``; returns the app's new knowledge version."""
        data = _as_dict(await self._call("DELETE", f"/v1/knowledge/sources/{_seg(source)}"))
        return int(data["version"])

    async def knowledge(self) -> KnowledgeSnapshot:
        """The app's whole knowledge base: every source's chunks and vectors, with its version."""
        data = _as_dict(await self._call("GET", "/v1/knowledge"))
        return KnowledgeSnapshot(
            int(data.get("version") or 0),
            tuple(KnowledgeChunk(str(row["source"]), dict(row["chunk"])) for row in data.get("chunks") or []),
            tuple(KnowledgeVectorRecord.from_json(v) for v in data.get("vectors") or []),
        )

    async def pending_uploads(self) -> list[KnowledgeUploadRecord]:
        """The oldest few uploads no bot has ingested yet, with their text."""
        data = _as_dict(await self._call("GET", "/v1/knowledge/uploads", params={"state": "pending"}))
        return [
            KnowledgeUploadRecord(str(u["id"]), str(u["source"]), str(u.get("content") or ""))
            for u in data.get("uploads") or []
        ]

    async def settle_upload(self, upload_id: str, *, version: int = 0, error: str = "") -> None:
        """Report an upload's outcome: ingested at knowledge ``version``, or failed with ``error``."""
        await self._call(
            "POST", f"/v1/knowledge/uploads/{_seg(upload_id)}", json={"version": version, "error": error}
        )

    async def knowledge_version(self) -> int:
        """The app's knowledge version: it changes on every put or delete (cheap to poll)."""
        return int(_as_dict(await self._call("GET", "/v1/knowledge/version"))["version"])


def _seg(value: str) -> str:
    """``value`` as one URL path segment (file names may hold spaces, ``#`` or Chinese)."""
    return quote(value, safe="")


def _as_dict(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise AdminError(502, "bad_response", f"expected a JSON object, got {type(data).__name__}")
    return data
