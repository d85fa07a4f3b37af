"""Campaigns on real nodes: a definition is validated whole or not stored; the sender pages the
audience through the send policy with variants and hold-out, pauses and resumes, survives a sender
killed mid-send, and two nodes running the sender at once send everyone exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from parley.proto.campaign import read_marker
from parley.proto.templates import Content, Template
from parley.server.errors import ServiceError
from parley.server.services.audience_recipients import AudienceRecipients
from parley.server.services.campaign_defs import CampaignIn, Variant, pick_variant
from parley.server.services.campaigns import CampaignService
from parley.server.services.official import StoreConversationFacts
from parley.server.services.policy_rules import bucket
from parley.server.services.segments import SegmentService
from parley.server.services.send_policy import SendPolicy
from tests.harness import RunningNode, running_node
from tests.server.services.test_send_policy import PIDS, DiesAfterDelivering, official_messages, profile


def tpl(text: str) -> Template:
    return Template(versions={"en": Content(text=text)}, default="en")


def definition(audience_pids: list[str] | None = None, **more: Any) -> CampaignIn:
    fields: dict[str, Any] = {
        "name": "Winter sale",
        "topic": "marketing",
        "variants": [Variant("a", 50, tpl("A: hi {{user}}")), Variant("b", 50, tpl("B: hello {{user}}"))],
        "pids": audience_pids or [],
        "rate": 1000,
    }
    fields.update(more)
    return CampaignIn(**fields)


async def audience(node: RunningNode, n: int, prefix: str = "u") -> list[str]:
    return [await profile(node, f"{prefix}{i:02}") for i in range(n)]


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"variants": [Variant("a", 60, tpl("x")), Variant("b", 30, tpl("y"))]}, "campaign_invalid"),
        ({"variants": [Variant("a", 50, tpl("x")), Variant("a", 50, tpl("y"))]}, "campaign_invalid"),
        ({"variants": [Variant("a", 100, tpl("hi {{shoe_size}}"))]}, "template_variable_unknown"),
        ({"variants": [Variant("a", 100, tpl("hi {{oops"))]}, "template_invalid"),
        ({"start_at": 1_000_000}, "campaign_invalid"),
        ({"segment": "vip"}, "campaign_invalid"),
        ({"pids": []}, "campaign_invalid"),
        ({"pids": [], "segment": "nope"}, "segment_not_found"),
        ({"holdout_pct": 60.0}, "campaign_invalid"),
        ({"rate": 0}, "campaign_invalid"),
        ({"topic": "Marketing!"}, "campaign_invalid"),
        ({"local_time": "25:00"}, "campaign_invalid"),
    ],
)
async def test_a_bad_definition_gets_its_code_and_nothing_is_stored(
    tmp_path: Path, change: dict[str, Any], code: str
) -> None:
    async with running_node(tmp_path, campaign_interval=0) as node:
        s = node.node.services
        body = definition(["p1"], **change)
        with pytest.raises(ServiceError) as err:
            await s.campaigns.create(node.app.app, body)
        assert err.value.code.value == code
        assert await s.campaigns.list_all(node.app.app) == []


async def test_a_campaign_is_sent_with_its_split_and_hold_out_then_done(tmp_path: Path) -> None:
    async with running_node(tmp_path, campaign_interval=0) as node:
        app, s = node.app.app, node.node.services
        pids = await audience(node, 30)
        campaign = await s.campaigns.create(app, definition(pids, holdout_pct=20.0))
        assert await s.campaigns.run(app, campaign.cid) == "done"
        counts = await s.campaigns.counts(app, campaign.cid)
        held = {p for p in pids if bucket(f"holdout:{campaign.cid}", p) < 20}
        assert counts == {"sent": 30 - len(held), **({"holdout": len(held)} if held else {})}
        variants = s.campaigns.definition(campaign).variants
        for i, pid in enumerate(pids):
            got = await official_messages(node, f"u{i:02}")
            if pid in held:
                assert got == []
                continue
            (message,) = got
            marker = read_marker(message.body)
            assert (
                marker is not None
                and marker.variant == pick_variant(variants, bucket(f"variant:{campaign.cid}", pid)).id
            )
            assert (
                message.body["text"]
                == f"{marker.variant.upper()}: {'hi' if marker.variant == 'a' else 'hello'} u{i:02}"
            )
        assert (await s.campaigns.get(app, campaign.cid)).state == "done"
        assert await s.campaigns.run(app, campaign.cid) == "done", "a finished campaign is not sent again"
        assert s.campaigns.evaluated == 30
        preview = await s.campaigns.preview(app, campaign.cid, pids[0], variant="b")
        assert preview["text"] == "B: hello u00" and preview["campaign"]["variant"] == "b"


async def test_a_segment_audience_pause_resume_and_cancel(tmp_path: Path) -> None:
    async with running_node(tmp_path, campaign_interval=0) as node:
        app, s = node.app.app, node.node.services
        await audience(node, 12)
        for i in range(3):  # not consenting: not in the segment either
            await profile(node, f"no{i:02}", consent=False)
        await s.segments.save(
            app, "opted", "Opted in", SegmentService.parse('consent("marketing")'), "dynamic", create=True
        )
        campaign = await s.campaigns.create(app, definition(segment="opted", rate=4))  # pages of 4 per second
        runner = asyncio.create_task(s.campaigns.run(app, campaign.cid))
        while sum((await s.campaigns.counts(app, campaign.cid)).values()) < 4:
            await asyncio.sleep(0.02)
        paused = await s.campaigns.control(app, campaign.cid, "pause")
        assert paused.state == "paused"
        assert await runner == "paused", "the sender stops after the page it is on"
        sent_so_far = (await s.campaigns.counts(app, campaign.cid))["sent"]
        assert 4 <= sent_so_far < 12
        with pytest.raises(ServiceError) as err:
            await s.campaigns.control(app, campaign.cid, "pause")
        assert err.value.code.value == "campaign_state"
        await s.campaigns.control(app, campaign.cid, "resume")
        assert await s.campaigns.run(app, campaign.cid) == "done"
        assert await s.campaigns.counts(app, campaign.cid) == {"sent": 12}, "everyone once, no one twice"
        with pytest.raises(ServiceError) as err:
            await s.campaigns.control(app, campaign.cid, "resume")
        assert err.value.code.value == "campaign_state"
        await s.segments.save(
            app, "nobody", "Nobody", SegmentService.parse('consent("sms")'), "dynamic", create=True
        )
        with pytest.raises(ServiceError) as err:
            await s.campaigns.create(app, definition(segment="nobody"))
        assert err.value.code.value == "campaign_invalid" and "no members" in err.value.message
        other = await s.campaigns.create(app, definition(segment="opted"))
        assert (await s.campaigns.control(app, other.cid, "cancel")).state == "cancelled"
        assert await s.campaigns.run(app, other.cid) == "cancelled"
        assert await s.campaigns.counts(app, other.cid) == {}


class DiesOnTheFifth:
    """A chat sender on a node that is killed after storing its fifth message."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.calls = inner, 0
        self.dying = DiesAfterDelivering(inner)

    async def deliver(self, app: str, user: str, body: dict[str, Any], *, cmid: str, settings: Any) -> str:
        self.calls += 1
        if self.calls == 5:
            return await self.dying.deliver(app, user, body, cmid=cmid, settings=settings)
        return str(await self.inner.deliver(app, user, body, cmid=cmid, settings=settings))


async def test_a_sender_killed_mid_campaign_is_taken_over_and_everyone_gets_it_once(tmp_path: Path) -> None:
    async with running_node(tmp_path, campaign_interval=0) as node:
        app, s, store = node.app.app, node.node.services, node.node.store
        pids = await audience(node, 10)
        campaign = await s.campaigns.create(app, definition(pids))
        recipients = AudienceRecipients(store)
        doomed_policy = SendPolicy(
            store, recipients, StoreConversationFacts(store), DiesOnTheFifth(s.official), lease_ms=1
        )
        doomed = CampaignService(
            store,
            doomed_policy,
            recipients,
            members=_never,
            variables=_none,
            segment_exists=_none,
            lease_ms=1,
        )
        with pytest.raises(RuntimeError):
            await doomed.run(app, campaign.cid)
        await asyncio.sleep(0.01)  # its leases (campaign and recipient) run out
        assert await s.campaigns.run(app, campaign.cid) == "done"
        assert await s.campaigns.counts(app, campaign.cid) == {"sent": 10}
        for i in range(10):
            assert len(await official_messages(node, f"u{i:02}")) == 1, "the fifth was stored once"


async def test_a_recipient_a_dead_sender_left_pending_is_sent_once_its_claim_expires(tmp_path: Path) -> None:
    # The take-over comes before the dead sender's claim on the fifth recipient expires: that recipient
    # is a "duplicate" on the way through, so the campaign must wait for the claim, not finish without it.
    async with running_node(tmp_path, campaign_interval=0) as node:
        app, s, store = node.app.app, node.node.services, node.node.store
        pids = await audience(node, 10)
        campaign = await s.campaigns.create(app, definition(pids))
        recipients = AudienceRecipients(store)
        policy = SendPolicy(
            store, recipients, StoreConversationFacts(store), DiesOnTheFifth(s.official), lease_ms=400
        )
        doomed = CampaignService(
            store, policy, recipients, members=_never, variables=_none, segment_exists=_none, lease_ms=1
        )
        with pytest.raises(RuntimeError):
            await doomed.run(app, campaign.cid)
        await asyncio.sleep(0.01)  # the campaign's lease ran out, the recipient's claim has not
        assert await s.campaigns.run(app, campaign.cid) == "running", "not done while a claim is pending"
        assert (await s.campaigns.counts(app, campaign.cid)).get("pending") == 1
        await asyncio.sleep(0.45)
        assert await s.campaigns.run(app, campaign.cid) == "done"
        assert await s.campaigns.counts(app, campaign.cid) == {"sent": 10}
        for i in range(10):
            assert len(await official_messages(node, f"u{i:02}")) == 1


async def _never(app: str, seg: str, after: str, limit: int) -> list[str]:
    raise AssertionError("no segment here")


async def _none(app: str, *rest: str) -> list[str]:
    return []


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def test_two_nodes_running_the_sender_send_every_recipient_once(
    tmp_path: Path, redis_url: str, backend: str, request: pytest.FixtureRequest
) -> None:
    shared: dict[str, Any] = {"redis_url": redis_url, "campaign_interval": 0.05}
    if backend == "mongo":
        shared |= {
            "mongo_url": request.getfixturevalue("mongo_url"),
            "mongo_database": request.getfixturevalue("mongo_db"),
        }
    async with running_node(tmp_path, node_id="n1", **shared) as one:  # noqa: SIM117 - two needs one's app
        async with running_node(tmp_path, node_id="n2", app=(one.app, one.api_key), **shared) as two:
            app = one.app.app
            pids = await audience(one, 40)
            campaign = await one.node.services.campaigns.create(app, definition(pids, rate=200))
            for _ in range(400):
                if (await two.node.services.campaigns.get(app, campaign.cid)).state == "done":
                    break
                await asyncio.sleep(0.05)
            assert await one.node.services.campaigns.counts(app, campaign.cid) == {"sent": 40}
            for i in range(40):
                assert len(await official_messages(two, f"u{i:02}")) == 1
            assert PIDS[(app, "u00")] in pids


async def test_recipients_waiting_for_their_local_time_keep_the_campaign_running_until_sent(
    tmp_path: Path,
) -> None:
    async with running_node(tmp_path, campaign_interval=0) as node:
        app, s, store = node.app.app, node.node.services, node.node.store
        pids = await audience(node, 3)
        soon = datetime.now(UTC) + timedelta(minutes=5)  # profiles have no timezone: the policy's UTC
        campaign = await s.campaigns.create(app, definition(pids, local_time=f"{soon:%H:%M}"))
        assert await s.campaigns.run(app, campaign.cid) == "running", "waiting, not done"
        assert await s.campaigns.counts(app, campaign.cid) == {"local_deferred": 3}
        key = f"campaign:{campaign.cid}"
        waiting = await store.deferred_deliveries(app, key, due_by=2**62, limit=10)
        assert sorted(d.pid for d in waiting) == sorted(pids) and all(d.retry_at > 0 for d in waiting)
        assert await store.deferred_deliveries(app, key, due_by=0, limit=10) == []
        # Their time comes (moved here through the ledger itself: a claim once due, re-deferred to the past).
        for d in waiting:
            assert await store.claim_delivery(app, key, d.pid, owner="clock", now=d.retry_at, lease_ms=1)
            await store.settle_delivery(
                app, key, d.pid, owner="clock", state="local_deferred", now=1, retry_at=1
            )
        state = await s.campaigns.run(app, campaign.cid)
        assert state == "running" and await s.campaigns.counts(app, campaign.cid) == {"local_deferred": 3}, (
            "the local time itself has not come: deferred again to it, never sent early"
        )
