"""``python -m parley.bots``: run the support bot against a Parley server.

Example (server on localhost with an app's API key)::

    python -m parley.bots --url ws://localhost:8700/ws --admin http://localhost:8700 --api-key KEY

The bot user (``--user``, default ``parley-bot``) is created with role ``bot`` through the
admin API and gets fresh tokens from it; or pass ``--token`` (a bot token from your
back-end). With ``--admin``/``--api-key`` the knowledge base is the app's, loaded from the
server and reloaded when its version changes (``--kb-poll`` seconds); ``--kb DIR`` is ingested
into it first. The example shop (``parley/bots/data/kb``) is used only with ``--demo``. With
``--token`` only, the index is built locally from ``--kb``. The models load before the bot
connects and logs "ready". Settings: ``--config FILE`` and the options (docs/BOT.md).

Ingest files into the server's knowledge base::

    python -m parley.bots ingest --admin URL --api-key KEY PATH... [--delete SOURCE]

An LLM is used when ``--llm-base-url``, the config file's ``llm_base_url`` or
``PARLEY_LLM_BASE_URL`` (or ``OPENAI_BASE_URL``) is set; see ``docs/BOT.md``.
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
from collections.abc import Iterable, Mapping
from pathlib import Path

from parley.bots.answer import Answerer
from parley.bots.config import BotConfig, ConfigError
from parley.bots.extract import ProfileExtractor
from parley.bots.ingest import KnowledgeSync, ingest_files
from parley.bots.knowledge import (
    CachedEmbedder,
    Embedder,
    HandoffDetector,
    KnowledgeIndex,
    MiniLMEmbedder,
    MultilingualUSEEmbedder,
    chunk_documents,
    load_directory,
)
from parley.bots.knowledge.gate import shipped_gate
from parley.bots.knowledge.gloss import shared_glossary
from parley.bots.knowledge.rerank import shipped_reranker
from parley.bots.knowledge.spelling import english_words
from parley.bots.llm import LLM
from parley.bots.runner import SupportBot
from parley.bots.sentiment import bot_scorer
from parley.bots.standby import Standby
from parley.bots.tags import DEFAULT_TAGS, InterestTagger
from parley.proto.vocabulary import UserRole
from parley.sdk import AdminClient, Client

KB_DIR = Path(__file__).resolve().parent / "data" / "kb"
#: Texts whose vectors the bot keeps (customer messages seen moments ago; a few MB at most).
_RECENT_TEXTS = 2048


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
        "--lease",
        default="support-bot",
        help="with --admin: the app's lease that picks the one bot process that answers; the others "
        "stand by and take over when it stops (default: support-bot; '' = always answer)",
    )
    ap.add_argument("--lease-ttl", type=int, default=15, help="seconds a lease lasts unrenewed (default 15)")
    ap.add_argument(
        "--kb",
        type=Path,
        default=None,
        help="knowledge-base folder (Markdown, text, FAQ CSV/JSONL); with --admin it is ingested into the server",
    )
    ap.add_argument(
        "--demo",
        action="store_true",
        help="use the example clothing shop's knowledge base and tags (never implied)",
    )
    ap.add_argument(
        "--kb-poll",
        type=float,
        default=10.0,
        help="seconds between knowledge-version checks with --admin (0 = load once)",
    )
    ap.add_argument(
        "--state",
        type=Path,
        default=None,
        help="file for stream positions, so a restart answers what it missed",
    )
    ap.add_argument("--tags", default=None, help="interest-tag definitions (JSON/YAML); default: none")
    ap.add_argument("--no-tags", action="store_true", help="no zero-shot interest tags")
    ap.add_argument("--config", type=Path, default=None, help="bot configuration file (TOML or JSON)")
    cfg = ap.add_argument_group("configuration (override --config; see docs/BOT.md)")
    cfg.add_argument("--name", "--app-name", dest="name", help="how the bot names the business")
    cfg.add_argument("--topics", help="what the bot may talk about (LLM prompt, refusal)")
    cfg.add_argument("--refusal", help="what the bot says when it declines")
    cfg.add_argument("--signals", help="retrieval signals, comma-separated")
    cfg.add_argument("--fusion", choices=("weighted", "boost", "rrf"))
    cfg.add_argument("--answer-threshold", type=float)
    cfg.add_argument("--same-language-margin", type=float)
    cfg.add_argument("--out-of-scope-below", type=float)
    cfg.add_argument(
        "--overrule-floor-from",
        type=float,
        help="with the gate: answer a request under the out-of-scope floor from this probability (default 0.5)",
    )
    cfg.add_argument("--thresholds", choices=("adaptive", "fixed"))
    cfg.add_argument("--low-confidence-limit", type=int)
    cfg.add_argument(
        "--gloss",
        action=argparse.BooleanOptionalAction,
        help="cross-lingual retrieval through dictionary glosses (default: on)",
    )
    cfg.add_argument(
        "--spelling",
        action=argparse.BooleanOptionalAction,
        help="repair misspelt English words towards the knowledge base's words (default: on)",
    )
    cfg.add_argument(
        "--focus",
        action=argparse.BooleanOptionalAction,
        help="score a long message's question sentences as much as the whole message (default: on)",
    )
    cfg.add_argument(
        "--rerank",
        action=argparse.BooleanOptionalAction,
        help="reorder the top hits with the shipped learned model (default: on)",
    )
    cfg.add_argument(
        "--gate",
        action=argparse.BooleanOptionalAction,
        help="decide whether to answer with the shipped learned gate, not the threshold (default: on)",
    )
    cfg.add_argument(
        "--answer-probability",
        type=float,
        help="the gate's probability that the entry is right from which the bot answers (default 0.30)",
    )
    cfg.add_argument("--llm-base-url", help="OpenAI-compatible endpoint (default: none = FAQ answers)")
    cfg.add_argument("--llm-model")
    cfg.add_argument("--llm-timeout", type=float)
    ap.add_argument("-v", "--verbose", action="store_true")
    return ap.parse_args(argv)


_CLI_SETTINGS = (
    "name topics refusal signals fusion answer_threshold thresholds same_language_margin out_of_scope_below "
    "overrule_floor_from "
    "low_confidence_limit gloss spelling focus rerank gate answer_probability "
    "tags llm_base_url llm_model llm_timeout"
).split()


def config_from(args: argparse.Namespace, env: Mapping[str, str]) -> BotConfig:
    """Defaults < environment (LLM) < ``--config`` file < command-line options."""
    cfg = BotConfig.from_env(env)
    if args.config is not None:
        cfg = BotConfig.read(args.config, cfg)
    return cfg.updated({k: getattr(args, k, None) for k in _CLI_SETTINGS}, "command line")


async def prepare_knowledge(
    admin: AdminClient, index: KnowledgeIndex, kb: Path | None, *, demo: bool
) -> None:
    """Ingest ``kb`` into the app's knowledge base; the example shop only when ``demo`` and it is empty."""
    log = logging.getLogger("parley.bots")
    if kb is not None:
        await ingest_files(admin, index, [kb])
    elif not (await admin.knowledge()).chunks:
        if demo:
            log.info("--demo: seeding the empty knowledge base with the example shop (%s)", KB_DIR)
            await ingest_files(admin, index, [KB_DIR])
        else:
            log.warning(
                "the app's knowledge base is empty: every question will be handed over until you run "
                "`python -m parley.bots ingest` (or start with --kb DIR; --demo for the example shop)"
            )


def warm_up(embedders: Iterable[Embedder], *, gloss: bool = False) -> None:
    """Load every model now, so the first customer does not wait for it (and failures show at start):
    the English word list of the spelling repair (~0.1 s), and with ``gloss`` the dictionary too
    (2-5 s, ~65 MB, once per process)."""
    for e in embedders:
        e.encode(["warm-up"])
    english_words()
    if gloss:
        shared_glossary()


async def serve(args: argparse.Namespace) -> None:
    """Build the index, connect, serve until SIGINT/SIGTERM."""
    if not args.token and not (args.admin and args.api_key):
        raise SystemExit("give --token, or --admin and --api-key")
    try:
        cfg = config_from(args, os.environ)
    except ConfigError as exc:
        raise SystemExit(str(exc)) from None
    log = logging.getLogger("parley.bots")
    # Cached: retrieval and the tagger embed each customer message with the same two models.
    use = CachedEmbedder(MultilingualUSEEmbedder(), max_texts=_RECENT_TEXTS)
    embedders: list[Embedder] = (
        [use]
        if cfg.signals == ("use-multilingual-v3",)
        else [CachedEmbedder(MiniLMEmbedder(), max_texts=_RECENT_TEXTS), use]
    )
    await asyncio.to_thread(warm_up, embedders, gloss=cfg.gloss)
    index = KnowledgeIndex(
        embedders,
        cfg.retrieval(),
        reranker=shipped_reranker() if cfg.reranks() else None,
        gate=shipped_gate() if cfg.gates() else None,
    )
    admin = AdminClient(args.admin, args.api_key, timeout=120) if args.admin and args.api_key else None
    sync: KnowledgeSync | None = None
    if admin is None:
        kb = args.kb or (KB_DIR if args.demo else None)
        if kb is None:
            raise SystemExit("give --kb DIR (or --demo for the example shop)")
        await asyncio.to_thread(index.replace, chunk_documents(load_directory(kb)))
        await asyncio.to_thread(index.thresholds)  # calibrated before ready, not on the first question
        log.info("knowledge base: %d chunks from %s", len(index.chunks), kb)
    else:
        await admin.create_user(args.user, role=UserRole.BOT)
        sync = KnowledgeSync(admin, index, interval=args.kb_poll)
        await prepare_knowledge(admin, index, args.kb, demo=args.demo)
        await sync.load()
    llm_config = cfg.llm()
    llm = LLM(llm_config) if llm_config else None
    tags = cfg.tags or (str(DEFAULT_TAGS) if args.demo else "")
    english = next((e for e in embedders if not e.multilingual), None)  # blended in for English messages
    tagger = None if args.no_tags or not tags else InterestTagger.from_file(use, tags, english=english)
    if tagger is not None:  # service questions are not interests (read at start)
        tagger.add_service_questions([c.question for c in index.chunks if c.question])

    async def get_token() -> str:
        assert admin is not None
        return (await admin.create_token(args.user)).token

    client = Client(
        args.url, token=args.token or None, get_token=get_token if admin else None, connect_timeout=None
    )
    bot = SupportBot(
        client,
        Answerer(
            index,
            llm,
            app_name=cfg.name,
            topics=cfg.topics,
            refusal=cfg.refusal,
            same_language_margin=cfg.same_language_margin,
            out_of_scope_below=cfg.out_of_scope_below if cfg.out_of_scope_below >= 0 else None,
            overrule_floor_from=cfg.overrule_floor_from,
        ),
        detector=HandoffDetector(),
        low_confidence_limit=cfg.low_confidence_limit,
        sentiment=bot_scorer(use),
        tagger=tagger,
        admin=admin,
        extractor=ProfileExtractor(llm) if llm is not None else None,
        standby=Standby(admin, name=args.lease, ttl_s=args.lease_ttl) if admin and args.lease else None,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    poller = asyncio.create_task(sync.run()) if sync is not None and args.kb_poll > 0 else None
    async with client:
        bot.start()
        role = "answering"
        if bot.standby is not None:
            with contextlib.suppress(Exception):  # logged by run(), which keeps asking
                await bot.standby.step()
            bot.standby.start()
            role = "answering" if bot.standby.active else f"standing by ({bot.standby.seen_holder} answers)"
        llm_name = llm_config.model if llm_config else "off"
        log.info("ready: serving as %s, %s (LLM: %s)", client.user, role, llm_name)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5.0)
            _save_positions(args.state, client.positions)
        await bot.stop()
        if bot.standby is not None:
            await bot.standby.stop()  # after the last answer: a standby takes over at its next ask
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
