"""Audience events end to end: ``Client.track`` over the gateway, the admin batch ingest and
``AdminClient``, two apps, and two nodes on Redis taking events of one profile."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from parley.sdk import AdminClient, AdminError, Client, ReplyError, TrackedEvent
from parley.server.ids import now_ms
from tests.harness import RunningNode, running_node

pytestmark = pytest.mark.timeout(60)

SCHEMA: dict[str, Any] = {
    "events": {
        "product_viewed": {"properties": {"category": "string", "price": "number"}},
        "purchase": {"properties": {"amount": "number"}},
    },
    "rules": [
        {"id": "interest", "event": "product_viewed", "group_by": "category", "min_count": 3,
         "window_days": 7, "tag": "interest:{category}"},
    ],
}  # fmt: skip


async def declare(node: RunningNode, app: str | None = None) -> None:
    # the schema endpoint belongs to the profiles side; the store takes the document as it would
    await node.node.store.put_audience_schema(app or node.app.app, SCHEMA, now_ms())


@asynccontextmanager
async def user(node: RunningNode, name: str, app: RunningNode | None = None) -> AsyncIterator[Client]:
    client = Client(
        node.url, token=await (app or node).token(name), min_reconnect_delay=0.02, max_reconnect_delay=0.2
    )
    async with client:
        yield client


async def profile(node: RunningNode, user: str, app: str | None = None) -> Any:
    await node.node.services.events.flush()  # events are applied to profiles in the background
    store = node.node.store
    pid = await store.resolve_identifier(app or node.app.app, "user", user)
    assert pid is not None
    return await store.get_audience_profile(app or node.app.app, pid)


async def test_track_stores_on_the_users_profile_and_feeds_rules(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        await declare(node)
        async with user(node, "ann") as ann:
            done = [await ann.track("product_viewed", {"category": "shoes", "price": 59.9}) for _ in range(3)]
            assert all(isinstance(d, TrackedEvent) and not d.duplicate for d in done)
            again = await ann.track("product_viewed", {"category": "shoes"}, eid=done[0].eid)
            assert again == TrackedEvent(done[0].eid, duplicate=True)
            with pytest.raises(ReplyError) as err:
                await ann.track("signed_up")
            assert err.value.code == "event_unknown"
            with pytest.raises(ReplyError) as err:
                await ann.track("purchase", {"amount": "lots"})
            assert err.value.code == "event_invalid" and "amount" in err.value.message
            with pytest.raises(ReplyError) as err:
                await ann.track("purchase", {"amount": 1}, ts=now_ms() + 3_600_000)
            assert err.value.code == "event_in_future"
            assert (await ann.track("purchase", {"amount": 5})).eid, "the connection still serves"
        p = await profile(node, "ann")
        assert p.computed["count:product_viewed"] == 3 and p.computed["count:purchase"] == 1
        assert p.tags["interest:shoes"].source == "rule"
        admin = AdminClient(node.http, node.api_key)
        try:
            events = await admin.user_events("ann", limit=2)
        finally:
            await admin.aclose()
        names = [e.event for e in events]
        assert names.count("product_viewed") == 3 and names.count("purchase") == 1
        assert "lifecycle_changed" in names, "the first activity made ann 'new', itself an event"


async def test_admin_ingest_is_validated_whole_bounded_and_idempotent(tmp_path: Path) -> None:
    async with running_node(tmp_path, event_batch_max=4) as node:
        await declare(node)
        admin = AdminClient(node.http, node.api_key)
        try:
            batch = [
                {"eid": f"e{n}", "user": "bob", "event": "purchase", "props": {"amount": n}} for n in range(3)
            ]
            with pytest.raises(AdminError) as err:
                await admin.ingest_events([*batch, {"eid": "x", "user": "bob", "event": "refund"}])
            assert (err.value.status, err.value.code) == (422, "event_unknown") and "events.3" in str(
                err.value
            )
            with pytest.raises(AdminError) as err:
                await admin.ingest_events([*batch, {"eid": "y", "user": "bob", "event": "purchase", "ts": 1}])
            assert err.value.code == "event_too_old"
            assert await admin.user_events("bob") == [], "nothing of a refused batch is stored"
            with pytest.raises(AdminError) as err:
                await admin.ingest_events(batch * 2)
            assert (err.value.status, err.value.code) == (413, "batch_too_large")
            first = await admin.ingest_events(batch)
            assert first.stored == ("e0", "e1", "e2") and first.duplicates == ()
            again = await admin.ingest_events([batch[2], {"eid": "e3", "user": "bob", "event": "purchase"}])
            assert again.stored == ("e3",) and again.duplicates == ("e2",)
            stored = [e for e in await admin.user_events("bob") if e.event == "purchase"]
            assert sorted(e.eid for e in stored) == ["e0", "e1", "e2", "e3"]
        finally:
            await admin.aclose()
        assert (await profile(node, "bob")).computed["count:purchase"] == 4


async def test_nothing_crosses_apps(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        other = await node.node.services.apps.create_app("other")
        await declare(node)
        await declare(node, other.app.app)
        theirs = AdminClient(node.http, other.api_key)
        try:
            await theirs.ingest_events(
                [{"eid": "e1", "user": "cy", "event": "purchase", "props": {"amount": 1}}]
            )
            async with user(node, "cy") as cy:
                await cy.track("purchase", {"amount": 2}, eid="e1")
            ours = AdminClient(node.http, node.api_key)
            try:
                [mine] = [e for e in await ours.user_events("cy") if e.event == "purchase"]
            finally:
                await ours.aclose()
            [their] = [e for e in await theirs.user_events("cy") if e.event == "purchase"]
        finally:
            await theirs.aclose()
        assert (mine.props, their.props) == ({"amount": 2}, {"amount": 1}), "same eid and user, two apps"
        assert mine.pid != their.pid


async def test_two_nodes_on_redis_take_events_of_one_profile(tmp_path: Path, redis_url: str) -> None:
    async with running_node(tmp_path, node_id="n1", redis_url=redis_url) as one:  # noqa: SIM117 - two needs one's app
        async with running_node(
            tmp_path, node_id="n2", redis_url=redis_url, app=(one.app, one.api_key)
        ) as two:
            await declare(one)
            async with user(one, "dee") as a, user(two, "dee", app=one) as b:

                async def burst(client: Client, tag: str) -> list[TrackedEvent]:
                    return [
                        await client.track("product_viewed", {"category": "hats"}, eid=f"{tag}{n}")
                        for n in range(20)
                    ]

                first, second = await asyncio.gather(burst(a, "a"), burst(b, "b"))
                # a retry of the same ids on the other node stores nothing twice
                dups = await asyncio.gather(
                    *(b.track("product_viewed", {"category": "hats"}, eid=f"a{n}") for n in range(5))
                )
            assert len({t.eid for t in first + second}) == 40 and all(d.duplicate for d in dups)
            await one.node.services.events.flush()
            p = await profile(two, "dee")
            assert p.computed["count:product_viewed"] == 40, "no increment lost between the nodes"
            assert p.tags["interest:hats"].source == "rule"
            events = await two.node.store.events_of(one.app.app, p.pid, names=["product_viewed"], limit=100)
            assert len(events) == 40
            changes = await two.node.store.events_of(one.app.app, p.pid, names=["lifecycle_changed"])
            assert [(e.props["from"], e.props["to"]) for e in changes] == [("", "new")], (
                "one transition, stored once"
            )


async def test_track_and_ingest_on_the_mongo_store(tmp_path: Path, mongo_url: str, mongo_db: str) -> None:
    async with running_node(tmp_path, mongo_url=mongo_url, mongo_database=mongo_db) as node:
        await declare(node)
        async with user(node, "eve") as eve:
            done = await eve.track("purchase", {"amount": 3}, eid="m1")
            assert (await eve.track("purchase", {"amount": 3}, eid="m1")).duplicate
        admin = AdminClient(node.http, node.api_key)
        try:
            result = await admin.ingest_events([{"eid": "m1", "user": "eve", "event": "purchase"},
                                                {"eid": "m2", "user": "eve", "event": "purchase"}])  # fmt: skip
        finally:
            await admin.aclose()
        assert (result.stored, result.duplicates) == (("m2",), ("m1",))
        p = await profile(node, "eve")
        assert p.pid and done.eid == "m1" and p.computed["count:purchase"] == 2


async def test_ingest_by_another_identifier_lands_on_the_person_holding_it(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        await declare(node)
        admin = AdminClient(node.http, node.api_key)
        try:
            bad = [{"eid": "x", "event": "purchase", "identifier": {"kind": "phone", "value": "12"}}]
            with pytest.raises(AdminError) as err:
                await admin.ingest_events(bad)
            assert (err.value.code, "events.0" in str(err.value)) == ("identifier_invalid", True)
            both = [
                {
                    "eid": "y",
                    "event": "purchase",
                    "user": "fay",
                    "identifier": {"kind": "cookie", "value": "c"},
                }
            ]
            with pytest.raises(AdminError) as err:
                await admin.ingest_events(both)
            assert err.value.code == "event_invalid"
            anonymous = {"kind": "cookie", "value": "ck-42"}
            phone = {"kind": "phone", "value": "+1 415 555 0100"}
            done = await admin.ingest_events([
                {"eid": "v1", "event": "product_viewed", "identifier": anonymous},
                {"eid": "v2", "event": "purchase", "identifier": phone, "props": {"amount": 9}},
            ])  # fmt: skip
            assert done.stored == ("v1", "v2")
        finally:
            await admin.aclose()
        await node.node.services.events.flush()
        store, app = node.node.store, node.app.app
        by_cookie = await store.resolve_identifier(app, "cookie", "ck-42")
        by_phone = await store.resolve_identifier(app, "phone", "+14155550100")
        assert by_cookie and by_phone and by_cookie != by_phone, "the phone was normalised to E.164"
        assert [e.eid for e in await store.events_of(app, by_cookie, names=["product_viewed"])] == ["v1"]
        assert await store.resolve_identifier(app, "user", "fay") is None, "nothing of a refused batch"
