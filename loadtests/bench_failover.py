"""Two bot processes for one app, black box: how long a customer waits when the answering one goes.

``python -m loadtests.bench_failover --set card`` starts ``parley serve`` (embedded SQLite), ingests
the set's knowledge base, then two ``python -m parley.bots`` processes with the README's command:
the first answers, the second stands by (the app's lease, docs/BOT.md "Two bot processes for one
app"). Each round stops the answering process — SIGTERM (a planned stop: it gives the lease back)
or SIGKILL (a crash: the lease runs out after ``--lease-ttl`` seconds) in turn — and at that same
moment a customer asks a question in a new support conversation; the round records the seconds
from the signal to the bot's reply and checks the reply is the one answer, then restarts the stopped
process, which must come up standing by. A healthy pair's reply time is measured first, in the
same run, as the baseline.

What it shows: the gap a customer sees on a takeover with the default timings (an ask every
``ttl / 3`` seconds). What it does not: the machine's speed (the gaps are set by the lease timings,
not by CPU), or more than two processes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from loadtests.bench_bot import _ask, _start, _wait_ready, served_set
from loadtests.procs import stop
from parley.bots.evalsets import UNSEEN_DIR, load_set

__all__ = ["cli", "main"]


def _role(log: Path) -> str:
    text = log.read_text(errors="replace")
    line = next((x for x in text.splitlines() if "ready: serving as" in x), "")
    return "standby" if "standing by" in line else "answering" if line else ""


async def main(set_name: str, rounds: int, ttl: int, timeout: float) -> dict[str, Any]:
    """Run the rounds; the summary."""
    s = load_set(UNSEEN_DIR / set_name)
    question = next(str(r["text"]) for r in s.messages if r["expect"] == "answer" and r["kind"] == "plain")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    gaps: dict[str, list[float]] = {"SIGTERM": [], "SIGKILL": []}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        work = Path(tmp)
        served = served_set(s, work, stack, env)
        url, app, key = served.url, served.app, served.key
        argv = [sys.executable, "-m", "parley.bots", "--url", url, *key, "--no-tags", "--lease-ttl", str(ttl)]
        procs: list[subprocess.Popen[bytes]] = []
        stack.callback(_stop_all, procs)  # every bot stopped, also on failure

        def start(n: int) -> subprocess.Popen[bytes]:
            log = work / f"bot-{n}.log"
            p = _start(argv, log, env)
            procs.append(p)
            _wait_ready(p, log, 180)
            return p

        bots = [start(0), start(1)]
        roles = [_role(work / "bot-0.log"), _role(work / "bot-1.log")]
        assert roles == ["answering", "standby"], roles
        healthy = [(await _ask(url, app, f"healthy-{i}", question, timeout))[1] for i in range(3)]
        holder, n = 0, 2
        for r in range(rounds):
            sig = signal.SIGTERM if r % 2 == 0 else signal.SIGKILL
            t0 = time.perf_counter()
            bots[holder].send_signal(sig)
            reply, _ = await _ask(url, app, f"round-{r}", question, timeout)
            gap = time.perf_counter() - t0
            assert reply, f"round {r}: no reply in {timeout} s"
            gaps[sig.name].append(gap)
            print(
                json.dumps({"round": r, "signal": sig.name, "seconds_to_reply": round(gap, 2)}),
                file=sys.stderr,
            )
            stop(bots[holder], grace=20)
            bots[holder] = await asyncio.to_thread(start, n)
            assert _role(work / f"bot-{n}.log") == "standby", (
                f"round {r}: the restarted bot is not standing by"
            )
            holder, n = 1 - holder, n + 1
    return {
        "set": s.name,
        "lease_ttl_s": ttl,
        "rounds": rounds,
        "healthy_reply_ms_median": round(statistics.median(healthy) * 1000),
        "planned_stop_s_to_reply": [round(g, 2) for g in gaps["SIGTERM"]],
        "crash_s_to_reply": [round(g, 2) for g in gaps["SIGKILL"]],
        "planned_stop_median_s": round(statistics.median(gaps["SIGTERM"]), 2) if gaps["SIGTERM"] else None,
        "crash_median_s": round(statistics.median(gaps["SIGKILL"]), 2) if gaps["SIGKILL"] else None,
    }


def _stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        stop(p, grace=20)


def cli() -> None:
    """``python -m loadtests.bench_failover``."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="card", help="a development set under tests/data/unseen")
    ap.add_argument("--rounds", type=int, default=4, help="takeovers (SIGTERM and SIGKILL in turn)")
    ap.add_argument("--lease-ttl", type=int, default=15, help="the bots' --lease-ttl (default: the bot's)")
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for one reply")
    args = ap.parse_args()
    print(json.dumps(asyncio.run(main(args.set, args.rounds, args.lease_ttl, args.timeout)), indent=1))


if __name__ == "__main__":
    cli()
