"""Knowledge base through the server: ingest files into the store, load and follow it in the bot.

The bot service parses, chunks and embeds; the server stores chunks and vectors per source
file (``PUT /v1/knowledge/sources/{source}``) and bumps the app's knowledge version on every
change. A running bot polls ``/v1/knowledge/version`` and, when it moves, swaps its index for
the stored chunks *with their stored vectors* (no re-embedding, no restart).

CLI::

    python -m parley.bots ingest --admin http://127.0.0.1:8700 --api-key KEY kb/ extra.md
    python -m parley.bots ingest --admin ... --api-key ... --delete faq_en.csv

A source is a file's name (``faq_en.csv``): ingesting a file with the same name again
replaces it. Every file is parsed before anything is sent, so a bad file (empty, not UTF-8,
malformed FAQ) stops the run with a clear error and nothing half-ingested.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parley.bots.knowledge import (
    Chunk,
    ChunkVector,
    KnowledgeFormatError,
    KnowledgeIndex,
    chunk_documents,
    load_file,
    parse_bytes,
)
from parley.bots.knowledge.documents import Document
from parley.bots.llm import LLM, LLMConfig
from parley.bots.translate import Completer, translate_chunks
from parley.sdk import AdminClient, AdminError
from parley.sdk.admin import KnowledgeSnapshot, KnowledgeVectorRecord

__all__ = [
    "KNOWLEDGE_SUFFIXES",
    "scan_files",
    "IngestResult",
    "KnowledgeSync",
    "chunk_from_dict",
    "chunk_to_dict",
    "collect_files",
    "ingest_files",
    "load_snapshot",
    "main",
]

log = logging.getLogger("parley.bots")

#: File types the ingester reads (see :mod:`parley.bots.knowledge.documents`).
KNOWLEDGE_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".csv", ".jsonl"})
_CHUNK_FIELDS = tuple(f.name for f in dataclasses.fields(Chunk))


def chunk_to_dict(chunk: Chunk) -> dict[str, Any]:
    """The stored form of a chunk: its dataclass fields."""
    return {name: getattr(chunk, name) for name in _CHUNK_FIELDS}


def chunk_from_dict(data: Mapping[str, Any]) -> Chunk:
    """Rebuild a chunk from its stored form (unknown keys ignored, so newer writers stay readable)."""
    fields = {k: data[k] for k in _CHUNK_FIELDS if k in data}
    if not isinstance(fields.get("id"), str):
        raise ValueError("stored chunk without a string id")
    fields.setdefault("doc_id", str(fields["id"]).split("::")[0])
    for name in ("title", "text", "kind", "lang", "question", "source"):
        fields[name] = str(fields.get(name) or "")
    fields["lang"] = fields["lang"] or "en"
    fields["start"] = int(fields.get("start") or 0)
    return Chunk(**fields)


def scan_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[Path]]:
    """Expand ``paths`` (files, or folders searched recursively) to ``(knowledge files, skipped files)``.

    Skipped are the files in those folders that are not knowledge files (by extension) and
    hidden files; a file named explicitly is always taken (and rejected later if unreadable).
    """
    out: list[Path] = []
    skipped: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for q in sorted(p.rglob("*")):
                if not q.is_file():
                    continue
                hidden = any(part.startswith(".") for part in q.relative_to(p).parts)
                (out if q.suffix.lower() in KNOWLEDGE_SUFFIXES and not hidden else skipped).append(q)
        elif p.is_file():
            out.append(p)
        else:
            raise KnowledgeFormatError(f"{p}: no such file or folder")
    names = [p.name for p in out]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise KnowledgeFormatError(f"two files named {dupes[0]!r}: a source is a file name, rename one")
    return out, skipped


def collect_files(paths: Iterable[str | Path]) -> list[Path]:
    """The knowledge files of ``paths`` (see :func:`scan_files`)."""
    return scan_files(paths)[0]


@dataclass(frozen=True, slots=True)
class IngestResult:
    """One stored source: how many documents and chunks, and the knowledge version after it."""

    source: str
    documents: int
    chunks: int
    version: int
    #: Chunks stored with a translation (``ingest --translate``; 0 without).
    translated: int = 0


def _vector_records(vectors: Iterable[ChunkVector]) -> list[KnowledgeVectorRecord]:
    return [KnowledgeVectorRecord(v.chunk_id, v.model, v.view, v.vector) for v in vectors]


async def ingest_files(
    admin: AdminClient,
    index: KnowledgeIndex,
    paths: Iterable[str | Path],
    *,
    size: int = 500,
    overlap: int = 100,
    translator: Completer | None = None,
) -> list[IngestResult]:
    """Parse, chunk and embed (with ``index``'s embedders) every file, then PUT each as a source.

    With a ``translator`` (the LLM), each chunk is first translated into the other language
    (:func:`~.translate.translate_chunks`). All files are parsed first: any :class:`KnowledgeFormatError` is raised before anything
    is stored. Document ids must be unique across the files given.
    """
    parsed: list[tuple[Path, list[Document]]] = [(p, load_file(p)) for p in collect_files(paths)]
    seen: dict[str, str] = {}
    for p, docs in parsed:
        for d in docs:
            if d.id in seen and seen[d.id] != p.name:
                raise KnowledgeFormatError(f"{p.name}: document id {d.id!r} is also in {seen[d.id]}")
            seen[d.id] = p.name
    results: list[IngestResult] = []
    for p, docs in parsed:
        chunks = chunk_documents(docs, size=size, overlap=overlap)
        translated = 0
        if translator is not None:
            chunks, translated = await translate_chunks(translator, chunks)
        vectors = await asyncio.to_thread(index.embed, chunks)
        version = await admin.put_knowledge(
            p.name, [chunk_to_dict(c) for c in chunks], _vector_records(vectors)
        )
        log.info("ingested %s: %d documents, %d chunks (version %d)", p.name, len(docs), len(chunks), version)
        results.append(IngestResult(p.name, len(docs), len(chunks), version, translated))
    return results


def load_snapshot(index: KnowledgeIndex, snapshot: KnowledgeSnapshot) -> int:
    """Make ``snapshot`` the whole content of ``index`` (stored vectors reused) and calibrate its
    thresholds; returns its chunk count."""
    # Chunks stored before they carried their source get it from the row.
    chunks = [
        c if c.source else dataclasses.replace(c, source=row.source)
        for row in snapshot.chunks
        for c in [chunk_from_dict(row.chunk)]
    ]
    vectors = [ChunkVector(v.chunk_id, v.model, v.view, v.vector) for v in snapshot.vectors]
    index.replace(chunks, vectors)
    # The null level takes ~25 searches: here, in the loading thread, not in the first customer's answer.
    index.thresholds()
    return len(chunks)


class KnowledgeSync:
    """Keeps a bot's :class:`KnowledgeIndex` equal to the app's stored knowledge base.

    :meth:`load` fetches everything once; :meth:`run` polls the version every ``interval``
    seconds and reloads when it changed. ``version`` is the loaded version (-1 before the
    first load); :meth:`wait_version` lets callers (tests, tooling) wait for a reload.
    """

    def __init__(self, admin: AdminClient, index: KnowledgeIndex, *, interval: float = 10.0) -> None:
        self.admin = admin
        self.index = index
        self.interval = interval
        self.version = -1
        self.reloads = 0
        self._changed = asyncio.Condition()

    async def load(self) -> int:
        """Fetch the whole knowledge base into the index; returns the version loaded."""
        snapshot = await self.admin.knowledge()
        # Building the snapshot (BM25, matrices) is CPU work: keep the event loop free.
        count = await asyncio.to_thread(load_snapshot, self.index, snapshot)
        async with self._changed:
            self.version = snapshot.version
            self.reloads += 1
            self._changed.notify_all()
        log.info("knowledge base: %d chunks at version %d", count, snapshot.version)
        return snapshot.version

    async def ingest_uploads(self) -> int:
        """Ingest the files admins uploaded from the console (the server cannot parse or embed): each
        pending upload is parsed, chunked and embedded like a file given to ``ingest``, stored as its
        source (a new version) and settled with that version — or with the parser's reason, storing
        nothing. Returns how many were stored."""
        stored = 0
        for upload in await self.admin.pending_uploads():
            try:
                chunks = chunk_documents(parse_bytes(upload.content.encode("utf-8"), source=upload.source))
            except KnowledgeFormatError as exc:
                await self._settle(upload.id, error=str(exc))
                continue
            vectors = await asyncio.to_thread(self.index.embed, chunks)
            version = await self.admin.put_knowledge(
                upload.source, [chunk_to_dict(c) for c in chunks], _vector_records(vectors)
            )
            log.info(
                "ingested upload %s as %s: %d chunks (version %d)",
                upload.id,
                upload.source,
                len(chunks),
                version,
            )
            await self._settle(upload.id, version=version)
            stored += 1
        return stored

    async def _settle(self, upload_id: str, *, version: int = 0, error: str = "") -> None:
        try:
            await self.admin.settle_upload(upload_id, version=version, error=error)
        except AdminError as exc:  # another bot settled it first: its ingest stored the same file
            log.info("upload %s was settled elsewhere: %s", upload_id, exc)

    async def check(self) -> bool:
        """Ingest pending uploads, then reload if the stored version differs from the loaded one; True
        if it reloaded."""
        await self.ingest_uploads()
        if await self.admin.knowledge_version() == self.version:
            return False
        await self.load()
        return True

    async def run(self) -> None:
        """Poll until cancelled; errors (server down, bad data) are logged and retried."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("knowledge base: reload failed, keeping version %d", self.version, exc_info=True)

    async def wait_version(self, at_least: int, timeout: float | None = None) -> int:
        """Wait until a version ``>= at_least`` is loaded; returns it."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self.version >= at_least), timeout)
            return self.version


# --------------------------------------------------------------------- CLI


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m parley.bots ingest",
        description="Parse, chunk and embed knowledge-base files and store them on the server, one source per file.",
    )
    ap.add_argument(
        "paths",
        nargs="*",
        type=Path,
        help="files or folders, searched recursively (Markdown, text, FAQ CSV/JSONL)",
    )
    ap.add_argument("--admin", default=os.environ.get("PARLEY_ADMIN_URL", ""), help="admin API base URL")
    ap.add_argument("--api-key", default=os.environ.get("PARLEY_API_KEY", ""), help="the app's API key")
    ap.add_argument(
        "--delete", action="append", default=[], metavar="SOURCE", help="remove a source (repeatable)"
    )
    ap.add_argument("--size", type=int, default=500, help="chunk size in characters")
    ap.add_argument("--overlap", type=int, default=100, help="overlap between chunks in characters")
    ap.add_argument(
        "--translate",
        action="store_true",
        help="translate each chunk into the other language with the LLM (PARLEY_LLM_BASE_URL, "
        "PARLEY_LLM_MODEL, PARLEY_LLM_API_KEY) and index the translation too",
    )
    args = ap.parse_args(argv)
    if not args.admin or not args.api_key:
        ap.error("--admin and --api-key are required")
    if not args.paths and not args.delete:
        ap.error("give files or folders to ingest, or --delete SOURCE")
    if args.translate and LLMConfig.from_env() is None:
        ap.error("--translate needs an LLM: set PARLEY_LLM_BASE_URL (and PARLEY_LLM_MODEL)")
    return args


def default_index() -> KnowledgeIndex:
    """An index with the configured embedders (MiniLM + multilingual USE)."""
    from parley.bots.knowledge import MiniLMEmbedder, MultilingualUSEEmbedder

    return KnowledgeIndex([MiniLMEmbedder(), MultilingualUSEEmbedder()])


async def run_cli(args: argparse.Namespace, index: KnowledgeIndex | None = None) -> int:
    """Do what the parsed arguments say; returns the exit status."""
    async with AdminClient(args.admin, args.api_key, timeout=120) as admin:
        for source in args.delete:
            version = await admin.delete_knowledge(source)
            print(f"deleted {source} (version {version})")
        if args.paths:
            try:
                files, skipped = scan_files(args.paths)
                for p in files:
                    load_file(p)  # fail fast, before the models load
            except (KnowledgeFormatError, OSError) as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            for p in skipped:
                print(f"skipped {p} (not {', '.join(sorted(KNOWLEDGE_SUFFIXES))}, or hidden)")
            if not files:
                print("error: no knowledge files found", file=sys.stderr)
                return 2
            config = LLMConfig.from_env() if args.translate else None
            async with contextlib.AsyncExitStack() as stack:
                llm = await stack.enter_async_context(LLM(config)) if config is not None else None
                results = await ingest_files(
                    admin,
                    index or default_index(),
                    files,
                    size=args.size,
                    overlap=args.overlap,
                    translator=llm,
                )
            for r in results:
                extra = f", {r.translated} translated" if args.translate else ""
                print(
                    f"took {r.source}: {r.documents} documents, {r.chunks} chunks{extra} (version {r.version})"
                )
    return 0


def main(argv: Sequence[str] | None = None, *, index: KnowledgeIndex | None = None) -> int:
    """Entry point of ``python -m parley.bots ingest``."""
    args = _args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(run_cli(args, index))
    return 130
