"""Knowledge-base documents: parse Markdown, plain text and FAQ files (CSV / JSONL).

A :class:`Document` is one answerable unit with a stable id: one FAQ row, one Markdown
section (``## Heading {#id}``), or one plain-text file.  Ids are what the evaluation set,
the store and the cited passages refer to, so they must survive re-ingestion unchanged:
FAQ rows carry an ``id`` column/field, Markdown sections an explicit ``{#id}`` anchor (or
a slug of the heading), plain-text files their file stem.

Parsing is all-or-nothing per file: any problem raises :class:`KnowledgeFormatError`
and nothing from that file is returned, so a caller never ingests half a file.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .langs import detect_lang

__all__ = [
    "MAX_FILE_BYTES",
    "Document",
    "DocumentKind",
    "KnowledgeFormatError",
    "load_directory",
    "load_file",
    "parse_bytes",
    "parse_faq_csv",
    "parse_faq_jsonl",
    "parse_markdown",
    "parse_text",
]

DocumentKind = Literal["faq", "markdown", "text"]

#: Files larger than this are refused: a knowledge base is curated text, not a dump.
MAX_FILE_BYTES = 5 * 1024 * 1024

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(?:\{#([^}\s]+)\})?\s*$")
_SLUG_DROP = re.compile(r"[^\w\u4e00-\u9fff-]+")

#: A preamble of one paragraph up to this long, before the sections, is the file's
#: summary ("check-in, invoices, extra beds and visitors at our Shanghai hotels").  It
#: names every topic and answers none, so it ranked first for questions its sections
#: answer and was never the right entry in 31 evaluation sets: it is not indexed.
SUMMARY_MAX_CHARS = 280


class KnowledgeFormatError(ValueError):
    """A knowledge-base file cannot be ingested; the message says which file and why."""


@dataclass(frozen=True, slots=True)
class Document:
    """One answerable unit of a knowledge base.

    ``question`` is set for FAQ entries only; ``text`` is the answer or section body.
    ``lang`` is ``"en"``, ``"zh"`` or ``"mixed"`` (detected from the content).
    """

    id: str
    title: str
    text: str
    kind: DocumentKind
    source: str = ""
    question: str = ""
    lang: str = "en"
    metadata: dict[str, str] = field(default_factory=dict)


def _doc(id_: str, title: str, text: str, kind: DocumentKind, source: str, question: str = "") -> Document:
    return Document(
        id=id_,
        title=title,
        text=text,
        kind=kind,
        source=source,
        question=question,
        lang=detect_lang(f"{question} {title} {text}"),
    )


def _slug(text: str) -> str:
    return _SLUG_DROP.sub("-", text.strip().lower()).strip("-") or "section"


def parse_markdown(content: str, *, source: str = "doc.md") -> list[Document]:
    """Split Markdown into one document per heading of level 2 or deeper.

    Text before the first such heading (the ``#`` title and an intro) becomes its own
    document only if it has body text and is more than a summary of the sections (one
    paragraph of at most :data:`SUMMARY_MAX_CHARS` characters).  Ids: ``{#id}`` anchors win, else
    ``<file stem>#<heading slug>``; duplicates are an error.
    """
    stem = Path(source).stem
    sections: list[tuple[str, str | None, list[str]]] = [("", None, [])]
    doc_title = stem
    for line in content.splitlines():
        m = _HEADING.match(line)
        if m and len(m.group(1)) >= 2:
            sections.append((m.group(2), m.group(3), []))
        elif m and len(m.group(1)) == 1 and not sections[-1][2] and len(sections) == 1:
            doc_title = m.group(2)
        else:
            sections[-1][2].append(line)
    docs: list[Document] = []
    for i, (heading, anchor, lines) in enumerate(sections):
        body = "\n".join(lines).strip()
        if not body or (i == 0 and len(sections) > 1 and _is_summary(body)):
            continue
        title = heading or doc_title
        id_ = anchor or f"{stem}#{_slug(heading or 'intro')}"
        docs.append(_doc(id_, title, body, "markdown", source))
    return _checked(docs, source)


def _is_summary(preamble: str) -> bool:
    return "\n\n" not in preamble and len(preamble) <= SUMMARY_MAX_CHARS


def parse_text(content: str, *, source: str = "doc.txt") -> list[Document]:
    """One document for a whole plain-text file; its first line is the title."""
    text = content.strip()
    if not text:
        return _checked([], source)
    first, _, rest = text.partition("\n")
    title = first.strip() if rest.strip() and len(first) <= 120 else Path(source).stem
    body = rest.strip() if title == first.strip() else text
    return _checked([_doc(Path(source).stem, title, body, "text", source)], source)


def _faq(rows: Iterable[tuple[int, dict[str, object]]], source: str) -> list[Document]:
    docs = []
    for line, row in rows:
        q, a, id_ = (str(row.get(k) or "").strip() for k in ("question", "answer", "id"))
        if not q or not a:
            raise KnowledgeFormatError(f"{source}:{line}: an FAQ entry needs a question and an answer")
        docs.append(_doc(id_ or f"{Path(source).stem}#{line}", q, a, "faq", source, question=q))
    return _checked(docs, source)


def parse_faq_csv(content: str, *, source: str = "faq.csv") -> list[Document]:
    """FAQ rows from CSV with a header ``question,answer`` (and optionally ``id``)."""
    reader = csv.DictReader(io.StringIO(content))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if not {"question", "answer"} <= fields:
        raise KnowledgeFormatError(f"{source}: CSV header must name the columns question and answer")
    rows = ((i + 2, {(k or "").strip().lower(): v for k, v in row.items()}) for i, row in enumerate(reader))
    return _faq(list(rows), source)


def parse_faq_jsonl(content: str, *, source: str = "faq.jsonl") -> list[Document]:
    """FAQ entries from JSON Lines: one object per line with ``question``, ``answer``, optional ``id``."""
    rows: list[tuple[int, dict[str, object]]] = []
    for i, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise KnowledgeFormatError(f"{source}:{i}: not valid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise KnowledgeFormatError(f"{source}:{i}: each line must be a JSON object")
        rows.append((i, obj))
    return _faq(rows, source)


def _checked(docs: list[Document], source: str) -> list[Document]:
    if not docs:
        raise KnowledgeFormatError(f"{source}: no content to ingest")
    seen: set[str] = set()
    for d in docs:
        if d.id in seen:
            raise KnowledgeFormatError(f"{source}: duplicate document id {d.id!r}")
        seen.add(d.id)
    return docs


_PARSERS = {
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".txt": parse_text,
    ".csv": parse_faq_csv,
    ".jsonl": parse_faq_jsonl,
}


def parse_bytes(data: bytes, *, source: str) -> list[Document]:
    """Parse a file's raw bytes, choosing the parser by the extension of ``source``.

    Only UTF-8 (with or without BOM) is accepted: guessing another encoding would
    silently ingest mojibake.
    """
    parser = _PARSERS.get(Path(source).suffix.lower())
    if parser is None:
        raise KnowledgeFormatError(f"{source}: unsupported file type (use {', '.join(sorted(_PARSERS))})")
    if len(data) > MAX_FILE_BYTES:
        raise KnowledgeFormatError(f"{source}: file is larger than {MAX_FILE_BYTES} bytes")
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise KnowledgeFormatError(
            f"{source}: not UTF-8 text (byte {exc.start}); re-save it as UTF-8"
        ) from None
    return parser(content, source=source)


def load_file(path: str | Path) -> list[Document]:
    """Read and parse one knowledge-base file (see :func:`parse_bytes`)."""
    p = Path(path)
    return parse_bytes(p.read_bytes(), source=p.name)


def load_directory(path: str | Path) -> list[Document]:
    """Parse every supported file in a directory and its subfolders (sorted by path); ids must be
    unique across files."""
    docs: list[Document] = []
    for p in sorted(Path(path).rglob("*")):
        if p.is_file() and p.suffix.lower() in _PARSERS:
            docs.extend(load_file(p))
    return _checked(docs, str(path))
