"""The brief's two journeys on a real node through the admin API and the event service: events
ingested through ``/v1/audience/events`` start and wake runs (no test hook), the node's own poller
fires the timers (short durations, bounded waits for the outcome — no timing assertions), the
scheduled audience pass's ``lifecycle_changed`` starts the win-back journey; bad definitions are
refused with their codes and nothing stored."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from parley.sdk import AdminClient
from parley.sdk.errors import AdminError
from parley.server.ids import now_ms
from parley.server.services.rfm import AudiencePass
from tests.harness import running_node
from tests.server.journeys.test_journeys import CART
from tests.server.services.test_send_policy import official_messages, profile

DAY = 86_400_000
SCHEMA: dict[str, Any] = {
    "events": {
        "add_to_cart": {"properties": {"cart_id": "string"}},
        "purchase": {"properties": {"cart_id": "string", "amount": "number"}},
    },
}
WIN_BACK: dict[str, Any] = {
    "name": "win-back",
    "trigger": {"event": "lifecycle_changed", "where": {"to": "at-risk"}},
    "entry": {"once": "every", "every_days": 30},
    "steps": [
        {"id": "miss", "type": "send", "next": "tag",
         "template": {"versions": {"en": {"text": "We miss you, {{user}}: 20% off this week"}}, "default": "en"}},
        {"id": "tag", "type": "update", "add_tags": ["winback_sent"]},
    ],
}  # fmt: skip


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait (bounded) for ``check``: the outcome matters, not how long it took."""
    for _ in range(400):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never: {what}")


async def test_abandoned_cart_through_the_admin_api_and_ingested_events(tmp_path: Path) -> None:
    async with running_node(tmp_path, journey_interval=0.05) as node:
        app, s = node.app.app, node.node.services
        short = {**CART, "steps": [{**CART["steps"][0], "timeout_s": 1}, *CART["steps"][1:]]}
        async with AdminClient(node.http, node.api_key) as admin:
            await admin.set_audience_schema(SCHEMA)
            created = await admin.create_journey("cart", short)
            assert (created["state"], created["version"]) == ("active", 1)
            ann, bob = await profile(node, "ann"), await profile(node, "bob")
            await admin.ingest_events([
                {"eid": "a1", "user": "ann", "event": "add_to_cart", "props": {"cart_id": "c1"}},
                {"eid": "b1", "user": "bob", "event": "add_to_cart", "props": {"cart_id": "c2"}},
                {"eid": "b2", "user": "bob", "event": "purchase", "props": {"cart_id": "c2", "amount": 9}},
            ])  # fmt: skip

            async def ann_has_coupon() -> bool:
                return len(await official_messages(node, "ann")) == 1

            async def bob_tagged() -> bool:
                view = await s.audience.view(app, bob)
                return "bought_after_cart" in {t["name"] for t in view["tags"]}

            await eventually(ann_has_coupon, "ann's coupon after the timeout")
            await eventually(bob_tagged, "bob's purchase ends his wait")
            await eventually(lambda: _waiting(admin, "cart", {}), "no run waits any more")
            assert await official_messages(node, "bob") == [], "bob bought: no coupon"
            assert ann and [j["id"] for j in await admin.journeys()] == ["cart"]
            await admin.journey_action("cart", "pause")
            with pytest.raises(AdminError) as again:
                await admin.journey_action("cart", "pause")
            assert again.value.code == "journey_state"
            v2 = await admin.journey_version("cart", short)
            assert v2["version"] == 2 and v2["definition"]["name"] == "cart"
            await admin.journey_action("cart", "archive")
            with pytest.raises(AdminError) as archived:
                await admin.journey_version("cart", short)
            assert archived.value.code == "journey_state"
            with pytest.raises(AdminError) as missing:
                await admin.journey("nope")
            assert missing.value.code == "journey_not_found"


async def _waiting(admin: AdminClient, jid: str, expect: dict[str, int]) -> bool:
    return (await admin.journey(jid))["waiting"] == expect


@pytest.mark.parametrize(
    ("steps", "code"),
    [
        ([{"id": "a", "type": "wait", "seconds": 5, "next": "a"}], "journey_cycle"),
        ([{"id": "a", "type": "exit"}, {"id": "lost", "type": "exit"}], "journey_unreachable"),
        ([{"id": "a", "type": "wait", "seconds": -1}], "journey_invalid"),
        ([{"id": "a", "type": "send", "template": {"versions": {"en": {"text": "{{nope}}"}}, "default": "en"}}],
         "template_variable_unknown"),
        ([{"id": "a", "type": "teleport"}], "journey_invalid"),
    ],
)  # fmt: skip
async def test_bad_definitions_are_problems_and_nothing_is_stored(
    tmp_path: Path, steps: list[dict[str, Any]], code: str
) -> None:
    async with (
        running_node(tmp_path, journey_interval=0) as node,
        AdminClient(node.http, node.api_key) as admin,
    ):
        with pytest.raises(AdminError) as refused:
            await admin.create_journey("bad", {**CART, "steps": steps})
        assert refused.value.code == code
        assert await admin.journeys() == []


async def test_no_activity_for_30_days_sends_the_win_back_once(tmp_path: Path) -> None:
    async with running_node(tmp_path, journey_interval=0.05, audience_pass_interval=0) as node:
        app, s = node.app.app, node.node.services
        async with AdminClient(node.http, node.api_key) as admin:
            await admin.set_audience_schema(SCHEMA)
            await admin.create_journey("win-back", WIN_BACK)
            eve = await profile(node, "eve")
            await profile(node, "fay")
            now = now_ms()
            await admin.ingest_events([
                {"eid": "e1", "user": "eve", "event": "purchase", "props": {"amount": 5}, "ts": now - 20 * DAY},
                {"eid": "f1", "user": "fay", "event": "purchase", "props": {"amount": 5}, "ts": now},
            ])  # fmt: skip
            await s.events.flush()
            audience_pass = AudiencePass(node.node.store, s.events)
            await audience_pass.run(app, now + 12 * DAY)  # eve: 32 days without activity; fay: 12
            await audience_pass.run(app, now + 13 * DAY)  # the next pass changes nothing

            async def eve_tagged() -> bool:
                view = await s.audience.view(app, eve)
                return "winback_sent" in {t["name"] for t in view["tags"]}

            await eventually(eve_tagged, "eve's win-back")
            assert len(await official_messages(node, "eve")) == 1
            assert await official_messages(node, "fay") == []
