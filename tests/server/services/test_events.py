"""The event service over the real SQLite store: track, ingest, counters, rule tags, lifecycle, RFM."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from parley.proto.errors import ErrorCode
from parley.server.audience_models import Identifier, ProfileChange
from parley.server.errors import ServiceError
from parley.server.events_schema import EventLimits
from parley.server.ids import now_ms
from parley.server.ports import Store
from parley.server.services.events import EventInput, EventService
from parley.server.services.rfm import AudiencePass
from parley.server.store.mongo import MongoStore
from parley.server.store.sqlite import SQLiteStore

DAY = 86_400_000
SCHEMA: dict[str, Any] = {
    "events": {
        "viewed": {"properties": {"category": "string", "price": "number"}},
        "purchase": {"properties": {"amount": "number"}},
    },
    "retention_days": 120,
    "rfm": {"event": "purchase", "amount": "amount"},
    "rules": [
        {"id": "interest", "event": "viewed", "group_by": "category", "min_count": 3, "window_days": 7,
         "tag": "interest:{category}"},
    ],
}  # fmt: skip


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    """Both adapters: the derivations read and write through the audience and event ports."""
    opened: Store
    if request.param == "sqlite":
        opened = SQLiteStore(str(tmp_path / "parley.db"))
    else:
        opened = MongoStore(request.getfixturevalue("mongo_url"), request.getfixturevalue("mongo_db"))
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
async def events(store: Store) -> AsyncIterator[EventService]:
    for app in ("acme", "other"):
        await store.put_audience_schema(app, SCHEMA, now_ms())
    service = EventService(store, limits=EventLimits(), batch_max=5, config_ttl=0)
    yield service
    await service.applier.close()


async def profile_of(events: EventService, store: Store, app: str, user: str) -> Any:
    await events.flush()  # events are applied to profiles in the background
    pid = await store.resolve_identifier(app, "user", user)
    assert pid is not None
    profile = await store.get_audience_profile(app, pid)
    assert profile is not None
    return profile


async def test_track_stores_on_the_users_profile_counts_and_is_idempotent(
    store: Store, events: EventService
) -> None:
    first = await events.track("acme", "ann", EventInput("viewed", {"category": "shoes"}, eid="e1"))
    again = await events.track("acme", "ann", EventInput("viewed", {"category": "hats"}, eid="e1"))
    assert first.stored and not again.stored and first.pid == again.pid
    stored = await store.get_event("acme", "e1")
    assert stored is not None and stored.props == {"category": "shoes"} and stored.pid == first.pid
    profile = await profile_of(events, store, "acme", "ann")
    assert profile.computed["count:viewed"] == 1, "a duplicate is not counted"
    assert profile.computed["lifecycle"] == "new"
    [transition] = await store.events_of("acme", first.pid, names=["lifecycle_changed"])
    assert transition.props == {"from": "", "to": "new"}, "the transition is itself an event"


async def test_a_bad_event_is_refused_and_nothing_is_stored(store: Store, events: EventService) -> None:
    cases = [
        (EventInput("signup"), ErrorCode.EVENT_UNKNOWN),
        (EventInput("viewed", {"price": "cheap"}), ErrorCode.EVENT_INVALID),
        (EventInput("viewed", ts=now_ms() - 31 * DAY), ErrorCode.EVENT_TOO_OLD),
        (EventInput("viewed", ts=now_ms() + 3_600_000), ErrorCode.EVENT_IN_FUTURE),
    ]
    for item, code in cases:
        with pytest.raises(ServiceError) as err:
            await events.track("acme", "bob", item)
        assert err.value.code == code
    assert await store.resolve_identifier("acme", "user", "bob") is None, (
        "no profile made for a refused event"
    )


async def test_ingest_is_validated_whole_bounded_and_idempotent(store: Store, events: EventService) -> None:
    good = [EventInput("viewed", {"category": "shoes"}, eid=f"b{n}", user="cy") for n in range(3)]
    with pytest.raises(ServiceError) as err:
        await events.ingest("acme", [*good, EventInput("viewed", {"price": "x"}, eid="bad", user="cy")])
    assert err.value.code == ErrorCode.EVENT_INVALID and err.value.message.startswith("events.3:")
    assert await store.get_event("acme", "b0") is None, "nothing of a refused batch is stored"
    with pytest.raises(ServiceError) as err:
        await events.ingest("acme", good * 2)
    assert err.value.code == ErrorCode.BATCH_TOO_LARGE
    with pytest.raises(ServiceError) as err:
        await events.ingest("acme", [EventInput("viewed", user="cy")])
    assert err.value.code == ErrorCode.EVENT_INVALID, "an ingested event needs its id"
    assert [t.stored for t in await events.ingest("acme", good)] == [True] * 3
    assert [t.stored for t in await events.ingest("acme", good[1:])] == [False] * 2
    assert (await profile_of(events, store, "acme", "cy")).computed["count:viewed"] == 3


async def test_ingest_normalises_a_phone_with_the_apps_default_region(
    store: Store, events: EventService
) -> None:
    """The batch ingest and ``identify`` share one normaliser: a national number is read in the
    app's ``identity.default_region`` (as identify reads it), not refused."""
    await store.put_audience_schema("acme", {**SCHEMA, "identity": {"default_region": "US"}}, now_ms())
    events.forget("acme")
    [taken] = await events.ingest(
        "acme", [EventInput("viewed", {"category": "shoes"}, eid="r1", user="(415) 555-0100", kind="phone")]
    )
    assert await store.resolve_identifier("acme", "phone", "+14155550100") == taken.pid
    with pytest.raises(ServiceError) as err:  # "other" declares no region: +country is needed
        await events.ingest("other", [EventInput("viewed", eid="r2", user="(415) 555-0100", kind="phone")])
    assert err.value.code == ErrorCode.IDENTIFIER_INVALID and err.value.message.startswith("events.0:")


async def test_three_views_in_a_week_tag_interest_with_provenance_and_the_pass_removes_it(
    store: Store, events: EventService
) -> None:
    now = now_ms()
    for n, category in enumerate(["shoes", "shoes", "hats", "shoes"]):
        await events.track(
            "acme", "dee", EventInput("viewed", {"category": category}, ts=now - (5 - n) * DAY, eid=f"v{n}")
        )
    profile = await profile_of(events, store, "acme", "dee")
    tag = profile.tags["interest:shoes"]
    assert (tag.source, tag.evidence) == ("rule", "rule:interest 3 viewed in 7d: v0,v1,v3")
    assert "interest:hats" not in profile.tags
    assert tag.expires == now - 5 * DAY + 7 * DAY, "lapses when the oldest needed view leaves the window"
    report = await AudiencePass(store, events).run("acme", now + 3 * DAY)
    assert report.rechecked == 1
    assert "interest:shoes" not in (await profile_of(events, store, "acme", "dee")).tags
    history = await store.tag_history("acme", profile.pid, "interest:shoes")
    assert [h.action for h in history] == ["set", "remove"]


async def test_lifecycle_moves_by_time_and_a_churned_customer_is_won_back(
    store: Store, events: EventService
) -> None:
    now = now_ms()
    done = await events.track("acme", "eve", EventInput("purchase", {"amount": 5}, ts=now - 20 * DAY))
    await AudiencePass(store, events).run("acme", now + 12 * DAY)
    assert (await profile_of(events, store, "acme", "eve")).computed["lifecycle"] == "at-risk"
    await AudiencePass(store, events).run("acme", now + 72 * DAY)
    assert (await profile_of(events, store, "acme", "eve")).computed["lifecycle"] == "churned"
    await events.track("acme", "eve", EventInput("viewed"))
    assert (await profile_of(events, store, "acme", "eve")).computed["lifecycle"] == "won-back"
    moves = await store.events_of("acme", done.pid, names=["lifecycle_changed"])
    # (the passes ran "in the future": order by the chain, not by ts)
    assert {(e.props["from"], e.props["to"]) for e in moves} == {
        ("", "active"), ("active", "at-risk"), ("at-risk", "churned"), ("churned", "won-back"),
    }  # fmt: skip
    assert len(moves) == 4


async def test_rfm_scores_are_quintiles_of_the_app(store: Store, events: EventService) -> None:
    now = now_ms()
    for n in range(10):
        user = f"u{n}"
        for k in range(n + 1):  # u9 bought most, most recently and spent most
            await events.track(
                "acme", user, EventInput("purchase", {"amount": 10 * n + 1}, ts=now - (10 - n) * DAY - k)
            )
    await events.track("other", "u0", EventInput("purchase", {"amount": 1000}))
    report = await AudiencePass(store, events).run("acme", now)
    assert report.scored == 10
    low, high = await profile_of(events, store, "acme", "u0"), await profile_of(events, store, "acme", "u9")
    assert (low.computed["rfm_r"], low.computed["rfm_f"], low.computed["rfm_m"]) == (1, 1, 1)
    assert (high.computed["rfm_r"], high.computed["rfm_f"], high.computed["rfm_m"]) == (5, 5, 5)
    assert "rfm_r" not in (await profile_of(events, store, "other", "u0")).computed, "quintiles are per app"
    assert (await AudiencePass(store, events).run("acme", now)).scored == 0, (
        "unchanged scores are not rewritten"
    )


async def test_nothing_crosses_apps(store: Store, events: EventService) -> None:
    a = await events.track("acme", "fay", EventInput("viewed", eid="same"))
    b = await events.track("other", "fay", EventInput("viewed", eid="same"))
    assert a.stored and b.stored and a.pid != b.pid
    await events.flush()  # the second event (lifecycle_changed) is written by the background applier
    assert [e.app for e in await store.events_of("acme", a.pid)] == ["acme", "acme"]
    assert await store.events_of("other", a.pid) == []


async def test_events_of_a_merged_profile_land_on_the_survivor(store: Store, events: EventService) -> None:
    old = await events.track("acme", "gus", EventInput("viewed"))
    new = await events.track("acme", "gus2", EventInput("viewed"))
    await store.merge_audience_profiles(
        "acme",
        new.pid,
        old.pid,
        matched=(Identifier("user", "gus"),),
        reason="test",
        actor="t",
        mid="m1",
        now=now_ms(),
    )
    late = await events.track("acme", "gus", EventInput("viewed", eid="late"))  # cached pid: the merged one
    await events.flush()  # applying it finds the profile merged and moves its events
    stored = await store.get_event("acme", "late")
    assert stored is not None and stored.pid == new.pid, f"moved to the survivor (tracked on {late.pid})"
    survivor = await store.get_audience_profile("acme", new.pid)
    assert survivor is not None and survivor.computed["count:viewed"] == 3
    await store.update_audience_profile("acme", new.pid, ProfileChange(now=now_ms()))


async def test_the_pass_sweeps_events_past_the_apps_retention(store: Store, events: EventService) -> None:
    now = now_ms()
    old = await events.track("acme", "hal", EventInput("viewed", ts=now - 20 * DAY, eid="old"))
    await events.track("acme", "hal", EventInput("viewed", ts=now - DAY, eid="new"))
    await events.track("other", "hal", EventInput("viewed", ts=now - 20 * DAY, eid="old"))
    report = await AudiencePass(store, events).run("acme", now + 101 * DAY)  # retention 120 days
    assert report.purged == 1, "the old view (its lifecycle_changed event is from now)"
    assert [e.eid for e in await store.events_of("acme", old.pid, names=["viewed"])] == ["new"]
    assert await store.get_event("other", "old") is not None, "another app's retention is its own"


async def test_of_two_nodes_one_runs_an_apps_pass_until_its_lease_expires(
    store: Store, events: EventService
) -> None:
    """Every node loops over every app, but the pass of one app runs on one node per lease
    (``run_leased``): the other node skips it (None) until the holder's lease expires."""
    now = now_ms()
    await events.track("acme", "ivy", EventInput("viewed", ts=now - 20 * DAY, eid="old"))
    one, two = AudiencePass(store, events), AudiencePass(store, events)
    reports = [await p.run_leased("acme", now + 101 * DAY, lease_ms=60_000) for p in (one, two)]
    assert reports[0] is not None and reports[0].purged == 1 and reports[1] is None
    assert await two.run_leased("other", now + 101 * DAY, lease_ms=60_000) is not None, "per app"
    assert await one.run_leased("acme", now + 101 * DAY + 1, lease_ms=60_000) is not None, "the holder renews"
    assert await two.run_leased("acme", now + 101 * DAY + 61_001, lease_ms=60_000) is not None, "taken over"
