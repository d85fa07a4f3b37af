"""``python -m parley.bots``: run the support bot against a Parley server.

Example (server on localhost with an app's API key)::

    python -m parley.bots --url ws://localhost:8700/ws --admin http://localhost:8700 --api-key KEY

The bot user (``--user``, default ``parley-bot``) is created with role ``bot`` through the
admin API and gets fresh tokens from it; or pass ``--token`` (a bot token from your
back-end). The knowledge base defaults to the example shop in ``parley/bots/data/kb``.
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
from pathlib import Path

from parley.bots.answer import Answerer
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
        "--kb", type=Path, default=KB_DIR, help="knowledge-base folder (Markdown, text, FAQ CSV/JSONL)"
    )
    ap.add_argument("--app-name", default="our shop", help="how the bot names the business in its prompt")
    ap.add_argument(
        "--state",
        type=Path,
        default=None,
        help="file for stream positions, so a restart answers what it missed",
    )
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    """Build the index, connect, serve until SIGINT/SIGTERM."""
    if not args.token and not (args.admin and args.api_key):
        raise SystemExit("give --token, or --admin and --api-key")
    index = KnowledgeIndex([MiniLMEmbedder(), MultilingualUSEEmbedder()])
    index.replace(chunk_documents(load_directory(args.kb)))
    logging.getLogger("parley.bots").info("knowledge base: %d chunks from %s", len(index.chunks), args.kb)
    config = LLMConfig.from_env()
    llm = LLM(config) if config else None
    admin = AdminClient(args.admin, args.api_key) if args.admin and args.api_key else None
    if admin is not None:
        await admin.create_user(args.user, role="bot")

    async def get_token() -> str:
        assert admin is not None
        return (await admin.create_token(args.user)).token

    client = Client(
        args.url, token=args.token or None, get_token=get_token if admin else None, connect_timeout=None
    )
    bot = SupportBot(client, Answerer(index, llm, app_name=args.app_name), detector=HandoffDetector())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
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
    args = _args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(name)s %(message)s"
    )
    asyncio.run(serve(args))


if __name__ == "__main__":
    main()
