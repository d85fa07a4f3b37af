"""Micro-benchmark of the store calls behind one 1:1 group commit (explains the 1:1 numbers).

``python -m loadtests.bench.store_ops [--convs 200] [--per-conv 8] [--rounds 5]``

For SQLite and for SecantusDB (started here, pinned to core 0 like in the
benchmark), with ``--convs`` direct conversations it times, median of rounds:

- ``append`` of one batch holding ``--per-conv`` messages of each
  conversation's sender (what a pipelining sender produces), and of a batch
  with one message per conversation;
- the ``set_read`` calls ``ReceiptService.mark_sent`` makes after such a batch
  (one per (conv, sender), awaited one after another).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import uvloop

from loadtests.bench.services import secantus
from parley.server.ids import new_id, now_ms
from parley.server.models import Conversation, Member, NewMessage
from parley.server.store import open_store


async def measure(
    url: str | None, sqlite_path: str, convs: int, per_conv: int, rounds: int
) -> dict[str, float]:
    store = open_store(url, sqlite_path=sqlite_path, mongo_database="ops")
    await store.open()
    try:
        now = now_ms()
        ids = []
        for i in range(convs):
            conv = Conversation(
                app="a", conv=new_id("c"), kind="direct", epoch="e", created=now, direct_key=f"s{i}\nr{i}"
            )
            await store.create_conversation(
                conv,
                [
                    Member("a", conv.conv, f"s{i}", "member", now),
                    Member("a", conv.conv, f"r{i}", "member", now),
                ],
            )
            ids.append(conv.conv)
        counter = [0]

        def batch(k: int) -> list[NewMessage]:
            out = []
            for i, conv in enumerate(ids):
                for _ in range(k):
                    counter[0] += 1
                    out.append(
                        NewMessage(
                            app="a",
                            conv=conv,
                            mid=new_id("m"),
                            sender=f"s{i}",
                            cmid=f"c{counter[0]}",
                            kind="text",
                            body={"text": "x" * 60},
                            ts=now,
                        )
                    )
            return out

        timings: dict[str, list[float]] = {"append_pipelined": [], "append_one_each": [], "set_read_all": []}
        for _ in range(rounds):
            b = batch(per_conv)
            t0 = time.perf_counter()
            await store.append(b)
            timings["append_pipelined"].append(time.perf_counter() - t0)
            b = batch(1)
            t0 = time.perf_counter()
            await store.append(b)
            timings["append_one_each"].append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            for i, conv in enumerate(ids):
                await store.set_read("a", conv, f"s{i}", counter[0])
            timings["set_read_all"].append(time.perf_counter() - t0)
        med = {k: statistics.median(v) for k, v in timings.items()}
        return {
            f"append {convs * per_conv} msgs ({per_conv}/sender) ms": round(
                med["append_pipelined"] * 1000, 1
            ),
            "  -> msgs/s": round(convs * per_conv / med["append_pipelined"]),
            f"append {convs} msgs (1/sender) ms": round(med["append_one_each"] * 1000, 1),
            "  -> msgs/s ": round(convs / med["append_one_each"]),
            f"{convs} x set_read (mark_sent) ms": round(med["set_read_all"] * 1000, 1),
        }
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench.store_ops")
    parser.add_argument("--convs", type=int, default=200)
    parser.add_argument("--per-conv", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--core", default="0")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="parley-ops-"))
    results = {
        "sqlite": uvloop.run(measure(None, str(work / "ops.db"), args.convs, args.per_conv, args.rounds))
    }
    with secantus(args.core, work) as (port, _):
        results["secantusdb"] = uvloop.run(
            measure(f"mongodb://127.0.0.1:{port}/", "", args.convs, args.per_conv, args.rounds)
        )
    for name, values in results.items():
        print(name)
        for k, v in values.items():
            print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
