"""Time from an event to the segment-membership change it causes, under load (issue 12 item 9).

The services of one node over one SQLite file (no gateway: the path measured is the event
service's store-and-apply, the touch, the batched re-check and the ``segment_enter`` write):
``--users`` users each track ``viewed`` events back to back (``--concurrency`` in flight in
total) while a dynamic segment ``count(event "viewed", 1h) >= 3`` is saved. For each user the
latency is from the return of the ``track`` call of their third event to the moment the
``segment_enter`` event is written (observed on the event log's ``append_events``).

    .venv/bin/python -m loadtests.bench_segment_latency --users 2000 --touch-delay 1.0
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from parley.proto.segments_text import parse
from parley.server.events_models import Event
from parley.server.events_schema import EventLimits
from parley.server.ids import now_ms
from parley.server.services.events import EventInput, EventService
from parley.server.services.segments import SegmentService
from parley.server.store.sqlite import SQLiteStore

SCHEMA: dict[str, Any] = {"events": {"viewed": {"properties": {"category": "string"}}}}


class Watched(SQLiteStore):
    """The SQLite store, noting when each profile's ``segment_enter`` is written."""

    entered: dict[str, float]

    async def append_events(self, events: Sequence[Event], retention_ms: Any = None) -> list[bool]:
        """Store, then note the time of every ``segment_enter`` among ``events``."""
        stored = await super().append_events(events, retention_ms)
        now = time.perf_counter()
        for e in events:
            if e.name == "segment_enter":
                self.entered.setdefault(e.pid, now)
        return stored


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def run(users: int, concurrency: int, touch_delay: float, path: str) -> dict[str, Any]:
    """One run; returns the latency quantiles (ms) and the event rate."""
    store = Watched(path)
    store.entered = {}
    await store.open()
    await store.put_audience_schema("bench", SCHEMA, now_ms())
    events = EventService(store, limits=EventLimits(), config_ttl=60)
    segments = SegmentService(store, touch_delay=touch_delay)
    events.on_applied.append(segments.touch)
    await segments.save(
        "bench", "keen", "keen", parse('count(event "viewed", 1h) >= 3'), "dynamic", create=True
    )
    third: dict[str, tuple[str, float]] = {}
    gate = asyncio.Semaphore(concurrency)

    async def user(i: int) -> None:
        for k in range(3):
            async with gate:
                done = await events.track(
                    "bench", f"u{i}", EventInput("viewed", {"category": "shoes"}, eid=f"{i}.{k}")
                )
            if k == 2:
                third[f"u{i}"] = (done.pid, time.perf_counter())

    t0 = time.perf_counter()
    await asyncio.gather(*(user(i) for i in range(users)))
    took = time.perf_counter() - t0
    await asyncio.wait_for(segments.sync.flush(), 120)  # every queued touch checked
    await segments.sync.close()
    await store.close()
    lat = [(store.entered[pid] - at) * 1000 for pid, at in third.values() if pid in store.entered]
    return {
        "users": users, "events": 3 * users, "events_per_s": round(3 * users / took), "entered": len(lat),
        "touch_delay_s": touch_delay, "p50_ms": round(statistics.median(lat)), "p99_ms": round(pct(lat, 0.99)),
        "max_ms": round(max(lat)),
    }  # fmt: skip


def cli() -> None:
    """``python -m loadtests.bench_segment_latency``."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--touch-delay", type=float, default=1.0)
    args = ap.parse_args()
    path = str(Path(tempfile.mkdtemp(prefix="seglat-")) / "s.db")
    print(json.dumps(asyncio.run(run(args.users, args.concurrency, args.touch_delay, path))))


if __name__ == "__main__":
    cli()
