"""Contract of the activation ports on both adapters (see ``activation_port.py``): the delivery
ledger's claim/settle, atomic frequency-cap reservations, the policy record — concurrently on
two store instances over one backing database."""

from __future__ import annotations

import asyncio

from parley.server.activation_port import PENDING, CapWindow
from parley.server.ports import Store
from tests.server.store.conftest import MakeStore

APP = "acme"
KEY = "campaign:c1"


async def test_a_claim_is_won_once_then_settled_then_a_duplicate(store: Store) -> None:
    claim = await store.claim_delivery(APP, KEY, "p1", owner="n1", now=1000, lease_ms=500)
    assert claim is not None and (claim.state, claim.owner, claim.attempts) == (PENDING, "n1", 1)
    assert await store.claim_delivery(APP, KEY, "p1", owner="n2", now=1001, lease_ms=500) is None
    assert await store.claim_delivery("other", KEY, "p1", owner="n2", now=1001, lease_ms=500) is not None
    assert not await store.settle_delivery(APP, KEY, "p1", owner="n2", state="sent", now=1002)
    assert await store.settle_delivery(
        APP, KEY, "p1", owner="n1", state="sent", now=1002, mid="m1", detail="a"
    )
    row = await store.get_delivery(APP, KEY, "p1")
    assert row is not None and (row.state, row.mid, row.detail, row.updated) == ("sent", "m1", "a", 1002)
    assert not await store.settle_delivery(APP, KEY, "p1", owner="n1", state="capped", now=1003), (
        "settled once"
    )
    assert await store.claim_delivery(APP, KEY, "p1", owner="n3", now=10**12, lease_ms=500) is None, (
        "never again"
    )


async def test_an_expired_pending_claim_is_taken_over_and_the_old_owner_cannot_settle(store: Store) -> None:
    assert await store.claim_delivery(APP, KEY, "p1", owner="dead", now=1000, lease_ms=500)
    assert await store.claim_delivery(APP, KEY, "p1", owner="n2", now=1499, lease_ms=500) is None, (
        "lease live"
    )
    taken = await store.claim_delivery(APP, KEY, "p1", owner="n2", now=1500, lease_ms=500)
    assert taken is not None and (taken.owner, taken.attempts) == ("n2", 2)
    assert not await store.settle_delivery(APP, KEY, "p1", owner="dead", state="sent", now=1600)
    assert await store.settle_delivery(APP, KEY, "p1", owner="n2", state="sent", now=1600)


async def test_a_quiet_deferred_row_is_claimable_again_only_once_due(store: Store) -> None:
    assert await store.claim_delivery(APP, KEY, "p1", owner="n1", now=1000, lease_ms=500)
    assert await store.settle_delivery(
        APP, KEY, "p1", owner="n1", state="quiet_deferred", now=1000, retry_at=5000
    )
    assert await store.claim_delivery(APP, KEY, "p1", owner="n2", now=4999, lease_ms=500) is None
    again = await store.claim_delivery(APP, KEY, "p1", owner="n2", now=5000, lease_ms=500)
    assert again is not None and again.attempts == 2
    await store.claim_delivery(APP, KEY, "p2", owner="n1", now=1000, lease_ms=500)
    assert await store.settle_delivery(
        APP, KEY, "p2", owner="n1", state="local_deferred", now=1000, retry_at=7000
    )
    assert await store.claim_delivery(APP, KEY, "p2", owner="n2", now=6999, lease_ms=500) is None
    assert await store.claim_delivery(APP, KEY, "p2", owner="n2", now=7000, lease_ms=500) is not None


async def test_concurrent_claims_on_two_store_instances_have_one_winner_each(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    pids = [f"p{n:03}" for n in range(40)]
    calls = [(pid, s, o) for pid in pids for s, o in ((one, "a"), (two, "b"), (one, "c"), (two, "d"))]
    results = await asyncio.gather(
        *(s.claim_delivery(APP, KEY, pid, owner=o, now=1000, lease_ms=60_000) for pid, s, o in calls)
    )
    winners: dict[str, int] = {}
    for (pid, _, _), won in zip(calls, results, strict=True):
        winners[pid] = winners.get(pid, 0) + (won is not None)
    assert set(winners.values()) == {1}, "exactly one claim per recipient"
    assert await two.count_deliveries(APP, KEY) == {PENDING: 40}


async def test_deferred_rows_are_listed_by_due_time_only_while_deferred(store: Store) -> None:
    for pid, state, retry_at in (("p1", "quiet_deferred", 500), ("p2", "local_deferred", 300),
                                 ("p3", "sent", 0), ("p4", "quiet_deferred", 900)):  # fmt: skip
        await store.claim_delivery(APP, KEY, pid, owner="n", now=1, lease_ms=5)
        await store.settle_delivery(APP, KEY, pid, owner="n", state=state, now=2, retry_at=retry_at)
    assert [d.pid for d in await store.deferred_deliveries(APP, KEY, due_by=600, limit=10)] == ["p2", "p1"]
    assert [d.pid for d in await store.deferred_deliveries(APP, KEY, due_by=10**12, limit=2)] == ["p2", "p1"]
    assert await store.claim_delivery(APP, KEY, "p2", owner="m", now=300, lease_ms=5)
    assert await store.settle_delivery(APP, KEY, "p2", owner="m", state="sent", now=300)
    assert [d.pid for d in await store.deferred_deliveries(APP, KEY, due_by=10**12, limit=10)] == ["p1", "p4"]
    assert await store.deferred_deliveries("other", KEY, due_by=10**12, limit=10) == []


async def test_deliveries_page_by_pid_and_count_by_state(store: Store) -> None:
    for n, state in enumerate(["sent", "sent", "control", "no_consent", "sent"]):
        await store.claim_delivery(APP, KEY, f"p{n}", owner="n", now=1, lease_ms=5)
        await store.settle_delivery(APP, KEY, f"p{n}", owner="n", state=state, now=2)
    await store.claim_delivery(APP, "campaign:other", "p9", owner="n", now=1, lease_ms=5)
    assert await store.count_deliveries(APP, KEY) == {"sent": 3, "control": 1, "no_consent": 1}
    first = await store.list_deliveries(APP, KEY, after="", limit=2)
    assert [d.pid for d in first] == ["p0", "p1"]
    assert [d.pid for d in await store.list_deliveries(APP, KEY, after="p1", limit=10)] == ["p2", "p3", "p4"]


async def test_touch_reservations_respect_every_window_and_are_idempotent_by_key(store: Store) -> None:
    day, week = CapWindow(since=1000, limit=2), CapWindow(since=0, limit=3)
    assert await store.reserve_touch(APP, "p1", "k0", 500, [])  # an old touch, before the day window
    assert await store.reserve_touch(APP, "p1", "k1", 1000, [day, week])
    assert await store.reserve_touch(APP, "p1", "k1", 1001, [day, week]), "same key: already recorded"
    assert await store.count_touches(APP, "p1", 0) == 2
    assert await store.reserve_touch(APP, "p1", "k2", 1100, [day, week])
    assert not await store.reserve_touch(APP, "p1", "k3", 1200, [day, week]), "the day window is full"
    assert not await store.reserve_touch(APP, "p1", "k3", 1200, [week]), "the week window is full"
    assert await store.reserve_touch(APP, "p2", "k3", 1200, [day, week]), "per recipient"
    assert await store.release_touch(APP, "p1", "k2")
    assert not await store.release_touch(APP, "p1", "k2")
    assert await store.reserve_touch(APP, "p1", "k3", 1300, [day, week]), "a released touch frees its slot"
    assert await store.count_touches(APP, "p1", 1000) == 2
    assert await store.count_touches("other", "p1", 0) == 0


async def test_parallel_reservations_on_two_store_instances_never_exceed_the_cap(
    make_store: MakeStore,
) -> None:
    one, two = await make_store(), await make_store()
    rule = [CapWindow(since=0, limit=3)]
    for pid in ("p1", "p2"):
        results = await asyncio.gather(
            *((one if n % 2 else two).reserve_touch(APP, pid, f"k{n}", 100 + n, rule) for n in range(24))
        )
        assert sum(results) == 3, "exactly the limit, not one more (no count-then-send)"
        assert await one.count_touches(APP, pid, 0) == 3


async def test_the_send_policy_record_is_replaced_whole_per_app(store: Store) -> None:
    assert await store.get_send_policy(APP) is None
    await store.put_send_policy(APP, {"control_pct": 5.0, "caps": [{"limit": 2, "days": 1}]})
    await store.put_send_policy(APP, {"control_pct": 1.0})
    assert await store.get_send_policy(APP) == {"control_pct": 1.0}
    assert await store.get_send_policy("other") is None
