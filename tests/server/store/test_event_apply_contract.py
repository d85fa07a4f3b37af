"""Contract of crash-safe event application, on both adapters: events stored ``pending`` until
marked applied, and a profile change that names the events it applies is made at most once per
event (``AlreadyApplied``), so a recovery after a crash never counts an event twice."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from parley.server.audience_models import AlreadyApplied, ProfileChange
from parley.server.events_models import Event
from parley.server.ports import Store
from parley.server.store.sqlite import SQLiteStore

APP = "acme"


def ev(eid: str, pid: str, received: int = 1000, app: str = APP) -> Event:
    return Event(app, eid, pid, "viewed", received - 5, {}, received)


async def test_pending_events_are_listed_oldest_first_until_marked_applied(store: Store) -> None:
    await store.append_events([ev("e2", "p_1", 2000), ev("e1", "p_2", 1000), ev("x", "p_1", 500, app="other")],
                              pending=True)  # fmt: skip
    await store.append_events([ev("e0", "p_1", 100)])  # not pending: nothing to apply (the default)
    assert [e.eid for e in await store.pending_events(APP, before=3000)] == ["e1", "e2"]
    assert [e.eid for e in await store.pending_events(APP, before=1500)] == ["e1"], "received before only"
    assert [e.eid for e in await store.pending_events(APP, before=3000, limit=1)] == ["e1"]
    assert await store.pending_events(APP, before=3000) == [ev("e1", "p_2", 1000), ev("e2", "p_1", 2000)]
    assert await store.mark_events_applied(APP, ["e1", "x", "nope"]) == 1, "per app; unknown ids ignored"
    assert [e.eid for e in await store.pending_events(APP, before=3000)] == ["e2"]
    assert [e.eid for e in await store.pending_events("other", before=3000)] == ["x"]
    assert await store.mark_events_applied(APP, ["e1"]) == 0, "idempotent"
    assert await store.reassign_events(APP, "p_1", "p_9") == 2
    assert await store.pending_events(APP, before=3000) == [ev("e2", "p_9", 2000)], "a merge keeps it pending"
    assert await store.delete_events_of(APP, "p_9") == 2
    assert await store.pending_events(APP, before=3000) == [], "an erased person's events are gone"


async def test_a_change_naming_its_events_is_made_once_per_event(store: Store) -> None:
    pid, _ = await store.resolve_or_create(APP, "user", "ann", 1000)
    await store.append_events([ev("e1", pid), ev("e2", pid), ev("e3", pid)], pending=True)
    once = ProfileChange(now=2000, counts={"count:viewed": 2.0}, events=("e1", "e2"))
    await store.update_audience_profile(APP, pid, once)
    with pytest.raises(AlreadyApplied) as refused:
        await store.update_audience_profile(APP, pid, ProfileChange(now=2001, counts={"count:viewed": 2.0},
                                                                    events=("e3", "e2")))  # fmt: skip
    assert refused.value.eids == frozenset({"e2"}), "which of them were applied already"
    profile = await store.get_audience_profile(APP, pid)
    assert profile is not None and profile.computed["count:viewed"] == 2.0, "nothing of the refused change"
    await store.update_audience_profile(APP, pid, ProfileChange(now=2002, counts={"count:viewed": 1.0},
                                                                events=("e3",)))  # fmt: skip
    await store.mark_events_applied(APP, ["e1", "e2", "e3"])
    with pytest.raises(AlreadyApplied):  # still refused once marked (the mark and the record agree)
        await store.update_audience_profile(APP, pid, ProfileChange(now=2003, counts={"count:viewed": 1.0},
                                                                    events=("e1",)))  # fmt: skip
    profile = await store.get_audience_profile(APP, pid)
    assert profile is not None and profile.computed["count:viewed"] == 3.0
    plain = ProfileChange(now=2004, counts={"count:viewed": 1.0})
    await store.update_audience_profile(APP, pid, plain)  # a change naming no events is never refused
    profile = await store.get_audience_profile(APP, pid)
    assert profile is not None and profile.computed["count:viewed"] == 4.0


async def test_a_change_of_events_applied_on_a_merged_profile_is_refused_on_the_survivor(
    store: Store,
) -> None:
    """An event counted on a profile that is then merged (counters fold into the survivor) and
    moved to the survivor must not be counted again there by a recovery."""
    loser, _ = await store.resolve_or_create(APP, "user", "ann", 1000)
    winner, _ = await store.resolve_or_create(APP, "phone", "+12025550100", 1000)
    await store.append_events([ev("e1", loser)], pending=True)
    await store.update_audience_profile(APP, loser, ProfileChange(now=2000, counts={"count:viewed": 1.0},
                                                                  events=("e1",)))  # fmt: skip
    await store.merge_audience_profiles(APP, winner, loser, matched=(), reason="test", actor="test", mid="mg_1",
                                        now=3000)  # fmt: skip
    await store.reassign_events(APP, loser, winner)
    with pytest.raises(AlreadyApplied):
        await store.update_audience_profile(APP, winner, ProfileChange(now=4000, counts={"count:viewed": 1.0},
                                                                       events=("e1",)))  # fmt: skip
    profile = await store.get_audience_profile(APP, winner)
    assert profile is not None and profile.computed["count:viewed"] == 1.0


async def test_sqlite_events_stored_before_this_change_count_as_applied(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE aud_events (app TEXT NOT NULL, eid TEXT NOT NULL, pid TEXT NOT NULL, name TEXT NOT NULL,"
        " ts INTEGER NOT NULL, props TEXT NOT NULL, received INTEGER NOT NULL, origin TEXT NOT NULL DEFAULT '',"
        " PRIMARY KEY (app, eid));"
        "INSERT INTO aud_events VALUES ('acme', 'old', 'p_a', 'viewed', 1000, '{}', 1005, 'p_a');"
    )
    old.close()
    for n in range(2):  # idempotent: a second open changes nothing
        store = SQLiteStore(path)
        await store.open()
        try:
            assert await store.pending_events(APP, before=10_000) == []
            await store.append_events([ev(f"new{n}", "p_a", 2000)], pending=True)
            assert [e.eid for e in await store.pending_events(APP, before=10_000)] == [f"new{n}"]
            await store.mark_events_applied(APP, [f"new{n}"])
        finally:
            await store.close()
