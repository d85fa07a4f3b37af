"""Translate each evaluation set's knowledge base with a real LLM, as ``ingest --translate`` does.

``python -m loadtests.translate_sets --llm-url http://127.0.0.1:8765/v1 --model gemma3`` loads
each set's ``kb/`` folder through the product's own path (:func:`parley.bots.evalsets.kb_chunks`:
the parser and chunking ``python -m parley.bots ingest`` uses), translates every chunk with
:func:`parley.bots.translate.translate_chunks` through :class:`parley.bots.llm.LLM` (the prompt,
the concurrency and the failure rule are the product's), and writes the result to
``<set>/translations.<tag>.jsonl``: one row ``{"chunk", "doc_id", "translation"}`` per chunk
that got a translation. ``python -m parley.bots.eval --translations-file translations.<tag>.jsonl``
then scores the bot with them indexed, per chunk, as the bot would have them after that ingest.
The hand-written ``translations.jsonl`` (a ceiling) is never touched.

A holdout set (``"holdout": true`` in its ``set.json``) is refused unless ``--holdout-ok``; even
then nothing of its text is printed — counts and timings only (the product's per-chunk warning,
which names the chunk, is counted instead of logged). Timings depend on the machine and on who
else uses it: report them with the machine, never assert them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from parley.bots.evalsets import UNSEEN_DIR, kb_chunks
from parley.bots.llm import LLM, LLMConfig, LLMError
from parley.bots.translate import target_language, translate_chunks

__all__ = ["SetResult", "main", "output_name", "translate_set"]


@dataclass(frozen=True, slots=True)
class SetResult:
    """One set's run: chunks, how many had a language to translate into, how many got a translation."""

    name: str
    holdout: bool
    chunks: int
    eligible: int
    translated: int
    failed: int
    seconds: float
    out: Path

    def line(self) -> str:
        """The summary printed for the set (counts and timing only, also for a holdout)."""
        per = self.seconds / self.eligible if self.eligible else 0.0
        role = "holdout" if self.holdout else "development"
        return (
            f"{self.name} ({role}): {self.translated}/{self.eligible} chunks translated "
            f"({self.chunks} chunks, {self.failed} failed), {self.seconds:.1f} s, {per:.2f} s/chunk "
            f"-> {self.out.name}"
        )


class _Counted(logging.Filter):
    """Swallows the product's per-chunk "no translation for <chunk id>" warnings, counting them."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        self.dropped += 1
        return False


def output_name(tag: str) -> str:
    """``translations.<tag>.jsonl`` for a model tag (letters, digits, ``.``, ``_`` and ``-`` kept)."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", tag).strip(".-")
    if not clean:
        raise ValueError(f"unusable model tag {tag!r}")
    return f"translations.{clean}.jsonl"


def _is_holdout(folder: Path) -> bool:
    return bool(json.loads((folder / "set.json").read_text(encoding="utf-8")).get("holdout", False))


async def translate_set(
    folder: Path, llm: LLM, out_name: str, *, concurrency: int = 4, holdout: bool = False
) -> SetResult:
    """Translate the chunks of ``folder/kb`` with ``llm`` and write ``folder/out_name``."""
    chunks = kb_chunks(folder / "kb")
    gate = _Counted()
    logger = logging.getLogger("parley.bots")
    logger.addFilter(gate)
    t0 = time.perf_counter()
    try:
        done, n = await translate_chunks(llm, chunks, concurrency=concurrency)
    finally:
        logger.removeFilter(gate)
    seconds = time.perf_counter() - t0
    rows = [{"chunk": c.id, "doc_id": c.doc_id, "translation": c.translation} for c in done if c.translation]
    out = folder / out_name
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    eligible = sum(1 for c in chunks if target_language(c))
    return SetResult(folder.name, holdout, len(chunks), eligible, n, gate.dropped, seconds, out)


def _folders(root: Path, names: str) -> list[Path]:
    if names:
        return [root / n.strip() for n in names.split(",") if n.strip()]
    return [p for p in sorted(root.iterdir()) if (p / "set.json").is_file() and not _is_holdout(p)]


def main(argv: Sequence[str] | None = None) -> int:
    """Translate the chosen sets (default: every development set) and print one line per set."""
    ap = argparse.ArgumentParser(prog="python -m loadtests.translate_sets", description=__doc__)
    ap.add_argument(
        "--llm-url", required=True, help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8765/v1"
    )
    ap.add_argument("--model", required=True, help="the model name the server answers to")
    ap.add_argument("--api-key", default="not-needed")
    ap.add_argument("--tag", default="", help="names the output translations.<tag>.jsonl (default: --model)")
    ap.add_argument("--sets", default="", help="comma-separated set names (default: every development set)")
    ap.add_argument("--root", type=Path, default=UNSEEN_DIR, help="folder of the evaluation sets")
    ap.add_argument(
        "--holdout-ok", action="store_true", help="allow holdout sets (the lead, once, at the end)"
    )
    ap.add_argument(
        "--concurrency", type=int, default=4, help="requests in flight (the product's ingest uses 4)"
    )
    ap.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="seconds per request (PARLEY_LLM_TIMEOUT for ingest; a CPU model queues requests)",
    )
    ap.add_argument("--max-tokens", type=int, default=512, help="the product's default")
    args = ap.parse_args(argv)
    folders = _folders(args.root, args.sets)
    missing = [f.name for f in folders if not (f / "set.json").is_file()]
    if missing:
        ap.error(f"no such set under {args.root}: {', '.join(missing)}")
    held = [f.name for f in folders if _is_holdout(f)]
    if held and not args.holdout_ok:
        ap.error(f"{', '.join(held)}: holdout set(s), translated only once at the end (--holdout-ok)")
    out_name = output_name(args.tag or args.model)
    config = LLMConfig(
        base_url=args.llm_url,
        model=args.model,
        api_key=args.api_key,
        timeout=args.timeout,
        max_tokens=args.max_tokens,
    )

    async def run() -> list[SetResult]:
        async with LLM(config) as llm:
            await llm.models()  # fail fast on a wrong URL, before any set is touched
            results = []
            for f in folders:
                r = await translate_set(
                    f, llm, out_name, concurrency=args.concurrency, holdout=f.name in held
                )
                print(r.line(), flush=True)
                results.append(r)
            return results

    try:
        results = asyncio.run(run())
    except LLMError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    total = sum(r.eligible for r in results)
    got = sum(r.translated for r in results)
    secs = sum(r.seconds for r in results)
    print(
        f"total: {got}/{total} chunks translated, {secs:.1f} s, "
        f"{secs / total if total else 0.0:.2f} s/chunk (model {args.model}, concurrency {args.concurrency})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
