"""A campaign to many profiles of which some are online (issue 13 item 10): one node, Redis broker.

Sets up (not measured): a fresh Redis, the store (a SQLite file, or the MongoDB wire server of the
tests), an app (``parley app create``), ``--profiles`` audience profiles, each a chat user
``u<i>`` with ``marketing`` consent granted, written through the store's own methods; then one
``parley serve`` node (campaign sender every 0.2 s). Every ``--online-every``-th user is
connected over a real WebSocket by ``--client-procs`` client processes
(:mod:`loadtests.bench.campaign_clients`), spread over the audience so the last online
recipient comes near the end of the send.

Measured: the campaign (audience ``everyone``, one variant, pacing ``--rate``) is created through
the admin API; from then on the admin API's counts are read every ``--poll`` s (recipients
decided by the policy chain, and sent) and the node's RSS every 0.5 s, until the campaign is
``done``. Reported: recipients evaluated per second and sent (stored + delivered) per second over
the whole send and at the median of the poll intervals; the time from the create request until
the last online recipient had the message (and how many got it twice: must be 0); the node's RSS
before, over and after the send.

    .venv/bin/python -m loadtests.bench_campaign --store sqlite --profiles 100000 --online-every 10
    .venv/bin/python -m loadtests.bench_campaign --store mongo --profiles 5000 --online-every 10

With ``--campaigns 2`` a second campaign follows the first: it goes to conversations that
exist already (the first one created each recipient's conversation with the brand).

Results: docs/BENCHMARKS.md. Every process started here is stopped in a ``finally``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sqlite3
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from loadtests.bench.procstat import rss_bytes
from loadtests.bench.services import BIN, make_workdir, process, secantus, start_redis
from parley.sdk.admin import AdminClient
from parley.server.audience_models import ConsentEntry, ProfileChange
from parley.server.ids import now_ms
from parley.server.store import open_store

TEMPLATE = {"versions": {"en": {"text": "Winter sale, {{user}}: 20% off this week"}}, "default": "en"}


async def seed(store_args: dict[str, str], app: str, n: int) -> float:
    """``n`` consenting profiles with chat users ``u0..``, through the store's methods; seconds taken."""
    store = open_store(store_args.get("mongo_url", ""), sqlite_path=store_args["sqlite_path"],
                       mongo_database=store_args.get("mongo_database", "bench"))  # fmt: skip
    await store.open()
    t0 = time.perf_counter()
    try:

        async def one(i: int) -> None:
            now = now_ms()
            pid, _ = await store.resolve_or_create(app, "user", f"u{i}", now)
            consent = (ConsentEntry("marketing", "granted", now, "api", "bench"),)
            await store.update_audience_profile(app, pid, ProfileChange(now=now, consent=consent))

        for start in range(0, n, 200):
            await asyncio.gather(*(one(i) for i in range(start, min(start + 200, n))))
            if start % 10_000 == 0:
                print(
                    f"[bench] seeded {start} in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True
                )
    finally:
        await store.close()
    return time.perf_counter() - t0


def seed_sqlite_rows(path: str, app: str, n: int) -> float:
    """The same profiles as :func:`seed`, inserted as rows in one transaction (the SQLite layout of
    ``server/store/sqlite_audience_rows.py``, as ``bench_segments`` does): minutes faster at 100 000."""
    t0 = time.perf_counter()
    db = sqlite3.connect(path)
    try:
        now = now_ms()
        db.execute("BEGIN")
        db.executemany("INSERT INTO aud_profiles (app, pid, created, updated) VALUES (?, ?, ?, ?)",
                       ((app, f"p_{i:08d}", now, now) for i in range(n)))  # fmt: skip
        db.executemany("INSERT INTO aud_consent VALUES (?, ?, 'marketing', 'granted', ?)",
                       ((app, f"p_{i:08d}", now) for i in range(n)))  # fmt: skip
        db.executemany("INSERT INTO aud_identifiers VALUES (?, 'user', ?, ?, ?)",
                       ((app, f"u{i}", f"p_{i:08d}", now) for i in range(n)))  # fmt: skip
        db.execute("COMMIT")
    finally:
        db.close()
    return time.perf_counter() - t0


class RssSampler:
    """The node's resident memory every ``period`` seconds (a background task)."""

    def __init__(self, pid: int, period: float = 0.5) -> None:
        self.pid, self.period = pid, period
        self.samples: list[tuple[float, int]] = []
        self._task: asyncio.Task[None] | None = None

    async def _loop(self) -> None:
        while True:
            self.samples.append((time.perf_counter(), rss_bytes(self.pid)))
            await asyncio.sleep(self.period)

    def start(self) -> None:
        """Begin sampling."""
        self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        """Stop sampling."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def _clients(port: int, app: dict[str, str], users: list[str], procs: int, workdir: Path) -> list[Any]:
    """Start the client processes (users split between them); wait until all are connected."""
    started = []
    for k in range(procs):
        spec = {"port": port, "app": app["PARLEY_APP"], "secret": app["PARLEY_APP_SECRET"],
                "users": users[k::procs], "timeout": 3600}  # fmt: skip
        with open(workdir / f"clients{k}.log", "wb") as log:  # the child keeps its own descriptor
            p = subprocess.Popen([sys.executable, "-m", "loadtests.bench.campaign_clients", json.dumps(spec)],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
                                 cwd=str(Path(__file__).resolve().parents[1]))  # fmt: skip
        started.append(p)
    for p in started:
        line = p.stdout.readline() if p.stdout else ""
        if not line:
            raise RuntimeError(f"a client process exited before it was ready (see {workdir})")
        print(f"[bench] clients ready: {line.strip()}", file=sys.stderr, flush=True)
    return started


async def send(
    admin: AdminClient, node_pid: int, args: argparse.Namespace, clients: list[Any]
) -> dict[str, Any]:
    """Create the campaign, follow its counts to ``done``; the measurements."""
    rss = RssSampler(node_pid)
    rss.start()
    await asyncio.sleep(2.0)  # a baseline of the idle node with its connections
    t0_ns, t0 = time.perf_counter_ns(), time.perf_counter()
    created = await admin.create_campaign({"name": "bench", "topic": "marketing", "everyone": True,
                                           "variants": [{"id": "a", "weight": 100, "template": TEMPLATE}],
                                           "rate": args.rate})  # fmt: skip
    cid = created["cid"]
    for p in clients:
        p.stdin.write(cid + "\n")
        p.stdin.flush()
    polls: list[tuple[float, int, int]] = [(t0, 0, 0)]
    while True:
        await asyncio.sleep(args.poll)
        c = await admin.campaign(cid)
        counts: dict[str, int] = c.get("counts", {})
        polls.append((time.perf_counter(), sum(counts.values()), counts.get("sent", 0)))
        print(f"[bench] {polls[-1][0] - t0:.0f} s: {c['state']} {counts}", file=sys.stderr, flush=True)
        if c["state"] in ("done", "cancelled") or time.perf_counter() - t0 > args.max_s:
            break
    done_s = polls[-1][0] - t0
    await asyncio.sleep(3.0)  # the last deliveries, and any repeat, reach the clients
    await rss.stop()
    for p in clients:
        p.stdin.write("done\n")
        p.stdin.flush()
    got = [json.loads(p.stdout.readline() or "{}") for p in clients]
    return {"cid": cid, "state": c["state"], "counts": counts, "t0_ns": t0_ns, "t0": t0, "done_s": done_s,
            "polls": polls, "rss": rss.samples, "clients": got}  # fmt: skip


def summarise(m: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Rates, the last online arrival and the RSS timeline from the raw measurements."""
    polls, t0 = m["polls"], m["t0"]
    decided, sent = polls[-1][1], polls[-1][2]
    # first and last poll with progress: the send itself, not the sender's start-up or the final poll
    moving = [i for i in range(1, len(polls)) if polls[i][1] > polls[i - 1][1]]
    rates = [(polls[i][1] - polls[i - 1][1]) / (polls[i][0] - polls[i - 1][0]) for i in moving]
    sends = [(polls[i][2] - polls[i - 1][2]) / (polls[i][0] - polls[i - 1][0]) for i in moving]
    span = polls[moving[-1]][0] - polls[moving[0] - 1][0] if moving else float("nan")
    got = sum(c.get("got", 0) for c in m["clients"])
    last = max((c.get("last_ns", 0) for c in m["clients"]), default=0)
    before = [r for t, r in m["rss"] if t < t0]
    during = [r for t, r in m["rss"] if t0 <= t <= t0 + m["done_s"]]
    mib = 2**20
    tenth = max(1, len(during) // 10)
    return {
        "store": args.store, "profiles": args.profiles, "online": sum(c.get("users", 0) for c in m["clients"]),
        "rate_limit": args.rate, "state": m["state"], "counts": m["counts"], "done_s": round(m["done_s"], 1),
        "evaluated_per_s": round(decided / span, 1), "sent_per_s": round(sent / span, 1),
        "evaluated_per_s_median_poll": round(statistics.median(rates), 1) if rates else None,
        "sent_per_s_median_poll": round(statistics.median(sends), 1) if sends else None,
        "online_got": got, "online_repeats": sum(c.get("repeats", 0) for c in m["clients"]),
        "online_replays_dropped": sum(c.get("replays", 0) for c in m["clients"]),
        "online_closed_early": sum(c.get("closed_early", 0) for c in m["clients"]),
        "last_online_s": round((last - m["t0_ns"]) / 1e9, 1) if last else None,
        "rss_mib_before": round(max(before) / mib, 1) if before else None,
        "rss_mib_during_timeline": [round(r / mib, 1) for r in during[::tenth]],
        "rss_mib_during_min_max": [round(min(during) / mib, 1), round(max(during) / mib, 1)] if during else None,
        "rss_mib_after": round(m["rss"][-1][1] / mib, 1) if m["rss"] else None,
        "loadavg": os.getloadavg()[0],
    }  # fmt: skip


async def main(args: argparse.Namespace) -> None:
    """Set everything up, measure, print one JSON line; stop everything."""
    workdir = make_workdir()
    print(f"[bench] workdir {workdir}", file=sys.stderr, flush=True)
    clients: list[Any] = []
    with ExitStack() as stack:
        try:
            rport, _ = start_redis(stack, None, workdir)
            store = {"sqlite_path": str(workdir / "parley.db")}
            if args.store == "mongo":
                mport, _ = stack.enter_context(secantus(None, workdir))
                store.update(mongo_url=f"mongodb://127.0.0.1:{mport}/", mongo_database="bench")
            store_argv = ["--sqlite-path", store["sqlite_path"]]
            if args.store == "mongo":
                store_argv += ["--mongo-url", store["mongo_url"], "--mongo-database", "bench"]
            create = [
                str(BIN / "parley"),
                "app",
                "create",
                "--name",
                "bench",
                "--format",
                "json",
                *store_argv,
            ]
            made = subprocess.run(create, check=True, capture_output=True, text=True)  # noqa: ASYNC221 - setup
            app = json.loads(made.stdout.strip().splitlines()[-1])
            if args.store == "sqlite" and args.bulk:
                seeded = seed_sqlite_rows(store["sqlite_path"], app["PARLEY_APP"], args.profiles)
            else:
                seeded = await seed(store, app["PARLEY_APP"], args.profiles)
            print(f"[bench] seeded {args.profiles} profiles in {seeded:.0f} s", file=sys.stderr, flush=True)
            env = {**os.environ, "PARLEY_CAMPAIGN_INTERVAL": "0.2"}
            serve = [str(BIN / "parley"), "serve", *store_argv, "--redis-url", f"redis://127.0.0.1:{rport}/0",
                     "--rate-frames", "0", "--rate-sends", "0", "--log-level", "warning"]  # fmt: skip
            node, port = stack.enter_context(
                process(lambda p: [*serve, "--port", str(p)], "parley serve", workdir / "parley.log", env=env)
            )
            users = [f"u{i}" for i in range(0, args.profiles, args.online_every)]
            clients = _clients(port, app, users, args.client_procs, workdir)
            raw = []
            async with AdminClient(f"http://127.0.0.1:{port}", app["PARLEY_API_KEY"], timeout=120) as admin:
                for k in range(args.campaigns):
                    m = await send(admin, node.pid, args, clients)
                    out = summarise(m, args)
                    out.update(seed_s=round(seeded), campaign=k + 1)
                    print(json.dumps(out), flush=True)
                    raw.append(m)
            if args.raw:
                Path(args.raw).write_text(json.dumps(raw))  # noqa: ASYNC240 - after the measurement
        finally:
            for p in clients:
                if p.stdin:
                    p.stdin.close()  # the end of stdin: the client closes its connections and exits
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()


def cli() -> None:
    """``python -m loadtests.bench_campaign``."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", choices=["sqlite", "mongo"], default="sqlite")
    ap.add_argument("--profiles", type=int, default=100_000)
    ap.add_argument("--online-every", type=int, default=10, help="every n-th user is connected")
    ap.add_argument("--client-procs", type=int, default=2)
    ap.add_argument("--rate", type=int, default=10_000, help="the campaign's pacing, recipients/s (max)")
    ap.add_argument("--poll", type=float, default=2.0, help="seconds between reads of the counts")
    ap.add_argument("--max-s", type=float, default=3600.0, help="give up after this many seconds")
    ap.add_argument(
        "--campaigns",
        type=int,
        default=1,
        help="campaigns sent one after the other (the first opens each brand conversation)",
    )
    ap.add_argument(
        "--bulk",
        action="store_true",
        help="SQLite: insert the profiles as rows (not through the store's methods)",
    )
    ap.add_argument("--raw", default="", help="write the raw samples to this file")
    # SIGTERM (e.g. ``timeout``) unwinds like an error, so the finally blocks stop every process
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    asyncio.run(main(ap.parse_args()))


if __name__ == "__main__":
    cli()
