"""The one send-policy chain on real nodes: each rule decides in its documented order and is recorded
per recipient, delivery is a chat message in the official conversation, and the guarantees hold
against crashes and two nodes sending at once (caps never exceeded, nobody sent twice)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from parley.proto import frames
from parley.proto.campaign import read_marker
from parley.proto.templates import Button, Content, Template
from parley.server.audience_models import ConsentEntry, ProfileChange
from parley.server.services.audience_recipients import AudienceRecipients
from parley.server.services.official import StoreConversationFacts
from parley.server.services.policy_rules import PolicySettings, bucket
from parley.server.services.send_policy import Decision, SendPolicy, SendRequest
from tests.harness import RunningNode, running_node
from tests.wsclient import RawClient

TEMPLATE = Template(
    versions={
        "en": Content(text="Hi {{first_name|there}}", quick_replies=[Button("stop", "Stop", "opt_out")]),
        "zh": Content(text="你好 {{first_name|朋友}}"),
    },
    default="en",
)


#: (app, chat user) -> the audience pid :func:`profile` made for them.
PIDS: dict[tuple[str, str], str] = {}


async def profile(
    node: RunningNode,
    user: str,
    *,
    consent: bool = True,
    timezone: str = "",
    language: str = "",
    **attrs: str,
) -> str:
    """An audience profile for chat user ``user`` (identifier kind ``user``), consenting to
    ``marketing`` unless told otherwise; its pid."""
    app, store = node.app.app, node.node.store
    pid, _ = await store.resolve_or_create(app, "user", user, 1)
    granted = (ConsentEntry("marketing", "granted", 1, "api", "test"),) if consent else ()
    change = ProfileChange(
        now=1, consent=granted, timezone=timezone or None, language=language or None, attrs=dict(attrs)
    )
    await store.update_audience_profile(app, pid, change)
    PIDS[(app, user)] = pid
    return pid


def ask(node: RunningNode, user: str, campaign: str = "c1", **more: Any) -> SendRequest:
    """The send of ``campaign`` to the profile of chat user ``user`` (``user`` itself if it has none)."""
    fields: dict[str, Any] = {"topic": "marketing", "campaign": campaign, "template": TEMPLATE}
    fields.update(more)
    pid = PIDS.get((node.app.app, user), user)
    return SendRequest(app=node.app.app, key=f"campaign:{campaign}", pid=pid, **fields)


async def send(node: RunningNode, pid: str, campaign: str = "c1", **more: Any) -> str:
    return (await node.node.services.send_policy.send(ask(node, pid, campaign, **more))).outcome.value


async def official_messages(node: RunningNode, user: str) -> list[frames.Message]:
    s = node.node.services
    convs = [c for c, _ in await s.conversations.memberships(node.app.app, user) if c.meta.get("official")]
    if not convs:
        return []
    (conv,) = convs
    history = await s.history.messages(node.app.app, conv.conv, 1, 1000)
    return [m for m in history if read_marker(m.body) is not None]  # type: ignore[misc]


async def test_each_rule_decides_in_order_and_the_decision_is_recorded(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        app, s = node.app.app, node.node.services
        await profile(node, "ann", first_name="Ann", language="zh")
        await profile(node, "bob", consent=False)
        await profile(node, "cy")
        await profile(node, "dee")
        support = await s.conversations.create(app, "cy", "support", [])
        await s.support.handoff(app, "cy", "user", support.conversation.conv, "help", "")
        await node.node.store.merge_profile(app, "dee", attributes={}, set_tags=[_negative()], updated=1)
        ann = await RawClient.connect(node.url, await node.token("ann"))
        assert await send(node, "ann") == "sent"
        got = await ann.expect(frames.Msg, timeout=10)
        while got.m.kind != "text":
            got = await ann.expect(frames.Msg, timeout=10)
        marker = read_marker(got.m.body)
        assert got.m.sender == "brand" and got.m.body["text"] == "你好 Ann", "the recipient's language"
        assert marker is not None and marker.id == "c1" and marker.topic == "marketing"
        assert await send(node, "bob") == "no_consent"
        assert await send(node, "cy") == "suppressed_support"
        assert await send(node, "dee") == "suppressed_sentiment"
        assert await send(node, "nobody") == "no_profile"
        assert await send(node, "ann") == "duplicate", "the same campaign never reaches anyone twice"
        counts = await node.node.store.count_deliveries(app, "campaign:c1")
        assert counts == {
            "sent": 1,
            "no_consent": 1,
            "suppressed_support": 1,
            "suppressed_sentiment": 1,
            "no_profile": 1,
        }
        row = await node.node.store.get_delivery(app, "campaign:c1", PIDS[(app, "ann")])
        assert row is not None and row.mid == got.m.mid
        assert [await official_messages(node, u) for u in ("bob", "cy", "dee")] == [[], [], []]
        await ann.close()


def _negative() -> Any:
    from parley.server.ids import now_ms
    from parley.server.models import TagRecord

    return TagRecord("sentiment:negative", "model", 0.9, "m1", now_ms(), 0)


async def test_control_group_and_hold_out_are_recorded_as_would_have_sent_and_get_nothing(
    tmp_path: Path,
) -> None:
    async with running_node(tmp_path) as node:
        app, s = node.app.app, node.node.services
        await s.send_policy.set_settings(app, {"control_pct": 30})
        users = [f"u{n:02}" for n in range(40)]
        for u in users:
            await profile(node, u)
        outcomes = {u: await send(node, u, holdout_pct=30.0) for u in users}
        for u in users:
            pid = PIDS[(app, u)]
            expected = (
                "control" if bucket(f"control:{app}", pid) < 30
                else "holdout" if bucket("holdout:c1", pid) < 30
                else "sent"
            )  # fmt: skip
            assert outcomes[u] == expected
            assert len(await official_messages(node, u)) == (expected == "sent")
        assert {"control", "holdout", "sent"} <= set(outcomes.values())
        again = {u: await send(node, u, "c2") for u in users}
        assert {u for u, o in again.items() if o == "control"} == {
            u for u, o in outcomes.items() if o == "control"
        }, "the global control group is the same profiles for every campaign"


async def test_frequency_caps_count_every_campaign_and_transactional_is_exempt(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        app, s = node.app.app, node.node.services
        await s.send_policy.set_settings(app, {"caps": [{"limit": 2, "days": 1}, {"limit": 5, "days": 7}]})
        await profile(node, "ann", timezone="Asia/Shanghai")
        assert [await send(node, "ann", c) for c in ("c1", "c2", "c3")] == ["sent", "sent", "capped"]
        push = SendRequest(
            app, "push:receipt-1", PIDS[(app, "ann")], TEMPLATE, "receipt-1", None, transactional=True
        )
        assert (await s.send_policy.send(push)).outcome.value == "sent", "transactional: not capped"
        assert len(await official_messages(node, "ann")) == 3
        assert await node.node.store.count_touches(app, PIDS[(app, "ann")], 0) == 2, (
            "the push took no cap slot"
        )


async def test_quiet_hours_defer_to_the_recipients_morning_or_drop_once_stale(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        app, s = node.app.app, node.node.services
        await s.send_policy.set_settings(app, {"quiet": {"start": "21:00", "end": "08:00"}})
        await profile(node, "sh", timezone="Asia/Shanghai")
        await profile(node, "ny", timezone="America/New_York")
        await profile(node, "late", timezone="Asia/Shanghai")
        evening = int(datetime(2026, 12, 5, 14, 0, tzinfo=UTC).timestamp() * 1000)  # 22:00 Shanghai, 09:00 NY
        morning = int(datetime(2026, 12, 6, 0, 0, tzinfo=UTC).timestamp() * 1000)  # 08:00 Shanghai
        policy = s.send_policy
        deferred = await policy.send(ask(node, "sh"), now=evening)
        assert (
            deferred == Decision(deferred.outcome, retry_at=morning, detail="")
            and deferred.outcome == "quiet_deferred"
        )
        assert (await policy.send(ask(node, "ny"), now=evening)).outcome == "sent"
        assert (await policy.send(ask(node, "sh"), now=morning - 1)).outcome == "duplicate", (
            "not before morning"
        )
        assert (await policy.send(ask(node, "sh"), now=morning)).outcome == "sent"
        dropped = await policy.send(ask(node, "late", stale_after=morning - 1), now=evening)
        assert dropped.outcome == "quiet_dropped"
        assert len(await official_messages(node, "sh")) == 1 and await official_messages(node, "late") == []


async def test_a_local_send_time_waits_for_each_recipients_clock(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        policy = node.node.services.send_policy
        await profile(node, "sh", timezone="Asia/Shanghai")
        await profile(node, "ny", timezone="America/New_York")
        start = int(datetime(2026, 12, 5, 1, 0, tzinfo=UTC).timestamp() * 1000)  # 09:00 Shanghai, 20:00 NY
        ten_sh = int(datetime(2026, 12, 5, 2, 0, tzinfo=UTC).timestamp() * 1000)
        ten_ny = int(datetime(2026, 12, 5, 15, 0, tzinfo=UTC).timestamp() * 1000)
        at_ten = {"local_time": 600, "local_from": start}
        for user, due in (("sh", ten_sh), ("ny", ten_ny)):
            waiting = await policy.send(ask(node, user, **at_ten), now=start)
            assert (waiting.outcome, waiting.retry_at) == ("local_deferred", due)
            assert (await policy.send(ask(node, user, **at_ten), now=due - 1)).outcome == "duplicate"
            assert (await policy.send(ask(node, user, **at_ten), now=due)).outcome == "sent"


class DiesAfterDelivering:
    """A chat sender whose node dies right after the message was stored, before the decision is."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    async def deliver(
        self, app: str, user: str, body: dict[str, Any], *, cmid: str, settings: PolicySettings
    ) -> str:
        await self.inner.deliver(app, user, body, cmid=cmid, settings=settings)
        raise RuntimeError("kill -9")


async def test_a_sender_that_died_mid_send_is_taken_over_and_the_message_is_stored_once(
    tmp_path: Path,
) -> None:
    async with running_node(tmp_path) as node:
        app, s, store = node.app.app, node.node.services, node.node.store
        await s.send_policy.set_settings(app, {"caps": [{"limit": 1, "days": 1}]})
        await profile(node, "ann")
        audience = AudienceRecipients(store)
        doomed = SendPolicy(
            store, audience, StoreConversationFacts(store), DiesAfterDelivering(s.official), lease_ms=1
        )
        with pytest.raises(RuntimeError):
            await doomed.send(ask(node, "ann"))
        row = await store.get_delivery(app, "campaign:c1", PIDS[(app, "ann")])
        assert row is not None and row.state == "pending", "the decision was never recorded"
        await asyncio.sleep(0.01)  # the dead sender's lease runs out
        retry = SendPolicy(store, audience, StoreConversationFacts(store), s.official)
        assert (await retry.send(ask(node, "ann"))).outcome == "sent", "the cap slot is the same touch"
        assert len(await official_messages(node, "ann")) == 1, "the retry's message is the one already stored"
        assert (await store.get_delivery(app, "campaign:c1", PIDS[(app, "ann")])).attempts == 2  # type: ignore[union-attr]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def test_two_nodes_sending_the_same_campaigns_at_once_send_each_once_within_the_caps(
    tmp_path: Path, redis_url: str, backend: str, request: pytest.FixtureRequest
) -> None:
    shared: dict[str, Any] = {"redis_url": redis_url}
    if backend == "mongo":
        shared |= {
            "mongo_url": request.getfixturevalue("mongo_url"),
            "mongo_database": request.getfixturevalue("mongo_db"),
        }
    async with running_node(tmp_path, node_id="n1", **shared) as one:  # noqa: SIM117 - two needs one's app
        async with running_node(tmp_path, node_id="n2", app=(one.app, one.api_key), **shared) as two:
            app = one.app.app
            await one.node.services.send_policy.set_settings(app, {"caps": [{"limit": 2, "days": 1}]})
            users = [f"u{n:02}" for n in range(12)]
            for u in users:
                await profile(one, u)
            watcher = await RawClient.connect(two.url, await two.token("u00"))
            # u00's conversation with the brand exists (and u00's socket on node two joined it) before
            # the sends: its messages then arrive live, not only at the next sync.
            settings = await one.node.services.send_policy.settings(app)
            await one.node.services.official.conversation(app, "u00", settings)
            await watcher.expect(frames.ConvEvent, timeout=10)
            sends = [
                node.node.services.send_policy.send(ask(node, u, c))
                for c in ("c1", "c2", "c3")
                for u in users
                for node in (one, two, one, two)
            ]
            outcomes = [d.outcome.value for d in await asyncio.gather(*sends)]
            counts = {o: outcomes.count(o) for o in set(outcomes)}
            assert outcomes.count("sent") == 2 * len(users), (
                f"two per user: the cap, across both nodes {counts}"
            )
            assert outcomes.count("capped") == len(users)
            assert outcomes.count("duplicate") == 3 * 3 * len(users)
            for u in users:
                assert len(await official_messages(two, u)) == 2
            seen = 0
            while seen < 2:
                got = await watcher.expect(frames.Msg, timeout=10)
                seen += read_marker(got.m.body) is not None
            await watcher.close()
