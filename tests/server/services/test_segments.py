"""The segment service over the real SQLite store: checks against the schema, previews and
explanations, saved dynamic/snapshot segments, and membership events (caused by tracked events,
and by time passing)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from parley.proto.errors import ErrorCode
from parley.proto.segments import SegmentError
from parley.proto.segments_text import parse
from parley.server.errors import ServiceError
from parley.server.events_schema import EventLimits
from parley.server.ids import now_ms
from parley.server.services.events import EventInput, EventService
from parley.server.services.segments import SegmentService
from parley.server.store.sqlite import SQLiteStore
from tests.server.store.segment_population import ATTR_TYPES, NOW, generate, load_sqlite
from tests.server.store.segment_reference import members_of

HOUR = 3_600_000
SCHEMA: dict[str, Any] = {
    "attributes": {k: {"type": v} for k, v in ATTR_TYPES.items() if k != "we ird"},
    "events": {"viewed": {"properties": {"category": "string"}}},
}


class Clock:
    """A movable "now" for the segment service."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


@pytest.fixture
async def segments(store: SQLiteStore) -> SegmentService:
    for app in ("app1", "app2"):
        await store.put_audience_schema(app, SCHEMA, now_ms())
    return SegmentService(store, touch_delay=0.01, clock=Clock(NOW))


async def populate(store: SQLiteStore) -> list[Any]:
    people = generate()
    for p in people:  # the attribute the schema of these tests does not declare
        p.attrs.pop("we ird", None)
    await store.worker.run(lambda db: load_sqlite(db, people))
    return people


async def test_preview_and_explain_evaluate_in_the_store(
    store: SQLiteStore, segments: SegmentService
) -> None:
    people = await populate(store)
    rule = parse('attr.city = "Shanghai" or (tag("interest:shoes", min=0.7) and not has_id("phone"))')
    expected = members_of(rule, people, "app1", NOW, {})
    assert await segments.preview("app1", rule, sample=3) == (len(expected), expected[:3])
    why = await segments.explain("app1", rule, expected[0])
    assert why["member"] is True and why["clauses"][0] == {
        "path": "",
        "text": segments_text(rule),
        "held": True,
    }
    assert [c["path"] for c in why["clauses"]] == ["", "/items/0", "/items/1", "/items/1/items/0",
                                                   "/items/1/items/1", "/items/1/items/1/item"]  # fmt: skip
    with pytest.raises(ServiceError):
        await segments.explain("app1", rule, "p_005")  # merged: not a live profile


def segments_text(rule: Any) -> str:
    from parley.proto.segments_text import to_text

    return to_text(rule)


@pytest.mark.parametrize(
    ("text", "code", "path"),
    [
        ('attr.zip = "1"', ErrorCode.SEGMENT_INVALID, "/key"),
        ('attr.city < "a"', ErrorCode.SEGMENT_INVALID, "/op"),
        ('open_ticket and segment("nope")', ErrorCode.SEGMENT_INVALID, "/items/1/id"),
        ('count(event "viewed", 0d) >= 1', ErrorCode.SEGMENT_INVALID, "/window"),
    ],
)
async def test_bad_rules_are_refused_with_code_and_path(
    segments: SegmentService, text: str, code: ErrorCode, path: str
) -> None:
    with pytest.raises(SegmentError) as info:
        await segments.preview("app1", parse(text))
    assert info.value.code is code and info.value.path == path


async def test_nested_segments_cycles_and_deletes(store: SQLiteStore, segments: SegmentService) -> None:
    people = await populate(store)
    await segments.save("app1", "sh", "Shanghai", parse('attr.city = "Shanghai"'), "dynamic", create=True)
    await segments.save("app1", "b", "B", parse('segment("sh") and has_id("user")'), "dynamic", create=True)
    with pytest.raises(SegmentError) as info:
        await segments.save("app1", "sh", "Shanghai", parse('segment("b")'), "dynamic", create=False)
    assert info.value.code is ErrorCode.SEGMENT_CYCLE and "sh -> b -> sh" in info.value.message
    with pytest.raises(SegmentError) as info:
        await segments.save("app1", "c", "self", parse('segment("c") or open_ticket'), "dynamic", create=True)
    assert info.value.code is ErrorCode.SEGMENT_CYCLE
    with pytest.raises(ServiceError) as refused:
        await segments.delete("app1", "sh")
    assert refused.value.code is ErrorCode.INVALID_REQUEST and "'b' uses 'sh'" in refused.value.message
    expected = members_of(parse('attr.city = "Shanghai" and has_id("user")'), people, "app1", NOW, {})
    assert (await segments.members("app1", "b", limit=1000))[0] == expected
    await segments.delete("app1", "b")
    await segments.delete("app1", "sh")
    with pytest.raises(ServiceError) as gone:
        await segments.get("app1", "sh")
    assert gone.value.code is ErrorCode.SEGMENT_NOT_FOUND


async def test_a_snapshot_keeps_its_members_and_time(store: SQLiteStore, segments: SegmentService) -> None:
    people = await populate(store)
    saved = await segments.save("app1", "snap", "S", parse('has_id("phone")'), "snapshot", create=True)
    expected = members_of(parse('has_id("phone")'), people, "app1", NOW, {})
    await store.worker.run(lambda db: db.execute("DELETE FROM aud_identifiers WHERE kind = 'phone'"))
    assert await segments.members("app1", "snap", limit=1000) == (expected, NOW)
    assert saved.frozen_at == NOW
    assert (await segments.preview("app1", parse('has_id("phone")')))[0] == 0, "the live rule changed"
    assert (await segments.preview("app1", parse('segment("snap")')))[0] == len(expected)


async def test_events_move_profiles_in_and_time_moves_them_out(
    store: SQLiteStore, segments: SegmentService
) -> None:
    clock = Clock(now_ms() + 60_000)  # evaluations happen a minute after the events
    segments.clock = clock
    events = EventService(store, limits=EventLimits(), config_ttl=0)
    events.on_applied.append(segments.touch)
    rule = parse('count(event "viewed", 1h) >= 2')
    await segments.save("app1", "keen", "keen viewers", rule, "dynamic", create=True)
    first = await events.track("app1", "ann", EventInput("viewed", {"category": "shoes"}, eid="e1"))
    await events.flush()  # stored events are applied (and segments touched) in the background
    await segments.sync.flush()
    assert await store.events_of("app1", first.pid, names=["segment_enter"]) == []
    await events.track("app1", "ann", EventInput("viewed", {"category": "hats"}, eid="e2"))
    await events.track("app2", "ann", EventInput("viewed", {"category": "hats"}, eid="e3"))
    await events.flush()
    await segments.sync.flush()
    [entered] = await store.events_of("app1", first.pid, names=["segment_enter"])
    assert entered.props == {"segment": "keen"}
    assert await store.stored_members("app1", "keen", "", 10) == [first.pid]
    # an hour later the window no longer holds two views: the scheduled refresh lets ann go
    clock.now += 2 * HOUR
    assert await segments.sync.refresh("app1") == 1
    [left] = await store.events_of("app1", first.pid, names=["segment_leave"])
    assert left.props == {"segment": "keen"}
    assert await segments.sync.refresh("app1") == 0, "nothing changes twice"
    assert await store.stored_members("app2", "keen", "", 10) == []


async def test_an_attribute_change_moves_a_profile_in(store: SQLiteStore, segments: SegmentService) -> None:
    from parley.server.services.audience import AudienceService

    audience = AudienceService(store)
    audience.on_changed.append(segments.touch)
    await segments.save("app1", "sh", "Shanghai", parse('attr.city = "Shanghai"'), "dynamic", create=True)
    pid = await audience.pid_for_user("app1", "bo")
    await audience.update("app1", pid, actor="test", attributes={"city": "Shanghai"})
    await segments.sync.flush()
    [entered] = await store.events_of("app1", pid, names=["segment_enter"])
    assert entered.props == {"segment": "sh"}
    await audience.update("app1", pid, actor="test", attributes={"city": "Beijing"})
    await segments.sync.flush()
    assert len(await store.events_of("app1", pid, names=["segment_leave"])) == 1


async def test_two_nodes_checking_the_same_change_emit_it_once(tmp_path: Any) -> None:
    """Two stores on one file (two nodes): both see the touch, one write changes the members."""
    stores = [SQLiteStore(str(tmp_path / "shared.db")) for _ in range(2)]
    for s in stores:
        await s.open()
    try:
        await stores[0].put_audience_schema("app1", SCHEMA, now_ms())
        people = await populate(stores[0])
        nodes = [SegmentService(s, touch_delay=0.01, clock=Clock(NOW)) for s in stores]
        rule = parse('attr.city = "Shanghai"')
        await nodes[0].save("app1", "sh", "Shanghai", rule, "dynamic", create=True)
        target = next(
            p.pid
            for p in people
            if p.app == "app1" and not p.merged_into and p.attrs.get("city") != "Shanghai"
        )
        await stores[0].worker.run(
            lambda db: (
                db.execute(
                    "UPDATE aud_attrs SET txt = 'Shanghai' WHERE app = 'app1' AND pid = ? AND key = 'city'",
                    (target,),
                )
                if db.execute(
                    "SELECT 1 FROM aud_attrs WHERE app = 'app1' AND pid = ? AND key = 'city'", (target,)
                ).fetchone()
                else db.execute(
                    "INSERT INTO aud_attrs (app, pid, key, txt) VALUES ('app1', ?, 'city', 'Shanghai')",
                    (target,),
                )
            )
        )
        for s in stores:  # both nodes see the profile enter...
            assert await s.segment_members_among("app1", rule, await nodes[0].context("app1"), [target]) == {
                target
            }
        done = await asyncio.gather(*(n.sync.check("app1", [target]) for n in nodes))  # ...one records it
        assert sorted(len(d) for d in done) == [0, 1]
        assert len(await stores[1].events_of("app1", target, names=["segment_enter"])) == 1
    finally:
        for s in stores:
            await s.close()


async def test_a_merge_moves_membership_to_the_survivor(store: SQLiteStore, segments: SegmentService) -> None:
    from parley.server.services.audience import AudienceService
    from parley.server.services.identity import IdentityService

    audience = AudienceService(store)
    identity = IdentityService(store, audience)
    audience.on_changed.append(segments.touch)
    segments.clock = Clock(now_ms() + 60_000)
    anon = (await identity.identify("app1", [("cookie", "ck1")], actor="sdk"))["pid"]
    await audience.update("app1", anon, actor="sdk", attributes={"city": "Shanghai"})
    await segments.save("app1", "sh", "Shanghai", parse('attr.city = "Shanghai"'), "dynamic", create=True)
    known = (await identity.identify("app1", [("phone", "+14155550100")], actor="api"))["pid"]
    merged = await identity.identify("app1", [("phone", "+14155550100"), ("cookie", "ck1")], actor="sdk")
    assert merged["pid"] == known and merged["merged"]
    await segments.sync.flush()
    assert await store.stored_members("app1", "sh", "", 10) == [known], "the survivor carries the city now"
    assert [e.props for e in await store.events_of("app1", known, names=["segment_enter"])] == [
        {"segment": "sh"}
    ]
    await identity.unmerge("app1", merged["merged"][0])
    await segments.sync.flush()
    assert await store.stored_members("app1", "sh", "", 10) == [anon], "undone: back to the anonymous profile"
