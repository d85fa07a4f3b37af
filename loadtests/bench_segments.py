"""Segment preview at scale (issue 12 item 9): count + sample over N generated profiles.

Generates N profiles of one app with realistic attributes (city, age, vip, signup, interests),
tags (interests with confidences, VIP, the bot's sentiment), consent, identifiers, computed
values (RFM, lifecycle, event counters) and events for a tenth of them, written straight into
the agreed layout in bulk (setup, not what is measured), then times ``count_segment`` +
``sample_segment(20)`` (the preview) for a few rule shapes, and walks the members of the largest
one page by page while sampling the process's RSS (memory must stay flat: pages, not lists).

    .venv/bin/python -m loadtests.bench_segments --store sqlite --profiles 1000000
    .venv/bin/python -m loadtests.bench_segments --store mongo --profiles 20000   # SecantusDB (slow)

On ``--store mongo`` the MongoDB wire server of the tests (SecantusDB) is started unless
``MONGO_URL`` is set, and the plan's index of each shape is printed. Results: docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from loadtests.bench.services import secantus
from parley.proto.segments_text import parse
from parley.server.segments_port import EvalContext
from parley.server.store.mongo import MongoStore
from parley.server.store.sqlite import SQLiteStore

APP = "bench"
NOW = 1_780_000_000_000
DAY = 86_400_000
ATTRS = {"city": "string", "age": "number", "vip": "bool", "signup": "datetime", "interests": "string_list"}
CITIES = [
    "Shanghai",
    "Beijing",
    "Shenzhen",
    "Guangzhou",
    "Hangzhou",
    "Chengdu",
    "Wuhan",
    "Xi'an",
    "Nanjing",
    "Suzhou",
]
STAGES = ["new", "active", "at_risk", "churned", "won_back"]
SHAPES = [
    ("attribute equality", 'attr.city = "Shanghai"'),
    ("tag with confidence", 'tag("interest:shoes", min=0.7)'),
    ("lifecycle and RFM", 'lifecycle = "at_risk" and rfm.m >= 4'),
    (
        "three indexed clauses",
        'attr.city = "Shanghai" and tag("interest:shoes", min=0.7) and counter("view") >= 3',
    ),
    ("consent and identifier", 'consent("marketing") and has_id("phone")'),
    ("event count in a window", 'count(event "view", 7d) >= 2'),
    ("or + not (broad)", 'attr.vip = true or not (lifecycle = "churned" or attr.age < 25)'),
]


def person(rnd: random.Random, i: int) -> dict[str, Any]:
    """One generated profile: everything stored about it, in plain data."""
    pid = f"p_{i:08d}"
    tags = {}
    for name in ("interest:shoes", "interest:bags", "interest:hats"):
        if rnd.random() < 0.25:
            tags[name] = round(rnd.uniform(0.4, 1.0), 2)
    if rnd.random() < 0.05:
        tags["vip"] = 1.0
    if rnd.random() < 0.03:
        tags["sentiment:negative"] = 0.8
    ids = [("user", f"u{i}")] + ([("phone", f"+8613{i:09d}")] if rnd.random() < 0.6 else [])
    events = []
    if i % 10 == 0:
        events = [
            (rnd.choice(["view", "view", "purchase"]), NOW - rnd.randint(0, 30 * DAY))
            for _ in range(rnd.randint(1, 6))
        ]
    return {
        "pid": pid,
        "attrs": {"city": rnd.choice(CITIES), "age": rnd.randint(16, 70), "vip": rnd.random() < 0.1,
                  "signup": NOW - rnd.randint(0, 900) * DAY,
                  "interests": sorted({rnd.choice(["shoes", "bags", "hats", "tea"]) for _ in range(rnd.randint(0, 2))})},
        "tags": tags, "ids": ids, "events": events,
        "consent": {"marketing": rnd.choice(["granted", "granted", "denied", "withdrawn"])},
        "computed": {"rfm_r": rnd.randint(1, 5), "rfm_f": rnd.randint(1, 5), "rfm_m": rnd.randint(1, 5),
                     "lifecycle": rnd.choice(STAGES), "count:view": rnd.randint(0, 8), "count:purchase": rnd.randint(0, 3)},
    }  # fmt: skip


def people(n: int, seed: int = 1) -> Iterator[dict[str, Any]]:
    """``n`` generated profiles, streamed (never all in memory)."""
    rnd = random.Random(seed)
    for i in range(n):
        yield person(rnd, i)


def load_sqlite(db: Any, n: int) -> None:
    """Bulk INSERT in chunks of 10 000 profiles, one transaction each (worker thread)."""
    chunk: list[dict[str, Any]] = []
    for p in people(n):
        chunk.append(p)
        if len(chunk) == 10_000:
            _sqlite_chunk(db, chunk)
            chunk = []
    if chunk:
        _sqlite_chunk(db, chunk)


def _sqlite_chunk(db: Any, chunk: list[dict[str, Any]]) -> None:
    db.execute("BEGIN")
    rows = [(APP, p["pid"], NOW - DAY, NOW) for p in chunk]
    db.executemany("INSERT INTO aud_profiles (app, pid, created, updated) VALUES (?, ?, ?, ?)", rows)
    attrs = []
    for p in chunk:
        a = p["attrs"]
        attrs += [
            (APP, p["pid"], "city", None, a["city"], 0),
            (APP, p["pid"], "age", float(a["age"]), None, 0),
            (APP, p["pid"], "vip", float(a["vip"]), None, 0),
            (APP, p["pid"], "signup", float(a["signup"]), None, 0),
        ]
        attrs += [(APP, p["pid"], "interests", None, x, 1) for x in a["interests"]]
    db.executemany("INSERT INTO aud_attrs (app, pid, key, num, txt, lst) VALUES (?, ?, ?, ?, ?, ?)", attrs)
    db.executemany(
        "INSERT INTO aud_tags VALUES (?, ?, ?, 'model', ?, '', ?, 0)",
        [(APP, p["pid"], n, c, NOW - DAY) for p in chunk for n, c in p["tags"].items()],
    )
    db.executemany(
        "INSERT INTO aud_consent VALUES (?, ?, ?, ?, ?)",
        [(APP, p["pid"], t, s, NOW - DAY) for p in chunk for t, s in p["consent"].items()],
    )
    db.executemany(
        "INSERT INTO aud_identifiers VALUES (?, ?, ?, ?, ?)",
        [(APP, k, v, p["pid"], NOW) for p in chunk for k, v in p["ids"]],
    )
    db.executemany(
        "INSERT INTO aud_computed VALUES (?, ?, ?, ?, ?)",
        [
            (APP, p["pid"], k, None, v) if isinstance(v, str) else (APP, p["pid"], k, float(v), None)
            for p in chunk
            for k, v in p["computed"].items()
        ],
    )
    db.executemany(
        "INSERT INTO aud_events (app, eid, pid, name, ts, props, received) VALUES (?, ?, ?, ?, ?, '{}', ?)",
        [
            (APP, f"{p['pid']}.{j}", p["pid"], name, ts, ts)
            for p in chunk
            for j, (name, ts) in enumerate(p["events"])
        ],
    )
    db.execute("COMMIT")  # fmt: skip


def mongo_doc(p: dict[str, Any]) -> dict[str, Any]:
    """The ``aud_profiles`` document of one generated profile (the agreed layout)."""
    counts = {k[6:]: v for k, v in p["computed"].items() if k.startswith("count:")}
    computed = {k: v for k, v in p["computed"].items() if not k.startswith("count:")} | {"counts": counts}
    return {
        "_id": f"{APP}/{p['pid']}", "app": APP, "pid": p["pid"], "created": NOW - DAY, "updated": NOW, "timezone": "",
        "language": "", "merged_into": "", "rev": 1, "attrs": p["attrs"], "computed": computed,
        "tags": [{"name": n, "source": "model", "confidence": c, "evidence": "", "ts": NOW - DAY, "expires": 0}
                 for n, c in p["tags"].items()],
        "consent": {t: {"state": s, "ts": NOW - DAY} for t, s in p["consent"].items()},
        "ids": [{"kind": k, "value": v} for k, v in p["ids"]],
    }  # fmt: skip


async def load_mongo(store: MongoStore, n: int) -> None:
    """insert_many in chunks of 2 000 profiles (and their events)."""
    db = store.conn.db
    chunk: list[dict[str, Any]] = []
    for p in people(n):
        chunk.append(p)
        if len(chunk) == 2000 or p["pid"] == f"p_{n - 1:08d}":
            await db["aud_profiles"].insert_many([mongo_doc(x) for x in chunk])
            events = [{"_id": f"{APP}/{x['pid']}.{j}", "app": APP, "pid": x["pid"], "name": name, "ts": ts,
                       "props": {}, "received": ts} for x in chunk for j, (name, ts) in enumerate(x["events"])]  # fmt: skip
            if events:
                await db["aud_events"].insert_many(events)
            chunk = []


def rss_mib() -> float:
    """This process's resident set size now (``/proc/self/status``), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(store: Any, rounds: int, mongo: bool) -> list[dict[str, Any]]:
    """Median preview time (count + sample of 20) of each shape over ``rounds`` runs."""
    ctx = EvalContext(NOW, ATTRS)
    out = []
    for label, text in SHAPES:
        rule = parse(text)
        times, count = [], 0
        for _ in range(rounds):
            t0 = time.perf_counter()
            count, _ = await store.preview_segment(APP, rule, ctx, 20)
            times.append(time.perf_counter() - t0)
        row = {"shape": label, "rule": text, "count": count, "median_s": statistics.median(times)}
        if mongo:
            plan = json.dumps(await store.segment_plan(APP, rule, ctx), default=str)
            row["index"] = sorted(set(_indexes(plan))) or ["COLLSCAN"]
        out.append(row)
        print(json.dumps(row), flush=True)
    return out


def _indexes(plan: str) -> Iterator[str]:
    data = json.loads(plan)
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            if x.get("stage") == "IXSCAN":
                yield str(x.get("indexName"))
            stack += list(x.values())
        elif isinstance(x, list):
            stack += x


async def walk(store: Any) -> dict[str, Any]:
    """Page through the broadest shape's members; RSS before, every 100 pages, after."""
    rule, ctx = parse(SHAPES[-1][1]), EvalContext(NOW, ATTRS)
    before, peak, after, total, t0 = rss_mib(), 0.0, "", 0, time.perf_counter()
    while page := await store.segment_page(APP, rule, ctx, after, 1000):
        total += len(page)
        after = page[-1]
        if total % 100_000 < 1000:
            peak = max(peak, rss_mib())
    row = {"walked": total, "seconds": time.perf_counter() - t0, "rss_before_mib": round(before, 1),
           "rss_peak_mib": round(max(peak, rss_mib()), 1)}  # fmt: skip
    print(json.dumps(row), flush=True)
    return row


async def main(args: argparse.Namespace) -> None:
    """Generate, load, measure; print JSON lines (and the load time)."""
    t0 = time.perf_counter()
    if args.store == "sqlite":
        path, fresh = args.db, args.fresh
        store: Any = SQLiteStore(path)
        await store.open()
        if fresh:
            await store.worker.run(lambda db: load_sqlite(db, args.profiles))
            await store.worker.run(lambda db: db.execute("ANALYZE"))
        print(
            json.dumps({"loaded": args.profiles, "seconds": round(time.perf_counter() - t0, 1), "db": path}),
            flush=True,
        )
        await measure(store, args.rounds, mongo=False)
        if getattr(args, "walk", True):  # a Namespace built by hand (the tests) walks
            await walk(store)
        await store.close()
        return
    if os.environ.get("MONGO_URL"):
        await run_mongo(os.environ["MONGO_URL"], args, t0)
        return
    workdir = Path(tempfile.mkdtemp(prefix="bench-seg-"))
    with secantus(None, workdir) as (port, _):  # the MongoDB wire server the tests use
        await run_mongo(f"mongodb://127.0.0.1:{port}/", args, t0)


async def run_mongo(url: str, args: argparse.Namespace, t0: float) -> None:
    """Load and measure on the MongoDB at ``url`` (database ``bench_segments``, dropped after)."""
    store = MongoStore(url, "bench_segments", operation_timeout_ms=600_000, socket_timeout_ms=600_000)
    await store.open()  # the profile adapter's indexes (tags, lifecycle, RFM, identifier kinds)
    try:
        await load_mongo(store, args.profiles)
        print(
            json.dumps({"loaded": args.profiles, "seconds": round(time.perf_counter() - t0, 1)}), flush=True
        )
        await measure(store, args.rounds, mongo=True)
        if getattr(args, "walk", True):  # a Namespace built by hand (the tests) walks
            await walk(store)
    finally:
        await store.conn.db.client.drop_database("bench_segments")
        await store.close()


def cli() -> None:
    """``python -m loadtests.bench_segments``."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", choices=["sqlite", "mongo"], default="sqlite")
    ap.add_argument("--profiles", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-walk", dest="walk", action="store_false", help="skip the paged walk (memory check)")
    ap.add_argument("--db", default="", help="SQLite file to reuse (generated on first use)")
    args = ap.parse_args()
    args.db = args.db or os.path.join(tempfile.mkdtemp(), "segments.db")
    args.fresh = not os.path.exists(args.db)
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
