"""Crash-safe application of stored events: a node that dies with events queued (or between a
profile change and the events' mark) loses nothing, and the recovery counts each event once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from parley.server.events_models import Event
from parley.server.events_schema import EventLimits
from parley.server.ids import now_ms
from parley.server.ports import Store
from parley.server.services.apply_recovery import ApplyRecovery
from parley.server.services.events import EventInput, EventService
from parley.server.shutdown import stop_task
from parley.server.store.mongo import MongoStore
from parley.server.store.sqlite import SQLiteStore

APP = "acme"
SCHEMA: dict[str, Any] = {"events": {"viewed": {"properties": {"category": "string"}}}}
PEOPLE = ("ann", "bob", "cy")


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened: Store
    if request.param == "sqlite":
        opened = SQLiteStore(str(tmp_path / "parley.db"))
    else:
        opened = MongoStore(request.getfixturevalue("mongo_url"), request.getfixturevalue("mongo_db"))
    await opened.open()
    await opened.put_audience_schema(APP, SCHEMA, now_ms())
    try:
        yield opened
    finally:
        await opened.close()


def node(store: Store) -> EventService:
    return EventService(store, limits=EventLimits(), config_ttl=0)


async def counts(store: Store, service: EventService) -> dict[str, float]:
    out: dict[str, float] = {}
    for user in PEOPLE:
        pid = await store.resolve_identifier(APP, "user", user)
        profile = await store.get_audience_profile(APP, pid) if pid else None
        out[user] = float(profile.computed.get("count:viewed", 0)) if profile else 0.0
    return out


async def crashed(store: Store, per_person: int) -> EventService:
    """A node that stored (and acknowledged) events, then died before applying them."""
    dead = node(store)
    items = [
        EventInput("viewed", {"category": "x"}, eid=f"{u}-{n}", user=u)
        for u in PEOPLE
        for n in range(per_person)
    ]
    tracked = await dead.ingest(APP, items)
    assert all(t.stored for t in tracked)
    assert dead.applier.drop() == len(items), "the crash: the queue is gone, nothing applied"
    return dead


async def test_a_new_node_applies_what_a_crashed_one_stored_exactly_once(store: Store) -> None:
    dead = await crashed(store, per_person=4)
    assert await counts(store, dead) == {u: 0.0 for u in PEOPLE}
    fresh = node(store)
    recovery = ApplyRecovery(store, fresh.applier)
    assert await recovery.run(APP, now_ms() + 1, grace_ms=60_000) == 0, "not older than the grace yet"
    assert await recovery.run(APP, now_ms() + 61_000, grace_ms=60_000) == 12
    assert await counts(store, fresh) == {u: 4.0 for u in PEOPLE}
    assert await recovery.run(APP, now_ms() + 61_000, grace_ms=60_000) == 0, "marked applied"
    assert await counts(store, fresh) == {u: 4.0 for u in PEOPLE}


async def test_a_crash_between_the_profile_change_and_the_mark_is_not_counted_twice(store: Store) -> None:
    dead = await crashed(store, per_person=3)
    # the dead node had applied ann's events to her profile (one change) and died before marking them
    config = await dead.config(APP)
    pid = await store.resolve_identifier(APP, "user", "ann")
    assert pid is not None
    events = await store.events_of(APP, pid)
    await dead.derivations.apply(config, APP, pid, events, now_ms())
    assert (await counts(store, dead))["ann"] == 3.0
    fresh = node(store)
    recovery = ApplyRecovery(store, fresh.applier)
    await recovery.run(APP, now_ms() + 61_000, grace_ms=60_000)
    assert await counts(store, fresh) == {u: 3.0 for u in PEOPLE}, "ann's three once, the others applied"
    assert await store.pending_events(APP, before=now_ms() + 61_000) == []


async def test_recovery_racing_a_live_applier_counts_once(store: Store) -> None:
    """A slow (not dead) node and the recovery both apply the same events: once."""
    dead = await crashed(store, per_person=2)
    pending = await store.pending_events(APP, before=now_ms() + 1)
    other = node(store)
    recovery = ApplyRecovery(store, other.applier)
    await dead.applier.submit(pending)  # the "dead" node was only slow
    await recovery.run(APP, now_ms() + 61_000, grace_ms=60_000)
    await dead.applier.flush()
    assert await counts(store, other) == {u: 2.0 for u in PEOPLE}


async def test_the_recovery_pass_of_an_app_runs_on_one_node_at_a_time(store: Store) -> None:
    await crashed(store, per_person=1)
    one, two = node(store), node(store)
    first, second = ApplyRecovery(store, one.applier), ApplyRecovery(store, two.applier)
    later = now_ms() + 61_000
    assert await first.run_leased(APP, later, grace_ms=60_000, lease_ms=30_000) == 3
    assert await second.run_leased(APP, later, grace_ms=60_000, lease_ms=30_000) is None, "leased"


class DeadAfterListing:
    """A store that lists one app and one pending event, then never answers again (a database
    that died mid-recovery)."""

    async def list_apps(self) -> list[Any]:
        return [type("AppRow", (), {"app": APP})()]

    async def lease_pass(self, *args: Any, **kwargs: Any) -> bool:
        return True

    async def pending_events(self, app: str, *, before: int, limit: int = 1000) -> list[Event]:
        return [Event(app, "e1", "p_1", "viewed", 1, {}, 1)]

    def __getattr__(self, name: str) -> Any:
        async def hang(*args: Any, **kwargs: Any) -> Any:
            await asyncio.Event().wait()

        return hang


@pytest.mark.timeout(30)
async def test_the_recovery_loop_stops_promptly_when_the_store_hangs() -> None:
    dead: Any = DeadAfterListing()
    service = EventService(dead, limits=EventLimits(), config_ttl=0)
    recovery = ApplyRecovery(dead, service.applier)
    task = asyncio.create_task(recovery.loop(0.05))
    await asyncio.sleep(0.2)  # waiting for the applier, whose profile read never answers
    assert service.applier.pending == 0 and not task.done()
    assert await stop_task(task, "the event recovery", timeout=2.0), "cancelled while waiting"
    await service.applier.close(timeout=0.2)  # then the node's bounded close of the applier
