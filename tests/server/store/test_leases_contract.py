"""Contract of the named-lease part of the store port, on both adapters (see ``lease_port.py``)."""

from __future__ import annotations

import asyncio

from parley.server.lease_port import Lease
from parley.server.ports import Store
from tests.server.store.conftest import MakeStore

APP = "acme"
T0 = 1_700_000_000_000
TTL = 15_000


async def test_a_free_lease_is_taken_and_the_holder_renews_it(store: Store) -> None:
    assert await store.get_lease(APP, "bot") is None
    assert await store.acquire_lease(APP, "bot", "p1", now=T0, ttl_ms=TTL) == Lease(
        APP, "bot", "p1", T0 + TTL
    )
    assert await store.get_lease(APP, "bot") == Lease(APP, "bot", "p1", T0 + TTL)
    renewed = await store.acquire_lease(APP, "bot", "p1", now=T0 + 5_000, ttl_ms=TTL)
    assert renewed == Lease(APP, "bot", "p1", T0 + 5_000 + TTL), "a renewal extends until"
    shorter = await store.acquire_lease(APP, "bot", "p1", now=T0 + 6_000, ttl_ms=1_000)
    assert shorter.until == T0 + 7_000, "until is now + ttl, whatever it was"


async def test_another_holder_is_refused_while_live_and_takes_over_once_expired(store: Store) -> None:
    mine = await store.acquire_lease(APP, "bot", "p1", now=T0, ttl_ms=TTL)
    refused = await store.acquire_lease(APP, "bot", "p2", now=T0 + TTL - 1, ttl_ms=TTL)
    assert refused == mine, "nothing changes; the current lease is returned"
    assert await store.get_lease(APP, "bot") == mine
    taken = await store.acquire_lease(APP, "bot", "p2", now=T0 + TTL, ttl_ms=TTL)
    assert taken == Lease(APP, "bot", "p2", T0 + 2 * TTL), "until <= now is expired"
    back = await store.acquire_lease(APP, "bot", "p1", now=T0 + TTL + 1, ttl_ms=TTL)
    assert back == taken, "the old holder is refused too"
    revived = await store.acquire_lease(APP, "bot", "p2", now=T0 + 10 * TTL, ttl_ms=TTL)
    assert revived == Lease(APP, "bot", "p2", T0 + 11 * TTL), "the holder renews even after expiry"


async def test_only_the_holder_releases_and_only_once(store: Store) -> None:
    assert not await store.release_lease(APP, "bot", "p1"), "nothing to release"
    await store.acquire_lease(APP, "bot", "p1", now=T0, ttl_ms=TTL)
    assert not await store.release_lease(APP, "bot", "p2")
    assert await store.get_lease(APP, "bot") is not None
    assert await store.release_lease(APP, "bot", "p1")
    assert not await store.release_lease(APP, "bot", "p1")
    assert await store.get_lease(APP, "bot") is None
    after = await store.acquire_lease(APP, "bot", "p2", now=T0 + 1, ttl_ms=TTL)
    assert after.holder == "p2", "a released lease is free at once"
    await store.acquire_lease(APP, "old", "p1", now=T0, ttl_ms=TTL)
    assert await store.release_lease(APP, "old", "p1"), "an expired lease is still its holder's to release"


async def test_leases_are_per_app_and_per_name(store: Store) -> None:
    await store.acquire_lease(APP, "bot", "p1", now=T0, ttl_ms=TTL)
    other_app = await store.acquire_lease("other", "bot", "p2", now=T0, ttl_ms=TTL)
    other_name = await store.acquire_lease(APP, "sender", "p2", now=T0, ttl_ms=TTL)
    assert (other_app.holder, other_name.holder) == ("p2", "p2")
    assert await store.get_lease(APP, "bot") == Lease(APP, "bot", "p1", T0 + TTL)
    assert await store.get_lease("other", "sender") is None
    assert not await store.release_lease("other", "bot", "p1")
    assert await store.release_lease(APP, "bot", "p1")
    assert await store.get_lease("other", "bot") == other_app, "another app's lease stays"


async def test_of_concurrent_acquires_on_two_store_instances_exactly_one_holds(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    names = [f"n{n:02}" for n in range(10)]

    async def race(now: int) -> None:
        got = await asyncio.gather(
            *(
                s.acquire_lease(APP, n, holder, now=now, ttl_ms=TTL)
                for n in names
                for s, holder in ((one, "p1"), (two, "p2"), (one, "p3"), (two, "p4"))
            )
        )
        for i, n in enumerate(names):
            seen = got[4 * i : 4 * i + 4]
            winners = {lease.holder for lease in seen}
            assert len(winners) == 1, (n, seen)
            assert seen[0].until == now + TTL
            assert await two.get_lease(APP, n) == seen[0]

    await race(T0)  # free leases: inserts race
    await race(T0 + TTL)  # all expired: take-overs race
