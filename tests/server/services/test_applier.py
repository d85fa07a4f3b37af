"""The background applier of stored events: coalesced per profile, bounded, ordered, flushed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from parley.server.events_models import Event
from parley.server.events_schema import EventsConfig, parse_events_config
from parley.server.ids import now_ms
from parley.server.services.applier import ProfileApplier
from parley.server.services.behaviour import Derivations
from parley.server.store.sqlite import SQLiteStore

CONFIG = parse_events_config({"events": {"viewed": {"properties": {}}}})


class Gated(Derivations):
    """The real derivations, held at a gate so a test decides when a round may proceed."""

    def __init__(self, store: SQLiteStore) -> None:
        super().__init__(store)
        self.gate = asyncio.Event()
        self.calls: list[tuple[str, int]] = []

    async def apply(self, config: EventsConfig, app: str, pid: str, events: Sequence[Event], now: int) -> str:
        await self.gate.wait()
        self.calls.append((pid, len(events)))
        return await super().apply(config, app, pid, events, now)


async def config(app: str) -> EventsConfig:
    return CONFIG


async def test_a_profiles_queued_events_are_applied_by_one_change_and_storing_waits_when_full(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(str(tmp_path / "p.db"))
    await store.open()
    try:
        pid, _ = await store.resolve_or_create("a", "user", "ann", now_ms())
        derive = Gated(store)
        applier = ProfileApplier(derive, config, max_pending=5)
        ev = [Event("a", f"e{n}", pid, "viewed", now_ms()) for n in range(8)]
        await applier.submit(ev[:1])  # taken by the first round, which waits at the gate
        await asyncio.sleep(0)
        await applier.submit(ev[1:5])  # 4 waiting: room left
        blocked = asyncio.ensure_future(applier.submit(ev[5:8]))  # 7 waiting > 5: must wait
        await asyncio.sleep(0.05)
        assert not blocked.done() and applier.pending == 7, "back-pressure: storing waits for room"
        derive.gate.set()
        await asyncio.wait_for(blocked, 10)
        await applier.flush()
        assert applier.pending == 0
        assert derive.calls == [(pid, 1), (pid, 7)], "the 7 that queued meanwhile: one change, in order"
        profile = await store.get_audience_profile("a", pid)
        assert profile is not None and profile.computed["count:viewed"] == 8
    finally:
        await store.close()
