"""Store throughput: group commit (``AppendBatcher``) versus one write per message.

``python -m loadtests.bench.store_throughput [--convs 200] [--window 4] [--mongo-convs 50]
[--mongo-window 2] [--duration 5] [--rounds 3]``

No gateway: the real store adapters (``parley.server.store``) driven directly,
for SQLite and for SecantusDB (a MongoDB wire-protocol server, started here
pinned to ``--db-core`` with in-memory storage; **not** MongoDB's speed). This
process is pinned to ``--core``. For each store and round, on a fresh store:

``batched``
    ``--convs`` direct conversations, one sender each, every sender keeps
    ``--window`` appends in flight through ONE ``AppendBatcher`` (the
    server's group commit, ``max_batch`` as in the server's settings): each
    ``append`` is awaited like the gateway awaits it before the ``ack``.
    Messages/s over ``--duration`` s after ``--warmup`` s; send→ack latency
    (enqueue → the append's result) p50/p99; mean batch size.
``single``
    the same senders and window, but every message is its own
    ``store.append([message])`` call (one write per message).
``batched @ rate``
    the batcher at a fixed moderate rate (``--rate-sqlite`` / ``--rate-mongo``
    msgs/s spread over the conversations): send→ack p50/p99 — the latency
    group commit costs (or saves) when the store is not saturated.

Prints a table of medians over rounds; ``--out FILE`` keeps every round as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import uvloop

from loadtests.bench.services import secantus
from parley.server.ids import new_id, now_ms
from parley.server.models import Conversation, Member, NewMessage
from parley.server.ports import Store
from parley.server.services.batching import AppendBatcher
from parley.server.settings import Settings
from parley.server.store import open_store

BODY = {"text": "x" * 60}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(p / 100 * len(values) + 0.5) - 1))
    return round(values[k] * 1000, 2)


async def make_convs(store: Store, n: int) -> list[str]:
    now = now_ms()
    ids = []
    for i in range(n):
        conv = Conversation(
            app="a", conv=new_id("c"), kind="direct", epoch="e", created=now, direct_key=f"s{i}\nr{i}"
        )
        await store.create_conversation(
            conv,
            [Member("a", conv.conv, f"s{i}", "member", now), Member("a", conv.conv, f"r{i}", "member", now)],
        )
        ids.append(conv.conv)
    return ids


def message(conv: str, i: int) -> NewMessage:
    return NewMessage(
        app="a",
        conv=conv,
        mid=new_id("m"),
        sender=f"s{i}",
        cmid=new_id("c"),
        kind="text",
        body=BODY,
        ts=now_ms(),
    )


async def saturate(
    ids: list[str],
    window: int,
    append: Callable[[NewMessage], Awaitable[Any]],
    warmup: float,
    duration: float,
) -> dict[str, Any]:
    st = {"measuring": False, "running": True, "count": 0, "errors": 0}
    latencies: list[float] = []

    async def sender(i: int, conv: str) -> None:
        while st["running"]:
            t0 = time.perf_counter()
            try:
                await append(message(conv, i))
            except Exception:
                st["errors"] += 1
                continue
            if st["measuring"]:
                st["count"] += 1
                latencies.append(time.perf_counter() - t0)

    tasks = [asyncio.create_task(sender(i, c)) for i, c in enumerate(ids) for _ in range(window)]
    await asyncio.sleep(warmup)
    st["measuring"] = True
    t0 = time.perf_counter()
    await asyncio.sleep(duration)
    st["measuring"] = False
    elapsed = time.perf_counter() - t0
    st["running"] = False
    await asyncio.gather(*tasks)
    return {
        "msgs_per_s": round(st["count"] / elapsed),
        "p50_ms": pct(latencies, 50),
        "p99_ms": pct(latencies, 99),
        "errors": st["errors"],
    }


async def at_rate(
    ids: list[str], rate: float, duration: float, append: Callable[[NewMessage], Awaitable[Any]]
) -> dict[str, Any]:
    latencies: list[float] = []
    loop = asyncio.get_running_loop()

    async def one(i: int) -> None:
        t0 = time.perf_counter()
        await append(message(ids[i % len(ids)], i % len(ids)))
        latencies.append(time.perf_counter() - t0)

    tasks = []
    begin = loop.time()
    for k in range(int(rate * duration)):
        delay = begin + k / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(k)))
    await asyncio.gather(*tasks)
    return {"rate": rate, "p50_ms": pct(latencies, 50), "p99_ms": pct(latencies, 99), "n": len(latencies)}


async def measure(
    url: str | None, sqlite_path: str, args: argparse.Namespace, rate: float, convs: int, window: int
) -> dict[str, Any]:
    out: dict[str, Any] = {"convs": convs, "window": window}
    for mode in ("batched", "single"):
        # a fresh database per mode: the same starting size for both; a generous operation
        # deadline (the server's is 3 s): this measures throughput, not the deadline
        store = open_store(
            url,
            sqlite_path=f"{sqlite_path}.{mode}",
            mongo_database=f"tp_{mode}_{new_id('d')}",
            timeout=60.0,
        )
        await store.open()
        try:
            ids = await make_convs(store, convs)
            if mode == "batched":
                batcher = AppendBatcher(store, lambda _r: None, max_batch=Settings().append_batch_max)
                out[mode] = await saturate(ids, window, batcher.append, args.warmup, args.duration)
                out[mode]["batches"] = batcher.batches
                before = batcher.batches
                out["batched@rate"] = await at_rate(ids, rate, args.rate_duration, batcher.append)
                out["batched@rate"]["mean_batch"] = round(
                    out["batched@rate"]["n"] / max(1, batcher.batches - before), 2
                )
            else:

                async def one(m: NewMessage, store: Store = store) -> Any:
                    return await store.append([m])

                out[mode] = await saturate(ids, window, one, args.warmup, args.duration)
        finally:
            await store.close()
    out["speedup"] = round(out["batched"]["msgs_per_s"] / max(1, out["single"]["msgs_per_s"]), 2)
    out["errors"] = out["batched"]["errors"] + out["single"]["errors"]
    return out


def median_of(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    def med(path: tuple[str, ...]) -> Any:
        vals = []
        for r in rounds:
            v: Any = r
            for p in path:
                v = v.get(p) if isinstance(v, dict) else None
            if isinstance(v, (int, float)):
                vals.append(v)
        return round(statistics.median(vals), 2) if vals else None

    keys = {
        "batched msgs/s": ("batched", "msgs_per_s"),
        "batched send→ack p50 ms (saturated)": ("batched", "p50_ms"),
        "batched send→ack p99 ms (saturated)": ("batched", "p99_ms"),
        "single-write msgs/s": ("single", "msgs_per_s"),
        "single-write send→ack p50 ms (saturated)": ("single", "p50_ms"),
        "single-write send→ack p99 ms (saturated)": ("single", "p99_ms"),
        "errors (batched + single)": ("errors",),
        "speed-up (batched / single)": ("speedup",),
        "fixed rate, msgs/s": ("batched@rate", "rate"),
        "batched send→ack p50 ms @ fixed rate": ("batched@rate", "p50_ms"),
        "batched send→ack p99 ms @ fixed rate": ("batched@rate", "p99_ms"),
        "mean batch @ fixed rate": ("batched@rate", "mean_batch"),
    }
    return {label: med(path) for label, path in keys.items()}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench.store_throughput")
    parser.add_argument("--convs", type=int, default=200, help="conversations (one sender each), SQLite")
    parser.add_argument("--window", type=int, default=4, help="appends in flight per sender, SQLite")
    parser.add_argument(
        "--mongo-convs", type=int, default=50, help="conversations for SecantusDB (~390 single writes/s)"
    )
    parser.add_argument("--mongo-window", type=int, default=2)
    parser.add_argument("--warmup", type=float, default=1.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--rate-sqlite", type=float, default=1000.0)
    parser.add_argument("--rate-mongo", type=float, default=100.0)
    parser.add_argument("--rate-duration", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--store", default="sqlite,mongo")
    parser.add_argument("--core", default="1", help="this process (the SQLite thread too)")
    parser.add_argument("--db-core", default="0", help="SecantusDB")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    import os

    os.sched_setaffinity(0, {int(c) for c in args.core.split(",")})
    work = Path(tempfile.mkdtemp(prefix="parley-tp-"))
    rounds: dict[str, list[dict[str, Any]]] = {}
    started = time.monotonic()
    for r in range(args.rounds):
        if "sqlite" in args.store:
            res = uvloop.run(
                measure(None, str(work / f"tp{r}.db"), args, args.rate_sqlite, args.convs, args.window)
            )
            rounds.setdefault("sqlite", []).append(res)
            print(f"round {r + 1} sqlite: {json.dumps(res)}", flush=True)
        if "mongo" in args.store:
            with secantus(args.db_core, work) as (port, _):
                res = uvloop.run(
                    measure(
                        f"mongodb://127.0.0.1:{port}/",
                        "",
                        args,
                        args.rate_mongo,
                        args.mongo_convs,
                        args.mongo_window,
                    )
                )
            rounds.setdefault("secantusdb", []).append(res)
            print(f"round {r + 1} secantusdb: {json.dumps(res)}", flush=True)
    medians = {name: median_of(rs) for name, rs in rounds.items()}
    print(
        f"\nmedians of {args.rounds} rounds ({time.monotonic() - started:.0f}s); SQLite: {args.convs} "
        f"conversations × {args.window} in flight, SecantusDB: {args.mongo_convs} × {args.mongo_window}; "
        f"this process on core {args.core}, SecantusDB on core {args.db_core}\n"
    )
    names = list(medians)
    print("| metric | " + " | ".join(names) + " |")
    print("|---|" + "---:|" * len(names))
    for label in medians[names[0]]:
        print(f"| {label} | " + " | ".join(str(medians[n][label]) for n in names) + " |")
    if args.out:
        Path(args.out).write_text(
            json.dumps({"args": vars(args), "rounds": rounds, "medians": medians}, indent=1)
        )


if __name__ == "__main__":
    main()
