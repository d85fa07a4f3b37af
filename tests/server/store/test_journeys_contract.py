"""Contract of the journeys port on both adapters (see ``journey_port.py``): versioned definitions,
atomic entries, leased due-timer claims shared by two store instances, the run's compare-and-set,
signals that survive a claimer, and the step log unique per run and step."""

from __future__ import annotations

import asyncio
import dataclasses

from parley.server.journey_port import Run
from parley.server.ports import Store
from tests.server.store.conftest import MakeStore

APP = "acme"


def run(rid: str, *, due: int = 1000, pid: str = "p1", key: str = "", goal: str = "") -> Run:
    return Run(APP, rid, "j1", 1, pid, key, "s1", "active", due, "", 0, "", "", "", goal, 0, 0, 1, 1)


async def test_versions_are_compare_and_set_and_kept(store: Store) -> None:
    assert await store.create_journey(APP, "j1", {"v": 1}, "add_to_cart", 1)
    assert not await store.create_journey(APP, "j1", {"v": "again"}, "x", 2)
    assert await store.add_journey_version(APP, "j1", 1, {"v": 2}, "purchase", 3) == 2
    assert await store.add_journey_version(APP, "j1", 1, {"v": "stale"}, "x", 4) is None
    assert await store.journey_doc(APP, "j1", 1) == {"v": 1}
    assert await store.journey_doc(APP, "j1", 2) == {"v": 2}
    head = await store.get_journey(APP, "j1")
    assert head is not None and (head.version, head.trigger, head.state) == (2, "purchase", "active")
    assert [h.jid for h in await store.triggered_journeys(APP, "purchase")] == ["j1"]
    assert await store.triggered_journeys(APP, "add_to_cart") == []
    assert await store.set_journey_state(APP, "j1", "paused", ("active",), 5)
    assert await store.triggered_journeys(APP, "purchase") == [], "a paused journey starts nothing"
    assert not await store.set_journey_state(APP, "j1", "paused", ("active",), 6)
    assert await store.set_journey_state(APP, "j1", "archived", ("active", "paused"), 7)
    assert await store.add_journey_version(APP, "j1", 2, {"v": 3}, "x", 8) is None, "archived"
    assert await store.journey_doc(APP, "j1", 3) is None


async def test_entries_are_once_or_every_n(store: Store) -> None:
    assert await store.enter_journey(APP, "j1", "p1", 1000, 0)
    assert not await store.enter_journey(APP, "j1", "p1", 10**12, 0)
    assert await store.enter_journey(APP, "j2", "p1", 1000, 500)
    assert not await store.enter_journey(APP, "j2", "p1", 1499, 500)
    assert await store.enter_journey(APP, "j2", "p1", 1500, 500)
    assert not await store.enter_journey(APP, "j2", "p1", 1999, 500)


async def test_due_runs_are_claimed_once_by_index_order_and_taken_over_after_the_lease(store: Store) -> None:
    assert await store.start_run(run("r2", due=2000))
    assert await store.start_run(run("r1", due=1000))
    assert await store.start_run(run("r3", due=0))  # no timer: never claimed
    assert not await store.start_run(run("r1", due=5))
    assert [r.rid for r in await store.claim_due_runs(1500, "n1", 100, 10)] == ["r1"]
    assert await store.claim_due_runs(1550, "n2", 100, 10) == [], "r1 leased until 1600, r2 not due"
    later = await store.claim_due_runs(2000, "n2", 100, 10)
    assert [r.rid for r in later] == ["r1", "r2"], "r1's lease expired: taken over; earliest due first"
    assert all(r.owner == "n2" and r.lease_until == 2100 for r in later)


async def test_advance_is_a_compare_and_set_and_a_signal_survives_it(store: Store) -> None:
    await store.start_run(run("r1", key="cart_id=c1", goal="refund"))
    (claimed,) = await store.claim_due_runs(1000, "n1", 100, 10)
    args = dict(step="s2", state="active", due=9000, wait_event="purchase", wait_key="cart_id=c1", now=1000)
    assert not await store.advance_run(APP, "r1", owner="other", seq=claimed.seq, sig=claimed.sig, **args)
    assert await store.advance_run(APP, "r1", owner="n1", seq=claimed.seq, sig=claimed.sig, **args)
    assert not await store.advance_run(APP, "r1", owner="n1", seq=claimed.seq, sig=claimed.sig, **args)
    assert await store.claim_due_runs(2000, "n1", 100, 10) == [], "waiting until 9000"
    assert await store.signal_runs(APP, "p1", "purchase", ["cart_id=c2"], 2000) == 0, "another cart"
    assert await store.signal_runs(APP, "p9", "purchase", ["cart_id=c1"], 2000) == 0, "another profile"
    assert await store.signal_runs(APP, "p1", "purchase", ["amount=3", "cart_id=c1"], 2000) == 1
    (woken,) = await store.claim_due_runs(2000, "n1", 100, 10)
    assert (woken.signal, woken.step) == ("purchase", "s2")
    # a goal event arrives while the run is claimed: advancing must not swallow it
    assert await store.signal_runs(APP, "p1", "refund", ["cart_id=c9"], 2001) == 0, "the goal of another cart"
    assert await store.signal_runs(APP, "p1", "refund", ["cart_id=c1"], 2001) == 1
    done = dict(step="s3", state="active", due=9000, wait_event="", wait_key="", now=2002)
    assert await store.advance_run(APP, "r1", owner="n1", seq=woken.seq, sig=woken.sig, **done)
    (again,) = await store.claim_due_runs(2002, "n2", 100, 10)
    assert (again.signal, again.step) == ("refund", "s3")


async def test_the_step_log_is_unique_per_run_and_step(store: Store) -> None:
    first = await store.begin_step(APP, "r1", "s1", 10)
    assert (first.started, first.finished, first.next) == (10, 0, "")
    assert (await store.begin_step(APP, "r1", "s1", 20)).started == 10, "the first begin wins"
    await store.finish_step(APP, "r1", "s1", "s2", "sent", 30)
    await store.finish_step(APP, "r1", "s1", "s9", "again", 40)
    done = await store.begin_step(APP, "r1", "s1", 50)
    assert (done.finished, done.next, done.outcome) == (30, "s2", "sent")
    await store.begin_step(APP, "r1", "s2", 60)
    assert [r.step for r in await store.step_log(APP, "r1")] == ["s1", "s2"]


async def test_waiting_counts_per_step(store: Store) -> None:
    for i in range(3):
        await store.start_run(dataclasses.replace(run(f"r{i}"), step="wait" if i else "send"))
    await store.start_run(dataclasses.replace(run("r9"), state="done", due=0))
    assert await store.waiting_at(APP, "j1") == {"wait": 2, "send": 1}
    assert [r.rid for r in await store.runs_of(APP, "j1", after="r0", limit=2)] == ["r1", "r2"]


async def test_two_store_instances_claim_each_due_run_once(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    for i in range(30):
        await one.start_run(run(f"r{i:02}", due=1000 + i))
    # six claimers of five each, racing on two store instances (kept small: the wire server is slow
    # under contention on a shared machine, and the point is overlap, not volume)
    claimed: list[str] = []
    for _ in range(10):  # rounds of racing claimers until none is left (a loser gets fewer)
        batches = await asyncio.gather(
            *(s.claim_due_runs(5000, f"n{k}", 10_000, 5) for k, s in enumerate([one, two] * 3))
        )
        claimed += [r.rid for b in batches for r in b]
    assert sorted(claimed) == [f"r{i:02}" for i in range(30)], "each run once, none lost"
    parallel = await asyncio.gather(
        *(s.begin_step(APP, "r1", "send", 100 + k) for k, s in enumerate([one, two] * 5))
    )
    assert len({p.started for p in parallel}) == 1


async def test_a_profiles_runs_newest_first_whatever_their_state(store: Store) -> None:
    """``runs_of_profile``: the profile's runs of any journey and state started since, newest first."""
    for rid, pid, started in (("r1", "p1", 100), ("r2", "p1", 300), ("r3", "p2", 200), ("r4", "p1", 200)):
        r = run(rid, pid=pid)
        assert await store.start_run(dataclasses.replace(r, started=started, jid=f"j{rid}"))
    assert await store.advance_run(
        APP, "r4", owner="", seq=0, sig=0, step="s1", state="done", due=0, wait_event="", wait_key="", now=5
    )
    assert [r.rid for r in await store.runs_of_profile(APP, "p1", since=0, limit=10)] == ["r2", "r4", "r1"]
    assert [r.rid for r in await store.runs_of_profile(APP, "p1", since=200, limit=1)] == ["r2"]
    assert await store.runs_of_profile("other", "p1", since=0, limit=10) == []
