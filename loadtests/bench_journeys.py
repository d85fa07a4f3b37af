"""Pending journey timers at scale (issue 13 item 10): how late they fire, what waiting costs.

Seeds N runs of a one-step journey (``exit``) whose timers are due spread evenly over a window
starting ``--lead`` seconds from now (bulk-inserted: setup, not measured), then runs one node's
poller (:class:`~parley.server.services.journeys.JourneyService`, ``--interval`` seconds, batches
of 100) until every run is done. For each run, how late it fired = when its claim returned
minus its due time; printed as p50/p99/max. While nothing is due yet (the lead), it times empty
polls with all N pending (the store load of waiting: one indexed read per poll) and the
process's CPU time over the lead.

    .venv/bin/python -m loadtests.bench_journeys --store sqlite --runs 100000 --window 60
    .venv/bin/python -m loadtests.bench_journeys --store mongo --runs 100000 --fire 3000 --window 120

``--fire N``: only the first N timers fall due in the window; the other runs stay pending (due a
day later), so the claims run against a collection of ``--runs`` pending timers on a store too
slow to fire them all in a sitting (the MongoDB wire server of the tests).

On ``--store mongo`` the MongoDB wire server of the tests (SecantusDB) is started unless
``MONGO_URL`` is set. Results: docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, cast

from loadtests.bench.services import secantus
from parley.proto.journeys import parse_journey, to_json
from parley.server.ids import now_ms
from parley.server.journey_port import Run
from parley.server.ports import Store
from parley.server.services.journey_steps import StepRunner
from parley.server.services.journeys import JourneyService
from parley.server.store.mongo import MongoStore
from parley.server.store.sqlite import SQLiteStore

APP = "bench"
JOURNEY = {"name": "bench", "trigger": {"event": "bench"}, "steps": [{"id": "done", "type": "exit"}]}


def _runs(n: int, first_due: int, window_ms: int, fire: int) -> list[Run]:
    """``n`` runs: the first ``fire`` due evenly over the window, the others a day after it."""
    step = window_ms / max(fire - 1, 1)
    later = first_due + window_ms + 86_400_000
    return [
        Run(APP, f"r{i:07}", "bench", 1, f"p{i:07}", "", "done", "active",
            first_due + int(i * step) if i < fire else later + i, "", 0, "", "", "", "", 0, 0, 1, 1)
        for i in range(n)
    ]  # fmt: skip


async def _seed(store: Store, runs: list[Run], mongo: bool) -> None:
    await store.create_journey(APP, "bench", to_json(parse_journey(JOURNEY, [])), "bench", now_ms())
    if mongo:
        db = cast(MongoStore, store).conn.db
        for i in range(0, len(runs), 5000):
            await db["jr_runs"].insert_many(
                [{"_id": f"{r.app}/{r.rid}", **asdict(r)} for r in runs[i : i + 5000]]
            )
        return
    sql = f"INSERT INTO jr_runs VALUES ({', '.join('?' * 19)})"
    rows = [tuple(asdict(r).values()) for r in runs]

    def go(db: Any) -> None:
        db.execute("BEGIN")
        db.executemany(sql, rows)
        db.execute("COMMIT")

    await cast(SQLiteStore, store).worker.run(go)


async def measure(store: Store, args: argparse.Namespace, mongo: bool) -> dict[str, Any]:
    """Seed, time empty polls over the lead, then fire everything and collect the lateness."""
    first_due = now_ms() + int(args.lead * 1000)
    t0 = time.perf_counter()
    fire = args.fire or args.runs
    await _seed(store, _runs(args.runs, first_due, int(args.window * 1000), fire), mongo)
    seeded = time.perf_counter() - t0
    late: list[int] = []
    claim = store.claim_due_runs

    async def timed_claim(now: int, owner: str, lease_ms: int, limit: int) -> list[Run]:
        got = await claim(now, owner, lease_ms, limit)
        back = now_ms()
        late.extend(back - r.due for r in got)
        return got

    store.claim_due_runs = timed_claim  # type: ignore[method-assign]
    steps = StepRunner(cast(Any, None), store, cast(Any, None), cast(Any, None))  # exit needs none

    async def no_variables(app: str) -> list[str]:
        return []

    service = JourneyService(store, steps, variables=no_variables)
    empty: list[float] = []
    cpu0 = time.process_time()
    while now_ms() < first_due - int(args.interval * 1000):
        t = time.perf_counter()
        assert await service.poll() == 0
        empty.append((time.perf_counter() - t) * 1000)
        await asyncio.sleep(args.interval)
    idle_cpu = time.process_time() - cpu0
    idle_s = max(args.lead - args.interval, 0.001)
    t1 = time.perf_counter()
    while len(late) < fire:
        if await service.poll() < 100:
            await asyncio.sleep(args.interval)
    fired = time.perf_counter() - t1
    late.sort()
    return {
        "store": "mongo" if mongo else "sqlite", "pending": args.runs, "window_s": args.window,
        "seed_s": round(seeded, 1), "empty_polls": len(empty),
        "empty_poll_ms_p50": round(statistics.median(empty), 2) if empty else None,
        "empty_poll_ms_max": round(max(empty), 2) if empty else None,
        "idle_cpu_share": round(idle_cpu / idle_s, 3),
        "late_ms_p50": late[len(late) // 2], "late_ms_p99": late[int(len(late) * 0.99)], "late_ms_max": late[-1],
        "fired": fire, "fire_s": round(fired, 1), "fired_per_s": round(fire / fired),
    }  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    """Run on the chosen store and print one JSON line."""
    if args.store == "sqlite":
        store = SQLiteStore(os.path.join(tempfile.mkdtemp(), "journeys.db"))
        await store.open()
        try:
            print(json.dumps(await measure(store, args, mongo=False)), flush=True)
        finally:
            await store.close()
        return
    if os.environ.get("MONGO_URL"):
        await _mongo(os.environ["MONGO_URL"], args)
        return
    with secantus(None, Path(tempfile.mkdtemp(prefix="bench-jr-"))) as (port, _):
        await _mongo(f"mongodb://127.0.0.1:{port}/", args)


async def _mongo(url: str, args: argparse.Namespace) -> None:
    store = MongoStore(url, "bench_journeys", operation_timeout_ms=600_000, socket_timeout_ms=600_000)
    await store.open()
    try:
        print(json.dumps(await measure(store, args, mongo=True)), flush=True)
    finally:
        await store.conn.db.client.drop_database("bench_journeys")
        await store.close()


def cli() -> None:
    """``python -m loadtests.bench_journeys``."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", choices=["sqlite", "mongo"], default="sqlite")
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--window", type=float, default=60.0, help="seconds over which the timers fall due")
    ap.add_argument("--lead", type=float, default=20.0, help="seconds before the first is due")
    ap.add_argument(
        "--fire",
        type=int,
        default=0,
        help="only the first N fall due in the window (the rest stay pending); 0: all",
    )
    ap.add_argument("--interval", type=float, default=1.0, help="the poller's interval, seconds")
    asyncio.run(main(ap.parse_args()))


if __name__ == "__main__":
    cli()
