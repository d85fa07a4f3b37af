"""InvitationService as a unit (SQLite, in-process broker): who is invited, what accepting
checks, and what lapses an invitation."""

from __future__ import annotations

import msgspec
import pytest

from parley.proto import frames
from parley.proto.errors import ErrorCode
from parley.server.services.conversations import ConversationService
from parley.server.services.invites import InvitationService
from parley.server.services.messages import MessageService
from parley.server.services.reach import ReachPolicy
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import Wire, refused

A = "app1"


@pytest.fixture
def convs(store: SQLiteStore, wire: Wire) -> ConversationService:
    return ConversationService(store, wire.broker, MessageService(store, wire.broker), max_members=3)


@pytest.fixture
def invites(store: SQLiteStore, wire: Wire, convs: ConversationService) -> InvitationService:
    reach = ReachPolicy(store, add="invite", join_quota=5)
    return InvitationService(store, wire.broker, convs, reach, ttl=60)


async def _members(convs: ConversationService, conv: str) -> list[str]:
    return sorted(m.user for m in (await convs.view(A, conv)).members)


async def test_only_strangers_of_a_group_are_invited_and_told_through_the_control_channel(
    invites: InvitationService, convs: ConversationService, wire: Wire
) -> None:
    await convs.create(A, "ann", "direct", ["bob"])
    await wire.watch("m:app1:bob", "m:app1:cy")
    group = (await invites.create(A, "ann", "group", ["bob", "cy"], name="g")).conversation.conv
    assert await _members(convs, group) == ["ann", "bob"], "bob is a contact: added"
    [control] = await wire.control(A, "cy")
    assert control.op == "notify" and control.conv == group
    event = msgspec.msgpack.decode(control.frame, type=frames.Invited)
    assert (event.invitation.conv, event.invitation.inviter, event.invitation.name) == (group, "ann", "g")
    assert event.invitation.expires - event.invitation.created == 60_000
    assert [c.op for c in await wire.control(A, "bob")] == ["join"], "the group (watched after the direct)"
    direct = await invites.create(A, "dee", "direct", ["eve"])
    assert await _members(convs, direct.conversation.conv) == ["dee", "eve"], "direct chats never invite"


async def test_accept_lapses_when_the_inviter_no_longer_manages_the_group(
    invites: InvitationService, convs: ConversationService
) -> None:
    group = (await invites.create(A, "ann", "group", ["cy"])).conversation.conv
    await convs.add_members(A, "ann", group, ["bob"], "admin")
    await invites.add_members(A, "bob", group, ["dee"], "member")
    await convs.set_role(A, "ann", group, "bob", "member")  # bob may no longer add
    with refused(ErrorCode.NOT_FOUND, "no longer valid"):
        await invites.accept(A, "dee", group)
    assert await invites.pending(A, "dee", after="", limit=10) == ([], False), "the invitation lapsed"
    assert (await invites.accept(A, "cy", group)).conversation.conv == group, "ann's still holds"


async def test_a_full_group_keeps_the_invitation_for_later(
    invites: InvitationService, convs: ConversationService
) -> None:
    group = (await invites.create(A, "ann", "group", ["bob", "cy", "dee"])).conversation.conv
    await convs.add_members(A, "ann", group, ["x", "y"], "member")  # 3 of max 3
    with refused(ErrorCode.LIMIT_EXCEEDED):
        await invites.accept(A, "bob", group)
    assert [i.conv for i in (await invites.pending(A, "bob", after="", limit=10))[0]] == [group]
    await convs.remove_members(A, "ann", group, ["x"])
    await invites.accept(A, "bob", group)
    assert "bob" in await _members(convs, group)


async def test_inviting_checks_the_manager_and_never_grants_ownership(
    invites: InvitationService, convs: ConversationService
) -> None:
    group = (await invites.create(A, "ann", "group", [])).conversation.conv
    with refused(ErrorCode.FORBIDDEN):
        await invites.add_members(A, "mallory", group, ["bob"], "member")
    with refused(ErrorCode.INVALID_REQUEST, "ownership"):
        await invites.add_members(A, "ann", group, ["bob"], "owner")
    with refused(ErrorCode.NOT_FOUND):
        await invites.accept(A, "bob", group)


async def test_a_large_add_invites_everyone_in_one_batch(
    invites: InvitationService, convs: ConversationService, store: SQLiteStore, wire: Wire
) -> None:
    group = (await invites.create(A, "ann", "group", [])).conversation.conv
    users = [f"u{n:03}" for n in range(500)]
    await wire.watch("m:app1:u000", "m:app1:u499")
    await invites.add_members(A, "ann", group, users, "member")
    assert await _members(convs, group) == ["ann"]
    counts = await store.count_invitations(A, users, 0)
    assert len(counts) == 500 and set(counts.values()) == {1}
    for user in ("u000", "u499"):
        assert [c.op for c in await wire.control(A, user)] == ["notify"]
