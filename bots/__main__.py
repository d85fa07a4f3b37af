"""``python -m parley.bots``: run the support bot against a Parley server.

Example (server on localhost with an app's API key)::

    python -m parley.bots --url ws://localhost:8700/ws --admin http://localhost:8700 --api-key KEY

The bot user (``--user``, default ``parley-bot``) is created with role ``bot`` through the
admin API and gets fresh tokens from it; or pass ``--token`` (a bot token from your
back-end). With ``--admin``/``--api-key`` the knowledge base is the app's, loaded from the
server and reloaded when its version changes (``--kb-poll`` seconds); ``--kb DIR`` is ingested
into it first, and an empty one is seeded with the example shop. With ``--token`` only, the
index is built locally from ``--kb`` (default: the example shop in ``parley/bots/data/kb``).

Ingest files into the server's knowledge base::

    python -m parley.bots ingest --admin URL --api-key KEY PATH... [--delete SOURCE]

An LLM is used when ``PARLEY_LLM_BASE_URL`` (or ``OPENAI_BASE_URL``) is set; see
``docs/BOT.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from pathlib import Path

from parley.bots.answer import Answerer
from parley.bots.extract import ProfileExtractor
from parley.bots.ingest import KnowledgeSync, ingest_files
from parley.bots.knowledge import (
    HandoffDetector,
    KnowledgeIndex,
    MiniLMEmbedder,
    MultilingualUSEEmbedder,
    chunk_documents,
    load_directory,
)
from parley.bots.llm import LLM, LLMConfig
from parley.bots.runner import SupportBot
from parley.bots.sentiment import SentimentScorer
from parley.bots.tags import DEFAULT_TAGS, InterestTagger
from parley.sdk import AdminClient, Client

KB_DIR = Path(__file__).resolve().parent / "data" / "kb"


def _args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="python -m parley.bots", description="Run the Parley support bot.")
    ap.add_argument(
        "--url", default=os.environ.get("PARLEY_URL", "ws://127.0.0.1:8700/ws"), help="gateway WebSocket URL"
    )
    ap.add_argument("--admin", default=os.environ.get("PARLEY_ADMIN_URL", ""), help="admin API base URL")
    ap.add_argument("--api-key", default=os.environ.get("PARLEY_API_KEY", ""), help="the app's API key")
    ap.add_argument(
        "--token", default=os.environ.get("PARLEY_BOT_TOKEN", ""), help="a bot token (instead of --api-key)"
    )
    ap.add_argument("--user", default="parley-bot", help="the bot's user id")
    ap.add_argument(
        "--kb",
        type=Path,
        default=None,
        help="knowledge-base folder (Markdown, text, FAQ CSV/JSONL); with --admin it is ingested into the server",
    )
    ap.add_argument(
        "--kb-poll",
        type=float,
        default=10.0,
        help="seconds between knowledge-version checks with --admin (0 = load once)",
    )
    ap.add_argument("--app-name", default="our shop", help="how the bot names the business in its prompt")
    ap.add_argument(
        "--state",
        type=Path,
        default=None,
        help="file for stream positions, so a restart answers what it missed",
    )
    ap.add_argument(
        "--tags",
        type=Path,
        default=DEFAULT_TAGS,
        help="interest-tag definitions (JSON/YAML; default: the example shop's)",
    )
    ap.add_argument("--no-tags", action="store_true", help="no zero-shot interest tags")
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Build the index, connect, serve until SIGINT/SIGTERM."""
    if not args.token and not (args.admin and args.api_key):
        raise SystemExit("give --token, or --admin and --api-key")
    log = logging.getLogger("parley.bots")
    use = MultilingualUSEEmbedder()
    index = KnowledgeIndex([MiniLMEmbedder(), use])
    admin = AdminClient(args.admin, args.api_key, timeout=120) if args.admin and args.api_key else None
    sync: KnowledgeSync | None = None
    if admin is None:
        kb = args.kb or KB_DIR
        index.replace(chunk_documents(load_directory(kb)))
        log.info("knowledge base: %d chunks from %s", len(index.chunks), kb)
    else:
        await admin.create_user(args.user, role="bot")
        sync = KnowledgeSync(admin, index, interval=args.kb_poll)
        if args.kb is not None:
            await ingest_files(admin, index, [args.kb])
        elif not (await admin.knowledge()).chunks:
            log.info("knowledge base empty: seeding it with the example shop (%s)", KB_DIR)
            await ingest_files(admin, index, [KB_DIR])
        await sync.load()
    config = LLMConfig.from_env()
    llm = LLM(config) if config else None

    async def get_token() -> str:
        assert admin is not None
        return (await admin.create_token(args.user)).token

    client = Client(
        args.url, token=args.token or None, get_token=get_token if admin else None, connect_timeout=None
    )
    bot = SupportBot(
        client,
        Answerer(index, llm, app_name=args.app_name),
        detector=HandoffDetector(),
        sentiment=SentimentScorer(embedder=use),
        tagger=None if args.no_tags else InterestTagger.from_file(use, args.tags),
        admin=admin,
        extractor=ProfileExtractor(llm) if llm is not None else None,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    poller = asyncio.create_task(sync.run()) if sync is not None and args.kb_poll > 0 else None
    async with client:
        bot.start()
        logging.getLogger("parley.bots").info(
            "serving as %s (LLM: %s)", client.user, config.model if config else "off"
        )
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5.0)
            _save_positions(args.state, client.positions)
        await bot.stop()
        _save_positions(args.state, client.positions)
    if poller is not None:
        poller.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await poller
    if llm is not None:
        await llm.aclose()
    if admin is not None:
        await admin.aclose()


def _load_positions(path: Path | None) -> dict[str, tuple[int, str]]:
    if path is None or not path.exists():
        return {}
    data = json.loads(path.read_text())
    return {conv: (int(seq), str(epoch)) for conv, (seq, epoch) in data.items()}


def _save_positions(path: Path | None, positions: dict[str, tuple[int, str]]) -> None:
    if path is None:
        return
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(positions))
    tmp.replace(path)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["ingest"]:
        from parley.bots.ingest import main as ingest_main

        raise SystemExit(ingest_main(argv[1:]))
    args = _args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
