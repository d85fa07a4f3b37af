"""Event ingest rate on one node: the admin batch endpoint and the SDK's ``track``.

``python -m loadtests.bench.events [--stores sqlite,mongo] [--rounds 3] [--duration 5]
[--batch 500] [--posters 2] [--users 2000] [--clients 20] [--window 8] [--out FILE]``

For each store a fresh ``parley serve`` (SQLite, or SecantusDB — a MongoDB wire-protocol server,
**not** MongoDB's speed — with the in-process broker) is pinned to ``--server-core``; this process
(the load) to ``--core``. The app declares two events and one behaviour rule (so every stored
event also updates its profile: ``count:<event>``, the rule's window read, the lifecycle stage),
as a real app would. Per store and round:

``batch``
    ``--posters`` concurrent HTTP clients each post batches of ``--batch`` events
    (``POST /v1/audience/events``) of ``--users`` different users, back to back, for
    ``--duration`` s after ``--warmup`` s: events stored per second, request p50/p99.
``sdk``
    ``--clients`` SDK clients (``parley.sdk.Client``, one user each), each keeping ``--window``
    ``track`` calls in flight: events stored per second, track→reply p50/p99. The server
    group-commits concurrent tracks (one store write for all that queue while one is in flight).

Prints a table of medians over rounds; ``--out FILE`` keeps every round as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import statistics
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import jwt

from loadtests.bench.services import make_workdir, start_stack
from parley.sdk import Client

SCHEMA: dict[str, Any] = {
    "events": {
        "product_viewed": {"properties": {"category": "string", "price": "number"}},
        "purchase": {"properties": {"amount": "number"}},
    },
    "rules": [
        {"id": "interest", "event": "product_viewed", "group_by": "category", "min_count": 3,
         "window_days": 7, "tag": "interest:{category}"},
    ],
}  # fmt: skip
CATEGORIES = ("shoes", "hats", "bags", "coats", "socks")


def pct(values: list[float], p: float) -> float:
    """The ``p``-th percentile of ``values`` (seconds) in ms, nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return round(ordered[k] * 1000, 2)


def event(n: int, user: str, run: str) -> dict[str, Any]:
    """The ``n``-th event of a run: mostly views, one purchase in ten."""
    if n % 10 == 9:
        return {"eid": f"{run}-{n}", "user": user, "event": "purchase", "props": {"amount": 10 + n % 90}}
    props = {"category": CATEGORIES[n % len(CATEGORIES)], "price": 5 + n % 200}
    return {"eid": f"{run}-{n}", "user": user, "event": "product_viewed", "props": props}


async def batch_round(http: str, key: str, args: argparse.Namespace, run: str) -> dict[str, Any]:
    """Posters send batches back to back; events stored per second after the warm-up."""
    counter = itertools.count()
    stored = errors = 0
    latencies: list[float] = []
    measuring = False
    stop = time.monotonic() + args.warmup + args.duration

    async def poster(client: httpx.AsyncClient) -> None:
        nonlocal stored, errors
        while time.monotonic() < stop:
            first = next(counter) * args.batch
            batch = [event(first + i, f"u{(first + i) % args.users}", run) for i in range(args.batch)]
            began = time.monotonic()
            reply = await client.post("/v1/audience/events", json={"events": batch})
            if reply.status_code != 200:
                errors += 1
                continue
            if measuring:
                stored += reply.json()["stored"]
                latencies.append(time.monotonic() - began)

    headers = {"authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(base_url=http, headers=headers, timeout=60) as client:
        tasks = [asyncio.create_task(poster(client)) for _ in range(args.posters)]
        await asyncio.sleep(args.warmup)
        measuring, began = True, time.monotonic()
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - began
    return {
        "events_per_s": round(stored / elapsed),
        "request_p50_ms": pct(latencies, 50),
        "request_p99_ms": pct(latencies, 99),
        "errors": errors,
    }


async def sdk_round(url: str, app: str, secret: str, args: argparse.Namespace, run: str) -> dict[str, Any]:
    """SDK clients keep ``window`` tracks in flight each; events stored per second after the warm-up."""
    stored = errors = 0
    latencies: list[float] = []
    measuring = False
    stop = time.monotonic() + args.warmup + args.duration
    now = int(time.time())

    def token(user: str) -> str:
        claims = {"iss": app, "sub": user, "aud": "parley", "iat": now, "exp": now + 3600}
        return jwt.encode(claims, secret, algorithm="HS256")

    async def lane(client: Client, user: str, lane_no: int) -> None:
        nonlocal stored, errors
        for n in itertools.count(lane_no, args.window):
            if time.monotonic() >= stop:
                return
            spec = event(n, user, f"{run}-{user}")
            began = time.monotonic()
            try:
                done = await client.track(spec["event"], spec["props"], eid=spec["eid"])
            except Exception:
                errors += 1
                continue
            if measuring and not done.duplicate:
                stored += 1
                latencies.append(time.monotonic() - began)

    async with AsyncExitStack() as stack:
        clients = []
        for i in range(args.clients):
            user = f"s{i}"
            client = Client(url, token=token(user), request_timeout=60)
            clients.append((await stack.enter_async_context(client), user))
        tasks = [asyncio.create_task(lane(c, u, w)) for c, u in clients for w in range(args.window)]
        await asyncio.sleep(args.warmup)
        measuring, began = True, time.monotonic()
        await asyncio.gather(*tasks)
        elapsed = time.monotonic() - began
    return {
        "events_per_s": round(stored / elapsed),
        "track_p50_ms": pct(latencies, 50),
        "track_p99_ms": pct(latencies, 99),
        "errors": errors,
    }


async def one_store(store: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every round of both scenarios on a fresh node over ``store``."""
    rounds = []
    for r in range(args.rounds):
        results: dict[str, dict[str, Any]] = {}
        for scenario in ("batch", "sdk"):  # each on a fresh node: no backlog of the other
            with start_stack(f"{store}+memory", args.server_core, make_workdir()) as stack:
                http = f"http://127.0.0.1:{stack.port}"
                headers = {"authorization": f"Bearer {stack.api_key}"}
                async with httpx.AsyncClient(base_url=http, headers=headers) as admin:
                    reply = await admin.put("/v1/audience/schema", json=SCHEMA)
                    reply.raise_for_status()
                if scenario == "batch":
                    results[scenario] = await batch_round(http, stack.api_key, args, f"b{r}")
                else:
                    url = f"ws://127.0.0.1:{stack.port}/ws"
                    results[scenario] = await sdk_round(url, stack.app, stack.secret, args, f"k{r}")
        batch, sdk = results["batch"], results["sdk"]
        rounds.append({"batch": batch, "sdk": sdk})
        print(f"{store} round {r + 1}: batch {batch} | sdk {sdk}", flush=True)
    return rounds


def medians(rounds: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per scenario and measure, the median over rounds."""
    out: dict[str, dict[str, float]] = {}
    for scenario in ("batch", "sdk"):
        keys = rounds[0][scenario].keys()
        out[scenario] = {k: statistics.median(r[scenario][k] for r in rounds) for k in keys}
    return out


def main() -> None:
    """Parse the options, run, print the medians."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--stores", default="sqlite,mongo")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=500)
    p.add_argument("--posters", type=int, default=2)
    p.add_argument("--users", type=int, default=2000)
    p.add_argument("--clients", type=int, default=20)
    p.add_argument("--window", type=int, default=8)
    p.add_argument("--core", default="1", help="core of this process (the load); '' for no pinning")
    p.add_argument("--server-core", default="0", help="core of the servers; '' for no pinning")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    if args.core:
        os.sched_setaffinity(0, {int(args.core)})
    args.server_core = args.server_core or None
    results = {}
    for store in args.stores.split(","):
        results[store] = asyncio.run(one_store(store, args))
    summary = {store: medians(rounds) for store, rounds in results.items()}
    print("\nmedians over rounds")
    print(
        f"{'store':8} {'batch ev/s':>11} {'req p50':>9} {'req p99':>9} {'sdk ev/s':>9} {'trk p50':>8} {'trk p99':>8}"
    )
    for store, m in summary.items():
        b, s = m["batch"], m["sdk"]
        print(
            f"{store:8} {b['events_per_s']:>11.0f} {b['request_p50_ms']:>9} {b['request_p99_ms']:>9} "
            f"{s['events_per_s']:>9.0f} {s['track_p50_ms']:>8} {s['track_p99_ms']:>8}"
        )
    if args.out:
        args.out.write_text(
            json.dumps({"rounds": results, "medians": summary, "args": vars(args)}, default=str)
        )


if __name__ == "__main__":
    main()
