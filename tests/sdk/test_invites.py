"""Invitations through the SDK against a real node under the ``invite`` add policy."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from parley.sdk import AdminClient, Client, ConversationEvent, Invitation, InvitationEvent, ReplyError
from tests.harness import RunningNode, running_node
from tests.sdk.helpers import first

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path, add_policy="invite") as running:
        yield running


@asynccontextmanager
async def user(node: RunningNode, name: str) -> AsyncIterator[Client]:
    client = Client(node.url, token=await node.token(name), min_reconnect_delay=0.02, max_reconnect_delay=0.2)
    async with client:
        yield client


async def test_the_invitee_gets_an_event_lists_and_accepts(node: RunningNode) -> None:
    async with user(node, "ann") as ann, user(node, "bob") as bob:
        invites = bob.events(InvitationEvent)
        joins = bob.events(ConversationEvent)
        group = await ann.create_group("club", ["bob"])
        assert [m.user for m in group.members] == ["ann"], "bob is invited, not added"
        got = await first(invites, lambda e: e.invitation.conv == group.conv)
        assert isinstance(got.invitation, Invitation)
        assert (got.invitation.inviter, got.invitation.name, got.invitation.role) == ("ann", "club", "member")
        assert [i.conv for i in await bob.invitations()] == [group.conv]
        with pytest.raises(ReplyError) as refused:
            await bob.history(group.conv)
        assert refused.value.code == "forbidden"

        joined = await bob.accept_invitation(group.conv)
        assert joined.conv == group.conv and {m.user for m in joined.members} == {"ann", "bob"}
        event = await first(joins, lambda e: e.event == "joined")
        assert event.conversation.conv == group.conv
        assert await bob.invitations() == []
        assert (await bob.accept_invitation(group.conv)).conv == group.conv, "idempotent"


async def test_decline_and_paging_through_many_invitations(node: RunningNode) -> None:
    async with user(node, "ann") as ann, user(node, "bob") as bob:
        groups = [(await ann.create_group(f"g{i}", ["bob"])).conv for i in range(7)]
        page, more = await bob.invitation_page(limit=3)
        assert len(page) == 3 and more
        assert sorted(i.conv for i in await bob.invitations()) == sorted(groups)
        await bob.decline_invitation(groups[0])
        await bob.decline_invitation(groups[0])  # no error when there is none
        assert groups[0] not in {i.conv for i in await bob.invitations()}
        with pytest.raises(ReplyError) as refused:
            await bob.accept_invitation(groups[0])
        assert refused.value.code == "not_found"


async def test_two_devices_accepting_at_once_join_once(node: RunningNode) -> None:
    async with user(node, "ann") as ann, user(node, "bob") as phone, user(node, "bob") as laptop:
        group = await ann.create_group("club", ["bob"])
        one, two = await asyncio.gather(
            phone.accept_invitation(group.conv), laptop.accept_invitation(group.conv)
        )
        assert one.conv == two.conv == group.conv
        page = await ann.history(group.conv)
        added = [m for m in page.messages if m.kind == "system" and m.body.get("event") == "members_added"]
        assert len(added) == 1


async def test_an_app_turns_invitations_on_through_the_admin_client(tmp_path: Path) -> None:
    async with running_node(tmp_path) as plain:  # the server's default: anyone
        async with AdminClient(plain.http, plain.api_key) as admin:
            assert (await admin.set_policy(add="invite")).add == "invite"
        async with user(plain, "ann") as ann, user(plain, "bob") as bob:
            group = await ann.create_group("club", ["bob"])
            assert [m.user for m in group.members] == ["ann"]
            assert [i.conv for i in await bob.invitations()] == [group.conv]
