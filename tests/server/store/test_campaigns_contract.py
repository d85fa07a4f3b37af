"""Contract of the campaign port on both adapters (see ``campaign_port.py``): create-once, the
version compare-and-set, and one sender lease at a time across two store instances."""

from __future__ import annotations

import asyncio

from parley.server.campaign_port import Campaign
from parley.server.ports import Store
from tests.server.store.conftest import MakeStore

APP = "acme"


def campaign(cid: str = "c1", *, state: str = "scheduled", start_at: int = 100) -> Campaign:
    return Campaign(APP, cid, state, start_at, {"name": cid, "variants": [{"id": "a"}]}, created=1, updated=1)


async def test_a_campaign_is_created_once_and_read_back_per_app(store: Store) -> None:
    assert await store.create_campaign(campaign())
    assert not await store.create_campaign(campaign(state="paused")), "never replaced"
    got = await store.get_campaign(APP, "c1")
    assert got is not None and (got.state, got.version, got.doc["variants"]) == (
        "scheduled",
        1,
        [{"id": "a"}],
    )
    assert await store.get_campaign("other", "c1") is None
    await store.create_campaign(campaign("c0"))
    assert [c.cid for c in await store.list_campaigns(APP)] == ["c0", "c1"]


async def test_updates_are_a_compare_and_set_on_the_version(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    await one.create_campaign(campaign())
    results = await asyncio.gather(
        one.update_campaign(APP, "c1", 1, now=5, state="paused"),
        two.update_campaign(APP, "c1", 1, now=5, cursor="p9"),
        one.update_campaign(APP, "c1", 1, now=5, state="cancelled"),
    )
    won = [r for r in results if r is not None]
    assert len(won) == 1 and won[0].version == 2, "exactly one writer of version 1"
    after = await one.update_campaign(APP, "c1", 2, now=6, cursor="p5")
    assert after is not None and after.cursor == "p5" and after.version == 3 and after.updated == 6
    assert await one.update_campaign(APP, "missing", 1, now=6, state="paused") is None


async def test_one_sender_holds_the_lease_until_it_expires(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    await one.create_campaign(campaign(start_at=100))
    assert not await one.lease_campaign(APP, "c1", owner="n1", now=99, lease_ms=50), "not started yet"
    results = await asyncio.gather(*(s.lease_campaign(APP, "c1", owner=o, now=100, lease_ms=50)
                                     for s, o in ((one, "n1"), (two, "n2"), (one, "n3"), (two, "n4"))))  # fmt: skip
    assert sum(results) == 1
    holder = ["n1", "n2", "n3", "n4"][results.index(True)]
    other = "n2" if holder != "n2" else "n1"
    assert await one.lease_campaign(APP, "c1", owner=holder, now=120, lease_ms=50), "the holder renews"
    assert not await two.lease_campaign(APP, "c1", owner=other, now=169, lease_ms=50)
    assert await two.lease_campaign(APP, "c1", owner=other, now=170, lease_ms=50), "taken over once expired"


async def test_due_campaigns_are_runnable_started_and_unleased(store: Store) -> None:
    await store.create_campaign(campaign("c1", start_at=100))
    await store.create_campaign(campaign("c2", start_at=300))
    await store.create_campaign(campaign("c3", state="paused", start_at=50))
    await store.create_campaign(campaign("c4", state="running", start_at=10))
    assert await store.due_campaigns(200, 10) == [(APP, "c4"), (APP, "c1")]
    assert await store.lease_campaign(APP, "c4", owner="n1", now=200, lease_ms=1000)
    assert await store.due_campaigns(200, 10) == [(APP, "c1")]
    assert not await store.lease_campaign(APP, "c3", owner="n1", now=200, lease_ms=1000), (
        "paused: not runnable"
    )


async def test_moving_the_start_to_a_recurring_campaigns_next_occurrence_takes_it_off_the_due_list(
    store: Store,
) -> None:
    await store.create_campaign(campaign("c1", state="running", start_at=100))
    assert await store.due_campaigns(200, 10) == [(APP, "c1")]
    moved = await store.update_campaign(APP, "c1", 1, now=200, cursor="1/", start_at=1_000)
    assert moved is not None and (moved.start_at, moved.cursor, moved.version) == (1_000, "1/", 2)
    assert await store.due_campaigns(200, 10) == []
    assert not await store.lease_campaign(APP, "c1", owner="n1", now=999, lease_ms=10)
    assert await store.due_campaigns(1_000, 10) == [(APP, "c1")]
    got = await store.get_campaign(APP, "c1")
    assert got is not None and got.start_at == 1_000
