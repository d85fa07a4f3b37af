"""Contract of the event log port, on both adapters (see ``server/events_port.py``)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from parley.server.events_models import MAX_EVENT_BATCH, Event, EventTotals
from parley.server.ports import Store
from parley.server.store.mongo import MongoStore
from parley.server.store.sqlite import SQLiteStore
from tests.server.store.conftest import MakeStore

APP = "acme"


def ev(
    eid: str, pid: str = "p_1", name: str = "viewed", ts: int = 1000, app: str = APP, **props: object
) -> Event:
    return Event(app, eid, pid, name, ts, dict(props), received=ts + 5)


async def test_an_event_round_trips_and_is_per_app(store: Store) -> None:
    e = ev("e1", category="shoes", price=12.5, n=3, ok=True)
    assert await store.append_events([e, ev("e1", app="other", pid="p_x")]) == [True, True]
    assert await store.get_event(APP, "e1") == e
    assert (await store.get_event("other", "e1")) == ev("e1", app="other", pid="p_x")
    assert await store.get_event(APP, "nope") is None
    assert [x.eid for x in await store.events_of(APP, "p_1")] == ["e1"]
    assert await store.events_of("other", "p_1") == [], "another app's profile of the same pid sees nothing"


async def test_append_is_idempotent_by_event_id_within_and_across_batches(store: Store) -> None:
    first = ev("e1", ts=1000, v=1)
    assert await store.append_events([first, ev("e2"), ev("e1", ts=2000, v=2)]) == [True, True, False]
    assert await store.append_events([ev("e1", ts=3000, v=3), ev("e3")]) == [False, True]
    assert await store.get_event(APP, "e1") == first, "the first event stored under an id stays"
    assert len(await store.events_of(APP, "p_1")) == 3


async def test_concurrent_appends_of_one_id_on_two_instances_store_it_once(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    calls = [s.append_events([ev(f"e{n:02}", v=i)]) for n in range(15) for i, s in enumerate((one, two, one))]
    results = await asyncio.gather(*calls)
    assert sum(r == [True] for r in results) == 15, "each id stored exactly once"
    assert len(await two.events_of(APP, "p_1", limit=100)) == 15


async def test_a_batch_over_the_bound_stores_nothing(store: Store) -> None:
    batch = [ev(f"e{n}") for n in range(MAX_EVENT_BATCH + 1)]
    with pytest.raises(ValueError, match="at most"):
        await store.append_events(batch)
    assert await store.events_of(APP, "p_1") == []
    assert await store.append_events([]) == []


async def test_reads_by_profile_are_ordered_and_paged_by_ts_then_id(store: Store) -> None:
    # same ts for several events: the page boundary must still never repeat or skip
    events = [ev(f"e{n:02}", ts=1000 + (n // 3) * 10) for n in range(10)]
    await store.append_events(list(reversed(events)))
    await store.append_events([ev("x1", pid="p_2"), ev("x2", name="bought")])
    seen: list[str] = []
    after: tuple[int, str] | None = None
    while True:
        page = await store.events_of(APP, "p_1", names=["viewed"], after=after, limit=4)
        if not page:
            break
        seen += [e.eid for e in page]
        after = (page[-1].ts, page[-1].eid)
    assert seen == [f"e{n:02}" for n in range(10)]
    assert [e.eid for e in await store.events_of(APP, "p_1", since=1010, until=1030)] == [
        "e03", "e04", "e05", "e06", "e07", "e08",
    ]  # fmt: skip
    both = await store.events_of(APP, "p_1", names=["viewed", "bought"], since=1000, until=1001)
    assert [e.eid for e in both] == ["e00", "e01", "e02", "x2"]


async def test_reads_by_name_and_window_cross_profiles_not_apps(store: Store) -> None:
    await store.append_events(
        [ev("a", pid="p_1", ts=100), ev("b", pid="p_2", ts=200), ev("c", pid="p_3", ts=300),
         ev("d", pid="p_1", ts=200, name="bought"), ev("a2", pid="p_9", ts=200, app="other")]
    )  # fmt: skip
    assert [e.eid for e in await store.events_named(APP, "viewed", since=150)] == ["b", "c"]
    assert [e.eid for e in await store.events_named(APP, "viewed", until=300, after=(100, "a"))] == ["b"]
    assert await store.count_events(APP, "p_1", "viewed") == 1
    assert await store.count_events(APP, "p_1", "viewed", since=101) == 0
    assert await store.count_events(APP, "p_1", "bought", since=200, until=201) == 1


async def test_totals_per_profile_are_computed_in_the_store_and_paged_by_pid(store: Store) -> None:
    await store.append_events(
        [ev("1", pid="p_a", name="purchase", ts=100, amount=10), ev("2", pid="p_a", name="purchase", ts=300, amount=2.5),
         ev("3", pid="p_b", name="purchase", ts=200, amount="n/a"), ev("4", pid="p_c", name="purchase", ts=50, amount=7),
         ev("5", pid="p_a", name="viewed", ts=400, amount=99), ev("6", pid="p_a", name="purchase", ts=1, app="other", amount=1)]
    )  # fmt: skip
    totals = await store.event_totals(APP, ["purchase"], "amount", since=60)
    assert totals == [EventTotals("p_a", 2, 12.5, 100, 300), EventTotals("p_b", 1, 0.0, 200, 200)]
    page = await store.event_totals(APP, ["purchase"], "amount", after_pid="p_a", limit=1)
    assert page == [EventTotals("p_b", 1, 0.0, 200, 200)]
    both = await store.event_totals(APP, ["purchase", "viewed"])
    assert both[0] == EventTotals("p_a", 3, 0.0, 100, 400), "no property: counts and times only"
    assert await store.event_totals(APP, []) == []


async def test_reassign_moves_every_event_of_a_merged_profile_and_is_idempotent(store: Store) -> None:
    await store.append_events([ev("1", pid="p_old"), ev("2", pid="p_old"), ev("3", pid="p_new")])
    await store.append_events([ev("1", pid="p_old", app="other")])
    assert await store.reassign_events(APP, "p_old", "p_new") == 2
    assert await store.reassign_events(APP, "p_old", "p_new") == 0
    assert await store.events_of(APP, "p_old") == []
    assert [e.eid for e in await store.events_of(APP, "p_new")] == ["1", "2", "3"]
    assert len(await store.events_of("other", "p_old")) == 1, "another app's events do not move"


async def test_restore_moves_back_only_the_events_first_stored_under_the_given_origins(store: Store) -> None:
    await store.append_events(
        [ev("a1", pid="p_a"), ev("a2", pid="p_a"), ev("b1", pid="p_b"), ev("c1", pid="p_c")]
    )
    await store.append_events([ev("a1", pid="p_a", app="other")])
    await store.reassign_events(APP, "p_a", "p_b")  # a merged into b, then b into c
    await store.reassign_events(APP, "p_b", "p_c")
    await store.reassign_events("other", "p_a", "p_c")
    await store.append_events([ev("c2", pid="p_c")])  # stored for c after the merges: stays on c
    assert await store.restore_events(APP, "p_c", "p_b", ["p_b", "p_a"]) == 3
    assert await store.restore_events(APP, "p_c", "p_b", ["p_b", "p_a"]) == 0, "idempotent"
    assert [e.eid for e in await store.events_of(APP, "p_c")] == ["c1", "c2"]
    assert [e.eid for e in await store.events_of(APP, "p_b")] == ["a1", "a2", "b1"]
    assert await store.restore_events(APP, "p_b", "p_a", ["p_a"]) == 2
    assert [e.eid for e in await store.events_of(APP, "p_a")] == ["a1", "a2"]
    assert [e.eid for e in await store.events_of(APP, "p_b")] == ["b1"]
    assert [e.eid for e in await store.events_of("other", "p_c")] == ["a1"], "another app's events stay"
    assert await store.restore_events(APP, "p_b", "p_a", []) == 0


async def test_purge_deletes_older_events_of_the_app_in_bounded_steps(store: Store) -> None:
    await store.append_events(
        [ev(f"o{n}", ts=n, name=("a", "b")[n % 2]) for n in range(7)] + [ev("new", ts=500)]
    )
    await store.append_events([ev("o1", ts=1, app="other")])
    assert await store.purge_events(APP, 100, limit=4) == 4
    assert await store.purge_events(APP, 100, limit=4) == 3
    assert await store.purge_events(APP, 100, limit=4) == 0
    assert [e.eid for e in await store.events_of(APP, "p_1")] == ["new"]
    assert await store.get_event("other", "o1") is not None
    # a purged id is free again: retention ends idempotency for events older than it
    assert await store.append_events([ev("o1", ts=600)]) == [True]


async def test_delete_events_of_one_profile(store: Store) -> None:
    await store.append_events([ev("1", pid="p_1"), ev("2", pid="p_2"), ev("3", pid="p_1", app="other")])
    assert await store.delete_events_of(APP, "p_1") == 1
    assert [e.pid for e in await store.events_named(APP, "viewed")] == ["p_2"]
    assert await store.get_event("other", "3") is not None


@pytest.mark.mongo
async def test_mongo_expires_events_by_a_ttl_index_on_expire_at(mongo_url: str, mongo_db: str) -> None:
    from datetime import UTC, datetime

    from pymongo import AsyncMongoClient

    from parley.server.store.mongo import MongoStore

    store = MongoStore(mongo_url, mongo_db)
    await store.open()
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_url)
    try:
        day = 86_400_000
        await store.append_events([ev("e1", ts=1000), ev("e2", ts=1000, app="keep")], {APP: 7 * day})
        raw = client[mongo_db]["aud_events"]
        doc = await raw.find_one({"_id": f"{APP}/e1"})
        assert doc is not None
        expire_at = doc["expire_at"]
        assert isinstance(expire_at, datetime)
        assert expire_at.replace(tzinfo=UTC).timestamp() * 1000 == 1000 + 7 * day, "ts + the app's retention"
        kept = await raw.find_one({"_id": "keep/e2"})
        assert kept is not None and "expire_at" not in kept, "no retention: never expires"
        ttl = [i for i in (await raw.index_information()).values() if i.get("expireAfterSeconds") == 0]
        assert [i["key"] for i in ttl] == [[("expire_at", 1)]]
    finally:
        await client.drop_database(mongo_db)
        await client.close()
        await store.close()


async def test_reads_by_profile_filter_on_property_equality(store: Store) -> None:
    await store.append_events(
        [ev("1", category="shoes", sale=True), ev("2", category="hats", sale=True),
         ev("3", category="shoes", sale=False), ev("4", category="shoes"), ev("5", name="bought", category="shoes")]
    )  # fmt: skip
    shoes = await store.events_of(APP, "p_1", names=["viewed"], props={"category": "shoes"})
    assert [e.eid for e in shoes] == ["1", "3", "4"]
    on_sale = await store.events_of(APP, "p_1", names=["viewed"], props={"category": "shoes", "sale": True})
    assert [e.eid for e in on_sale] == ["1"]
    assert await store.events_of(APP, "p_1", props={"category": "socks"}) == []


async def test_a_pass_lease_is_held_by_one_owner_of_many_nodes_until_it_expires(
    make_store: MakeStore,
) -> None:
    """``lease_pass``: of concurrent claims from two store instances, one wins; the holder
    renews; another takes it only once it expired; per app and per pass name."""
    one, two = await make_store(), await make_store()
    claims = [
        s.lease_pass(APP, "audience", owner=f"n{i}", now=1000, lease_ms=500)
        for i, s in enumerate((one, two) * 4)
    ]
    won = await asyncio.gather(*claims)
    assert sum(won) == 1, "exactly one owner of eight concurrent claims"
    holder = f"n{won.index(True)}"
    other = "n1" if holder == "n0" else "n0"
    assert await one.lease_pass(APP, "audience", owner=holder, now=1400, lease_ms=500), "the holder renews"
    assert not await two.lease_pass(APP, "audience", owner=other, now=1800, lease_ms=500), (
        "renewed until 1900"
    )
    assert await two.lease_pass(APP, "audience", owner=other, now=1900, lease_ms=500), "expired: taken over"
    assert not await one.lease_pass(APP, "audience", owner=holder, now=1950, lease_ms=500)
    assert await one.lease_pass("other", "audience", owner=holder, now=1950, lease_ms=500), "per app"
    assert await one.lease_pass(APP, "segments", owner=holder, now=1950, lease_ms=500), "per pass"


async def test_sqlite_events_stored_before_origins_existed_take_their_pid_on_open(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    old = sqlite3.connect(path)
    old.executescript(
        "CREATE TABLE aud_events (app TEXT NOT NULL, eid TEXT NOT NULL, pid TEXT NOT NULL, name TEXT NOT NULL,"
        " ts INTEGER NOT NULL, props TEXT NOT NULL, received INTEGER NOT NULL, PRIMARY KEY (app, eid));"
        "INSERT INTO aud_events VALUES ('acme', 'old', 'p_a', 'viewed', 1000, '{}', 1005);"
    )
    old.close()
    for _ in range(2):  # the step is idempotent: a second open changes nothing
        store = SQLiteStore(path)
        await store.open()
        try:
            assert await store.restore_events(APP, "p_a", "p_b", ["p_b"]) == 0
            assert await store.restore_events(APP, "p_a", "p_b", ["p_a"]) == 1, "its origin is its pid"
            assert await store.restore_events(APP, "p_b", "p_a", ["p_a"]) == 1
        finally:
            await store.close()


@pytest.mark.mongo
async def test_mongo_events_stored_before_origins_existed_take_their_pid_on_open(
    mongo_url: str, mongo_db: str
) -> None:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongo_url)
    try:
        doc = {
            "_id": "acme/old",
            "app": APP,
            "pid": "p_a",
            "name": "viewed",
            "ts": 1000,
            "props": {},
            "received": 1005,
        }
        await client[mongo_db]["aud_events"].insert_one(doc)
    finally:
        await client.close()
    for _ in range(2):
        store = MongoStore(mongo_url, mongo_db)
        await store.open()
        try:
            assert await store.restore_events(APP, "p_a", "p_b", ["p_b"]) == 0
            assert await store.restore_events(APP, "p_a", "p_b", ["p_a"]) == 1, "its origin is its pid"
            assert await store.restore_events(APP, "p_b", "p_a", ["p_a"]) == 1
        finally:
            await store.close()


async def test_events_received_pages_by_store_time_and_a_pass_mark_only_rises(store: Store) -> None:
    """``events_received``: by ``(received, eid)`` whatever the events' own ``ts`` (a late event is
    found after a watermark on store time), only the names asked for; ``pass_mark`` / ``advance_pass_mark``:
    0 before any, an atomic max per app and pass, beside the pass's lease."""
    events = [
        Event(APP, "a", "p_1", "purchase", 5_000, {}, 100),
        Event(APP, "b", "p_1", "browse", 6_000, {}, 150),
        Event(APP, "c", "p_2", "purchase", 1_000, {}, 200),  # late: an old ts, stored last
        Event(APP, "d", "p_2", "purchase", 7_000, {}, 200),
        Event("other", "e", "p_3", "purchase", 7_000, {}, 300),
    ]
    await store.append_events(events)
    got = await store.events_received(APP, ["purchase"], since=100)
    assert [e.eid for e in got] == ["a", "c", "d"]
    assert [e.eid for e in await store.events_received(APP, ["purchase"], since=101)] == ["c", "d"]
    page = await store.events_received(APP, ["purchase", "browse"], since=0, after=(150, "b"), limit=1)
    assert [e.eid for e in page] == ["c"]
    page = await store.events_received(APP, ["purchase"], since=0, after=(200, "c"))
    assert [e.eid for e in page] == ["d"]
    assert await store.events_received(APP, [], since=0) == []
    assert await store.pass_mark(APP, "conversions") == 0
    await store.advance_pass_mark(APP, "conversions", 500)
    await store.advance_pass_mark(APP, "conversions", 400)
    assert await store.pass_mark(APP, "conversions") == 500, "never lowered"
    assert await store.pass_mark("other", "conversions") == 0 and await store.pass_mark(APP, "audience") == 0
    assert await store.lease_pass(APP, "conversions", owner="n1", now=1_000, lease_ms=500), (
        "the mark holds no lease"
    )
    await store.advance_pass_mark(APP, "conversions", 900)
    assert not await store.lease_pass(APP, "conversions", owner="n2", now=1_100, lease_ms=500)
    assert await store.pass_mark(APP, "conversions") == 900
