"""The ``invite`` add policy over loopback: strangers get an invitation, not a membership, and
join only when they accept (issue 10, item 6: "must accept")."""

from __future__ import annotations

import asyncio
from pathlib import Path

from parley.proto import frames
from tests.harness import running_node
from tests.wsclient import RawClient


async def _group(owner: RawClient, members: list[str]) -> str:
    reply = await owner.request(frames.ConvCreate, kind="group", name="club", members=members)
    assert isinstance(reply, frames.ConvResult), reply
    return reply.conv.conv


async def test_a_stranger_is_invited_not_added_and_joins_on_accept(tmp_path: Path) -> None:
    async with running_node(tmp_path, add_policy="invite") as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        victim = await RawClient.connect(node.url, await node.token("victim"))
        conv = await _group(alice, [])
        await alice.request(frames.Send, conv=conv, cmid="m1", body={"text": "before you came"})
        assert isinstance(await alice.request(frames.MemberAdd, conv=conv, users=["victim"]), frames.Ok)

        invited = await victim.expect(frames.Invited)
        assert (invited.invitation.conv, invited.invitation.inviter) == (conv, "alice")
        assert invited.invitation.name == "club" and invited.invitation.expires > invited.invitation.created
        members = await alice.request(frames.MemberList, conv=conv)
        assert [m.user for m in members.members] == ["alice"], "not a member before accepting"
        refused = await victim.request(frames.History, conv=conv)
        assert isinstance(refused, frames.Error) and refused.code == "forbidden", "no history before"
        refused = await victim.request(frames.Send, conv=conv, cmid="x", body={"text": "hi"})
        assert isinstance(refused, frames.Error) and refused.code == "forbidden"
        assert (await victim.request(frames.ConvList)).convs == []

        listed = await victim.request(frames.InviteList)
        assert [i.conv for i in listed.invitations] == [conv] and not listed.more
        accepted = await victim.request(frames.InviteAccept, conv=conv)
        assert isinstance(accepted, frames.ConvResult) and accepted.conv.conv == conv
        joined = await victim.expect(frames.ConvEvent, event="joined")
        assert joined.conv.conv == conv
        page = await victim.request(frames.History, conv=conv)
        assert [m.body.get("text") for m in page.messages if m.kind != "system"] == ["before you came"]
        again = await victim.request(frames.InviteAccept, conv=conv)
        assert isinstance(again, frames.ConvResult), "accept is idempotent once a member"
        assert (await victim.request(frames.InviteList)).invitations == []
        ack = await victim.request(frames.Send, conv=conv, cmid="x2", body={"text": "thanks"})
        assert isinstance(ack, frames.Ack)
        for c in (alice, victim):
            await c.close()


async def test_contacts_are_added_at_once_and_strangers_on_create_are_invited(tmp_path: Path) -> None:
    async with running_node(tmp_path, add_policy="invite") as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        await alice.request(frames.ConvCreate, kind="direct", members=["bob"])  # bob is a contact
        conv = await _group(alice, ["bob", "stranger"])
        members = await alice.request(frames.MemberList, conv=conv)
        assert sorted(m.user for m in members.members) == ["alice", "bob"]
        stranger = await RawClient.connect(node.url, await node.token("stranger"))
        listed = await stranger.request(frames.InviteList)
        assert [i.conv for i in listed.invitations] == [conv]
        await alice.close()
        await stranger.close()


async def test_decline_removes_the_invitation(tmp_path: Path) -> None:
    async with running_node(tmp_path, add_policy="invite") as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        bob = await RawClient.connect(node.url, await node.token("bob"))
        conv = await _group(alice, ["bob"])
        assert isinstance(await bob.request(frames.InviteDecline, conv=conv), frames.Ok)
        assert (await bob.request(frames.InviteList)).invitations == []
        refused = await bob.request(frames.InviteAccept, conv=conv)
        assert isinstance(refused, frames.Error) and refused.code == "not_found"
        members = await alice.request(frames.MemberList, conv=conv)
        assert [m.user for m in members.members] == ["alice"]
        for c in (alice, bob):
            await c.close()


async def test_an_invitation_expires(tmp_path: Path) -> None:
    async with running_node(tmp_path, add_policy="invite", invite_ttl=1) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        bob = await RawClient.connect(node.url, await node.token("bob"))
        conv = await _group(alice, ["bob"])
        assert len((await bob.request(frames.InviteList)).invitations) == 1
        await asyncio.sleep(1.2)  # past invite_ttl: the invitation no longer exists
        assert (await bob.request(frames.InviteList)).invitations == []
        refused = await bob.request(frames.InviteAccept, conv=conv)
        assert isinstance(refused, frames.Error) and refused.code == "not_found"
        for c in (alice, bob):
            await c.close()


async def test_a_blocked_user_can_never_invite_the_blocker(tmp_path: Path) -> None:
    async with running_node(tmp_path, add_policy="invite") as node:
        mallory = await RawClient.connect(node.url, await node.token("mallory"))
        victim = await RawClient.connect(node.url, await node.token("victim"))
        early = await _group(mallory, ["victim"])  # invited before the block
        await victim.expect(frames.Invited)
        assert isinstance(await victim.request(frames.Block, user="mallory"), frames.Ok)
        refused = await mallory.request(frames.ConvCreate, kind="group", members=["victim"])
        assert isinstance(refused, frames.Error) and refused.code == "blocked"
        refused = await mallory.request(frames.MemberAdd, conv=early, users=["victim"])
        assert isinstance(refused, frames.Error) and refused.code == "blocked"
        assert (await victim.request(frames.InviteList)).invitations == [], "the earlier one is gone"
        refused = await victim.request(frames.InviteAccept, conv=early)
        assert isinstance(refused, frames.Error) and refused.code == "not_found"
        assert not [f for f in victim.backlog if isinstance(f, frames.Invited)]
        for c in (mallory, victim):
            await c.close()


async def test_the_join_quota_applies_on_accept(tmp_path: Path) -> None:
    async with running_node(tmp_path, add_policy="invite", join_quota=1) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        carol = await RawClient.connect(node.url, await node.token("carol"))
        bob = await RawClient.connect(node.url, await node.token("bob"))
        first, second = await _group(alice, ["bob"]), await _group(carol, ["bob"])
        assert isinstance(await bob.request(frames.InviteAccept, conv=first), frames.ConvResult)
        refused = await bob.request(frames.InviteAccept, conv=second)
        assert isinstance(refused, frames.Error) and refused.code == "limit_exceeded"
        assert [i.conv for i in (await bob.request(frames.InviteList)).invitations] == [second], "kept"
        for c in (alice, carol, bob):
            await c.close()


async def test_two_accepts_at_once_make_one_join(tmp_path: Path) -> None:
    async with running_node(tmp_path, add_policy="invite") as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        phone = await RawClient.connect(node.url, await node.token("bob"), device="phone")
        laptop = await RawClient.connect(node.url, await node.token("bob"), device="laptop")
        conv = await _group(alice, ["bob"])
        await phone.send(frames.InviteAccept(id=901, conv=conv))
        await laptop.send(frames.InviteAccept(id=902, conv=conv))
        assert isinstance(await phone.expect(frames.ConvResult, id=901), frames.ConvResult)
        assert isinstance(await laptop.expect(frames.ConvResult, id=902), frames.ConvResult)
        page = await alice.request(frames.History, conv=conv)
        added = [m for m in page.messages if m.kind == "system" and m.body.get("event") == "members_added"]
        assert len(added) == 1, "one join"
        for c in (alice, phone, laptop):
            await c.close()


async def test_the_invitation_reaches_another_node_and_two_nodes_accepting_join_once(
    tmp_path: Path, redis_url: str, mongo_url: str, mongo_db: str
) -> None:
    shared = {
        "redis_url": redis_url,
        "mongo_url": mongo_url,
        "mongo_database": mongo_db,
        "add_policy": "invite",
    }
    async with running_node(tmp_path, node_id="n1", **shared) as one:  # noqa: SIM117 - two needs one's app
        async with running_node(tmp_path, node_id="n2", app=(one.app, one.api_key), **shared) as two:
            alice = await RawClient.connect(one.url, await one.token("alice"))
            bob = await RawClient.connect(two.url, await two.token("bob"))
            conv = await _group(alice, ["bob"])
            invited = await bob.expect(frames.Invited, timeout=10)
            assert invited.invitation.conv == conv
            assert isinstance(await bob.request(frames.InviteAccept, conv=conv), frames.ConvResult)
            assert (await bob.expect(frames.ConvEvent, event="joined", timeout=10)).conv.conv == conv
            ack = await alice.request(frames.Send, conv=conv, cmid="a1", body={"text": "welcome"})
            got = await bob.expect(frames.Msg, timeout=10)
            while got.m.seq != ack.seq:
                got = await bob.expect(frames.Msg, timeout=10)
            # dan's two devices, one on each node, accept his invitation at once: one join
            phone = await RawClient.connect(two.url, await two.token("dan"))
            laptop = await RawClient.connect(one.url, await one.token("dan"))
            second = await _group(alice, ["dan"])
            await phone.send(frames.InviteAccept(id=801, conv=second))
            await laptop.send(frames.InviteAccept(id=802, conv=second))
            assert isinstance(await phone.expect(frames.ConvResult, id=801, timeout=10), frames.ConvResult)
            assert isinstance(await laptop.expect(frames.ConvResult, id=802, timeout=10), frames.ConvResult)
            page = await alice.request(frames.History, conv=second)
            events = [m.body.get("event") for m in page.messages if m.kind == "system"]
            assert events.count("members_added") == 1, events
            for c in (alice, bob, phone, laptop):
                await c.close()


async def test_unanswered_invitations_are_capped_per_user(tmp_path: Path) -> None:
    async with running_node(tmp_path, add_policy="invite", invites_pending_max=2) as node:
        mallory = await RawClient.connect(node.url, await node.token("mallory"))
        victim = await RawClient.connect(node.url, await node.token("victim"))
        first = await _group(mallory, ["victim"])
        await _group(mallory, ["victim"])
        refused = await mallory.request(frames.ConvCreate, kind="group", members=["victim", "carol"])
        assert isinstance(refused, frames.Error) and refused.code == "limit_exceeded"
        assert "victim" in refused.message and "carol" not in refused.message
        assert len((await mallory.request(frames.ConvList)).convs) == 2, "no group was created"
        conv = await _group(mallory, [])
        refused = await mallory.request(frames.MemberAdd, conv=conv, users=["victim"])
        assert isinstance(refused, frames.Error) and refused.code == "limit_exceeded"
        assert len((await victim.request(frames.InviteList)).invitations) == 2
        await victim.request(frames.InviteDecline, conv=first)  # answering frees a place
        assert isinstance(await mallory.request(frames.MemberAdd, conv=conv, users=["victim"]), frames.Ok)
        for c in (mallory, victim):
            await c.close()


async def test_blocking_the_inviter_frees_the_places_their_invitations_held(tmp_path: Path) -> None:
    async with running_node(tmp_path, add_policy="invite", invites_pending_max=2) as node:
        mallory = await RawClient.connect(node.url, await node.token("mallory"))
        carol = await RawClient.connect(node.url, await node.token("carol"))
        victim = await RawClient.connect(node.url, await node.token("victim"))
        await _group(mallory, ["victim"])
        await _group(mallory, ["victim"])
        refused = await carol.request(frames.ConvCreate, kind="group", members=["victim"])
        assert isinstance(refused, frames.Error) and refused.code == "limit_exceeded"
        assert isinstance(await victim.request(frames.Block, user="mallory"), frames.Ok)
        conv = await _group(carol, ["victim"])  # no need to list or decline first
        assert [i.inviter for i in (await victim.request(frames.InviteList)).invitations] == ["carol"]
        assert conv
        for c in (mallory, carol, victim):
            await c.close()
