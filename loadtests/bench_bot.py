"""The support bot run black box, as a new user runs it, on one evaluation set.

``python -m loadtests.bench_bot --set card`` does what issue 15's reviewer did, with processes
and the wire only: ``parley app create``, ``parley serve`` (embedded SQLite), ``python -m
parley.bots ingest`` of the set's ``kb/`` folder, ``python -m parley.bots --tags tags.json``
with the default configuration, then one new support conversation per customer message through
the SDK. For each message it records what the customer saw (an answer, a "please rephrase", or
the hand-over notice followed by the ticket's ``waiting_for_agent`` event), which entry the answer
quoted (the knowledge base entry whose text the reply contains), and the time from the send to
the bot's reply. The same messages also go through the offline evaluation
(:func:`parley.bots.evalsets.run_messages`, what ``python -m parley.bots.eval`` scores) in this
process, and the report says how often the two agree, so the offline numbers can be trusted
to be the bot's.

Timings: start → "ready" of the bot process (it loads its models before it says ready), then
p50/p95 of send → reply. They depend on the machine (report them with it, never assert them).
With ``--concurrency N`` the messages are asked a second time by N customers at once (new
conversations, a freshly started bot so that nothing is cached), after the one-at-a-time pass that
is the baseline of the same run: the report adds p50/p95, messages per second and both ratios
against that baseline, and checks that the bot decided the same under load.
A holdout set is refused unless ``--holdout-ok`` (it is scored once, by the lead, at the end).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from loadtests.bench.services import BIN, ROOT, process
from parley.bots.evalsets import UNSEEN_DIR, EvalSet, load_set, run_messages
from parley.bots.knowledge import chunk_documents, load_directory
from parley.sdk import Client, MessageEvent

__all__ = ["ServedSet", "ask_all", "classify", "cli", "main", "served_set"]

_NOTICES = (
    "I'm connecting you with a human agent now.",
    "正在为您转接人工客服",
)


def classify(reply: str, chunks: list[tuple[str, str]]) -> tuple[str, str]:
    """``(action, entry id)`` of the bot's first reply: ``handoff`` on the hand-over notice,
    ``answer`` when the reply quotes a chunk of an entry (``(entry id, chunk text)`` pairs; the
    longest chunk text it contains — a long guide section is several chunks), else ``rephrase``."""
    if any(n in reply for n in _NOTICES):
        return "handoff", ""
    quoted = [(len(text), doc) for doc, text in chunks if text and text[:60] in reply]
    return ("answer", max(quoted)[1]) if quoted else ("rephrase", "")


def _token(app: dict[str, str], user: str, role: str = "user") -> str:
    claims = {
        "iss": app["PARLEY_APP"],
        "sub": user,
        "aud": "parley",
        "exp": int(time.time()) + 3600,
        "role": role,
    }
    return jwt.encode(claims, app["PARLEY_APP_SECRET"], algorithm="HS256")


async def _ask(url: str, app: dict[str, str], user: str, text: str, timeout: float) -> tuple[str, float]:
    """One new support conversation: send ``text``, return the bot's first reply and its latency."""
    async with Client(url, token=_token(app, user)) as customer:
        inbox = customer.events(MessageEvent)
        conv = (await customer.create_support()).conv
        sent = time.perf_counter()
        await customer.send(conv, text)
        async with asyncio.timeout(timeout):
            async for event in inbox:
                m = event.message
                if m.sender != user and m.kind == "text" and m.conv == conv:
                    return m.text or "", time.perf_counter() - sent
    return "", timeout


Ask = Callable[[int, str], Awaitable[tuple[str, float]]]


async def ask_all(texts: Sequence[str], ask: Ask, concurrency: int = 1) -> list[tuple[str, float]]:
    """``ask(i, text)`` for every text, at most ``concurrency`` at once; results in the texts' order."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(i: int, text: str) -> tuple[str, float]:
        async with gate:
            return await ask(i, text)

    return list(await asyncio.gather(*(one(i, t) for i, t in enumerate(texts))))


def _latency(took: Sequence[float]) -> dict[str, int | None]:
    ms = sorted(t * 1000 for t in took)
    return {
        "reply_p50_ms": round(statistics.median(ms)) if ms else None,
        "reply_p95_ms": round(ms[int(0.95 * (len(ms) - 1))]) if ms else None,
    }


def _run(argv: list[str], log: Path, env: dict[str, str]) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    log.write_text(done.stdout + done.stderr)
    if done.returncode:
        raise RuntimeError(f"{' '.join(argv[:4])} failed ({done.returncode}): see {log}")
    return done.stdout


def _start(argv: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start a process logging to ``log`` (setup, before anything is measured)."""
    with open(log, "wb") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)


@contextmanager
def _bot(argv: list[str], log: Path, env: dict[str, str]) -> Iterator[float]:
    """A bot process, ready; yields its start → "ready" seconds; stopped on exit, also on failure."""
    started = time.perf_counter()
    bot = _start(argv, log, env)
    try:
        _wait_ready(bot, log, 180)
        yield time.perf_counter() - started
    finally:
        bot.terminate()
        try:
            bot.wait(20)
        except subprocess.TimeoutExpired:
            bot.kill()
            bot.wait()


def _wait_ready(bot: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if "ready: serving as" in log.read_text(errors="replace"):
            return
        if bot.poll() is not None:
            raise RuntimeError(f"the bot exited ({bot.returncode}): see {log}")
        time.sleep(0.05)
    raise RuntimeError(f"the bot was not ready in {timeout} s: see {log}")


@dataclass(frozen=True)
class ServedSet:
    """A running ``parley serve`` with one app whose knowledge base is ``s.kb``."""

    url: str
    app: dict[str, str]
    #: ``--admin URL --api-key KEY`` for ``python -m parley.bots``.
    key: list[str]
    ingest_s: float


def served_set(s: EvalSet, work: Path, stack: ExitStack, env: dict[str, str]) -> ServedSet:
    """``parley app create``, ``parley serve`` (embedded SQLite in ``work``, stopped by ``stack``)
    and ``python -m parley.bots ingest`` of the set's ``kb/``, as a new user does them."""
    db = ["--sqlite-path", str(work / "parley.db")]
    made = _run([str(BIN / "parley"), "app", "create", "--name", s.name, "--format", "json", *db],
                work / "create.log", env)  # fmt: skip
    app = json.loads(made.strip().splitlines()[-1])
    serve = [
        str(BIN / "parley"),
        "serve",
        *db,
        "--log-level",
        "warning",
        "--rate-frames",
        "0",
        "--rate-sends",
        "0",
    ]
    _, port = stack.enter_context(
        process(lambda p: [*serve, "--port", str(p)], "parley serve", work / "serve.log", env=env)
    )
    admin, url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws"
    key = ["--admin", admin, "--api-key", app["PARLEY_API_KEY"]]
    began = time.perf_counter()
    _run([sys.executable, "-m", "parley.bots", "ingest", *key, str(s.kb)], work / "ingest.log", env)
    return ServedSet(url, app, key, time.perf_counter() - began)


async def main(s: EvalSet, limit: int, timeout: float, concurrency: int = 1) -> dict[str, Any]:
    """Run the set black box and offline; the summary (also printed as JSON lines per message)."""
    rows = s.messages[:limit] if limit else s.messages
    entries = [(c.doc_id, c.text.strip()) for c in chunk_documents(load_directory(s.kb))]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        served = served_set(s, work, stack, env)
        url, app, key, ingest_s = served.url, served.app, served.key, served.ingest_s
        bot_argv = [sys.executable, "-m", "parley.bots", "--url", url, *key, "--tags", str(s.tags_file)]
        texts = [str(row["text"]) for row in rows]
        live: list[tuple[str, str, float]] = []
        with _bot(bot_argv, work / "bot.log", env) as ready_s:
            began_seq = time.perf_counter()
            for i, row in enumerate(rows):
                reply, took = await _ask(url, app, f"customer-{i}", texts[i], timeout)
                action, doc = classify(reply, entries)
                live.append((action, doc, took))
                line = {
                    "id": row["id"],
                    "action": action,
                    "doc": doc,
                    "ms": round(took * 1000),
                    "reply": reply[:80],
                }
                print(json.dumps(line, ensure_ascii=False), file=sys.stderr, flush=True)
            seq_s = time.perf_counter() - began_seq
        loaded: list[tuple[str, float]] = []
        if concurrency > 1:
            # A fresh bot process: the first one has every message's vectors cached by now.
            with _bot(bot_argv, work / "bot-crowd.log", env):
                began_load = time.perf_counter()
                loaded = await ask_all(
                    texts, lambda i, t: _ask(url, app, f"crowd-{i}", t, timeout), concurrency
                )
                load_s = time.perf_counter() - began_load
    offline = (await asyncio.to_thread(run_messages, s, _embedders()))[: len(rows)]
    same = [(a, d) == (o.action, o.doc) for (a, d, _), o in zip(live, offline, strict=True)]
    answerable = [(a, d, r) for (a, d, _), r in zip(live, rows, strict=True) if r["expect"] == "answer"]
    sequential = _latency([t for _, _, t in live])
    summary: dict[str, Any] = {
        "set": s.name,
        "messages": len(rows),
        "ingest_s": round(ingest_s, 1),
        "bot_start_to_ready_s": round(ready_s, 1),
        "first_reply_ms": round(live[0][2] * 1000) if live else None,
        **sequential,
        "messages_per_s": round(len(live) / seq_s, 1) if seq_s else None,
        "actions": dict(Counter(a for a, _, _ in live)),
        "live_top1_all": f"{sum(a == 'answer' and d in r['answers'] for a, d, r in answerable)}/{len(answerable)}",
        "offline_top1_all": f"{sum(o.right for o in offline if o.row['expect'] == 'answer')}/{len(answerable)}",
        "live_equals_offline": f"{sum(same)}/{len(same)}",
        "differences": [r["id"] for r, ok in zip(rows, same, strict=True) if not ok],
    }
    if loaded:
        crowd = _latency([t for _, t in loaded])
        decided = [
            classify(reply, entries) == (a, d) for (reply, _), (a, d, _) in zip(loaded, live, strict=True)
        ]
        p50, base = crowd["reply_p50_ms"], sequential["reply_p50_ms"]
        summary["concurrent"] = {
            "customers_at_once": concurrency,
            **crowd,
            "messages_per_s": round(len(loaded) / load_s, 1) if load_s else None,
            "p50_vs_one_at_a_time": round(p50 / base, 2) if p50 is not None and base else None,
            "throughput_vs_one_at_a_time": round(len(loaded) / load_s / (len(live) / seq_s), 2)
            if load_s and seq_s
            else None,
            "same_decision_as_one_at_a_time": f"{sum(decided)}/{len(decided)}",
        }
    return summary


def _embedders() -> list[Any]:
    from parley.bots.knowledge import MiniLMEmbedder, MultilingualUSEEmbedder

    return [MiniLMEmbedder(), MultilingualUSEEmbedder()]


def cli() -> None:
    """``python -m loadtests.bench_bot``."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="card", help="a folder name under tests/data/unseen")
    ap.add_argument("--limit", type=int, default=0, help="only the first N messages (0: all)")
    ap.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for each reply")
    ap.add_argument("--holdout-ok", action="store_true", help="allow a holdout set (scored once, at the end)")
    ap.add_argument(
        "--concurrency", type=int, default=1, help="then ask again, N customers at once (1: one pass only)"
    )
    args = ap.parse_args()
    s = load_set(UNSEEN_DIR / args.set)
    if s.holdout and not args.holdout_ok:
        ap.error(f"{s.name} is a holdout: it is scored once, at the end (--holdout-ok)")
    print(
        json.dumps(
            asyncio.run(main(s, args.limit, args.timeout, args.concurrency)), ensure_ascii=False, indent=1
        )
    )


if __name__ == "__main__":
    cli()
