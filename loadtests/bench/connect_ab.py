"""Connect storms only, several builds interleaved: server CPU per connect, the robust measure.

``python -m loadtests.bench.connect_ab --build before=/path/to/venv/bin --build after=.venv/bin``

Each round starts every build once (a fresh Parley SQLite + Redis node pinned to
``--server-core``, this process on ``--client-core``), warms it with 200 connections, then runs
``--cycles`` storms of ``--connections`` authenticated connects (``hello`` → ``welcome``,
``--concurrency`` at a time), closing them and letting the node settle between storms. What
it records per storm is the server process's CPU seconds per connect (``/proc``): unlike
connects/s it barely moves when other people's processes share the cores, so two builds can
be compared on a busy machine. ``--build NAME=BINDIR`` names the ``bin`` directory of a venv
whose ``parley`` runs (a build of another commit in its own worktree and venv). ``--out``
writes every storm's numbers as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import uvloop

from loadtests.bench import services
from loadtests.bench.loadgen import Target, close_all, settle
from loadtests.bench.procstat import cpu_seconds


async def storms(
    spec: dict[str, Any], connections: int, cycles: int, concurrency: int
) -> list[dict[str, float]]:
    """``cycles`` storms against the node of ``spec``: each storm's connects/s and CPU ms per connect."""
    target = Target(spec)
    warm = await target.open_many([f"w{i}" for i in range(200)], concurrency)
    await settle(target.server_pid)
    out = []
    for cycle in range(cycles):
        started, cpu0 = time.perf_counter(), cpu_seconds(target.server_pid)
        clients = await target.open_many([f"c{cycle}u{i}" for i in range(connections)], concurrency)
        elapsed, cpu = time.perf_counter() - started, cpu_seconds(target.server_pid) - cpu0
        out.append(
            {
                "connects_per_s": round(connections / elapsed),
                "cpu_ms_per_connect": round(cpu / connections * 1000, 4),
            }
        )
        close_all(clients)
        await asyncio.sleep(0.5)
        await settle(target.server_pid)
    close_all(warm)
    return out


def main() -> None:
    """Run the interleaved storms and print each build's medians (see the module doc)."""
    parser = argparse.ArgumentParser(prog="python -m loadtests.bench.connect_ab")
    parser.add_argument("--build", action="append", required=True, help="NAME=BINDIR (a venv's bin)")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cycles", type=int, default=4, help="storms per round and build")
    parser.add_argument("--connections", type=int, default=3000, help="connects per storm")
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--server-core", default="0")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    builds = dict(b.split("=", 1) for b in args.build)
    results: dict[str, list[dict[str, float]]] = {name: [] for name in builds}
    for rnd in range(args.rounds):
        for name, bindir in builds.items():
            services.BIN = Path(bindir).resolve()  # whose ``parley`` start_stack runs
            workdir = services.make_workdir()
            try:
                with services.start_stack("sqlite+redis", args.server_core, workdir) as stack:
                    time.sleep(1.0)
                    spec = {
                        "target": stack.target,
                        "port": stack.port,
                        "pids": stack.pids,
                        "app": stack.app,
                        "secret": stack.secret,
                        "deflate": False,
                    }
                    got = uvloop.run(storms(spec, args.connections, args.cycles, args.concurrency))
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            results[name] += got
            cpu = statistics.median(g["cpu_ms_per_connect"] for g in got)
            print(f"round {rnd + 1} {name}: {cpu:.3f} ms CPU / connect", file=sys.stderr, flush=True)
    print("| build | server CPU ms / connect (median, q1–q3) | connects/s (median) | storms |")
    print("|---|---:|---:|---:|")
    for name, got in results.items():
        cpu = [g["cpu_ms_per_connect"] for g in got]
        q1, _, q3 = statistics.quantiles(cpu, n=4)
        rate = statistics.median(g["connects_per_s"] for g in got)
        print(f"| {name} | {statistics.median(cpu):.3f} ({q1:.3f}–{q3:.3f}) | {rate:.0f} | {len(got)} |")
    if args.out:
        Path(args.out).write_text(json.dumps({"args": vars(args), "storms": results}, indent=1))


if __name__ == "__main__":
    main()
