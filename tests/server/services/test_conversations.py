"""ConversationService: kinds, membership rules, roles, updates and the list with unread counts."""

from __future__ import annotations

import pytest

from parley.proto.errors import ErrorCode
from parley.server.ids import now_ms
from parley.server.models import NewMessage
from parley.server.services.conversations import ConversationService
from parley.server.services.messages import MessageService
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import Wire, refused

A = "app1"


@pytest.fixture
def convs(store: SQLiteStore, wire: Wire) -> ConversationService:
    messages = MessageService(store, wire.broker)
    return ConversationService(store, wire.broker, messages, max_members=4, support_bot="helper")


async def _events(store: SQLiteStore, conv: str) -> list[str]:
    conversation = await store.get_conversation(A, conv)
    assert conversation is not None
    return [m.body["event"] for m in await store.get_messages(A, conv, 1, conversation.last_seq)]


async def test_kinds_and_sizes_are_checked(convs: ConversationService) -> None:
    with refused(ErrorCode.INVALID_REQUEST, "kind must be one of"):
        await convs.create(A, "alice", "channel", ["bob"])
    for others in ([], ["bob", "carol"], ["alice"]):
        with refused(ErrorCode.INVALID_REQUEST, "exactly one other member"):
            await convs.create(A, "alice", "direct", others)
    with refused(ErrorCode.INVALID_REQUEST, "user-id charset"):
        await convs.create(A, "alice", "direct", ["bob\ncarol"])
    with refused(ErrorCode.LIMIT_EXCEEDED, "at most 4 members"):
        await convs.create(A, "alice", "group", ["b", "c", "d", "e"])
    # The actor and repeated names are not counted twice.
    view = await convs.create(A, "alice", "group", ["alice", "b", "b", "c", "d"])
    assert len(view.members) == 4


async def test_a_group_is_owned_by_its_creator_recorded_and_announced(
    convs: ConversationService, store: SQLiteStore, wire: Wire
) -> None:
    await wire.watch("m:app1:alice", "m:app1:bob")
    view = await convs.create(A, "alice", "group", ["bob"], name="team", meta={"topic": "x"})
    roles = {m.user: m.role for m in view.members}
    assert roles == {"alice": "owner", "bob": "member"}
    assert (view.conversation.name, view.conversation.meta, view.conversation.created_by) == (
        "team",
        {"topic": "x"},
        "alice",
    )
    assert await _events(store, view.conversation.conv) == ["created"]
    for user in ("alice", "bob"):
        (control,) = await wire.control(A, user)
        assert (control.op, control.conv, control.user) == ("join", view.conversation.conv, user)


async def test_a_direct_conversation_is_one_per_pair_and_silent(
    convs: ConversationService, store: SQLiteStore
) -> None:
    first = await convs.create(A, "alice", "direct", ["bob"])
    again = await convs.create(A, "bob", "direct", ["alice"])
    assert again.conversation.conv == first.conversation.conv
    assert {m.role for m in first.members} == {"member"}
    assert first.conversation.last_seq == 0, "no system message in a direct conversation"
    other = await convs.create(A, "alice", "direct", ["carol"])
    assert other.conversation.conv != first.conversation.conv
    conv = first.conversation.conv
    with refused(ErrorCode.FORBIDDEN, "direct conversation cannot change"):
        await convs.add_members(A, "alice", conv, ["carol"])
    with refused(ErrorCode.FORBIDDEN, "direct conversation cannot change"):
        await convs.add_members(A, "system", conv, ["carol"], as_service=True)
    with refused(ErrorCode.FORBIDDEN, "direct conversation cannot change"):
        await convs.remove_members(A, "system", conv, ["bob"], as_service=True)
    with refused(ErrorCode.FORBIDDEN, "cannot be left"):
        await convs.leave(A, "alice", conv)


async def test_a_support_conversation_gives_privilege_only_to_the_service_side(
    convs: ConversationService, store: SQLiteStore
) -> None:
    view = await convs.create(A, "cust", "support", ["friend"], meta={"support": {"state": "agent"}})
    roles = {m.user: m.role for m in view.members}
    assert roles == {"cust": "member", "helper": "admin", "friend": "member"}
    assert view.conversation.meta["support"] == {"state": "bot", "agent": ""}, "the customer cannot set it"
    ticket = await store.get_ticket(A, view.conversation.conv)
    assert ticket is not None and (ticket.customer, ticket.state) == ("cust", "bot")
    # A customer naming the bot does not make it a plain member, nor themselves an admin.
    named = await convs.create(A, "cust2", "support", ["helper"])
    assert {m.user: m.role for m in named.members} == {"cust2": "member", "helper": "admin"}


async def test_only_members_read_and_members_page_in_id_order(convs: ConversationService) -> None:
    conv = (await convs.create(A, "alice", "group", ["dan", "bob", "carol"])).conversation.conv
    with refused(ErrorCode.FORBIDDEN, "not a member"):
        await convs.get(A, "eve", conv)
    with refused(ErrorCode.FORBIDDEN, "not a member"):
        await convs.member_page(A, "eve", conv, after="", limit=10)
    with refused(ErrorCode.NOT_FOUND, "no conversation"):
        await convs.add_members(A, "alice", "c_missing", ["bob"])
    page, more = await convs.member_page(A, "bob", conv, after="", limit=2)
    assert ([m.user for m in page], more) == (["alice", "bob"], True)
    page, more = await convs.member_page(A, "bob", conv, after="bob", limit=2)
    assert ([m.user for m in page], more) == (["carol", "dan"], False)
    assert await convs.is_member(A, conv, "dan") and not await convs.is_member(A, conv, "eve")


async def test_adding_members_needs_a_manager_a_plain_role_and_room(
    convs: ConversationService, store: SQLiteStore, wire: Wire
) -> None:
    conv = (await convs.create(A, "alice", "group", ["bob"])).conversation.conv
    with refused(ErrorCode.FORBIDDEN, "may not manage"):
        await convs.add_members(A, "bob", conv, ["carol"])
    with refused(ErrorCode.FORBIDDEN, "not a member"):
        await convs.add_members(A, "eve", conv, ["carol"])
    with refused(ErrorCode.INVALID_REQUEST, "ownership is transferred"):
        await convs.add_members(A, "alice", conv, ["carol"], role="owner")
    with refused(ErrorCode.LIMIT_EXCEEDED, "at most 4 members"):
        await convs.add_members(A, "alice", conv, ["c", "d", "e"])
    await wire.watch("m:app1:carol")
    assert await convs.add_members(A, "alice", conv, ["carol", "carol"], role="admin") == ["carol"]
    assert (await store.get_member(A, conv, "carol")).role == "admin"  # type: ignore[union-attr]
    # Adding someone already there changes nothing and records nothing.
    assert await convs.add_members(A, "carol", conv, ["bob"]) == []
    assert await _events(store, conv) == ["created", "members_added"]
    assert [c.op for c in await wire.control(A, "carol")] == ["join"]
    # The app's back-end adds without being a member.
    assert await convs.add_members(A, "system", conv, ["dan"], as_service=True) == ["dan"]


async def test_only_the_owner_removes_the_owner(
    convs: ConversationService, store: SQLiteStore, wire: Wire
) -> None:
    conv = (await convs.create(A, "alice", "group", ["bob", "carol"])).conversation.conv
    await convs.add_members(A, "alice", conv, ["dan"], role="admin")
    with refused(ErrorCode.FORBIDDEN, "only the owner may remove the owner"):
        await convs.remove_members(A, "dan", conv, ["alice"])
    with refused(ErrorCode.FORBIDDEN, "may not manage"):
        await convs.remove_members(A, "bob", conv, ["carol"])
    await wire.watch("m:app1:carol")
    assert await convs.remove_members(A, "dan", conv, ["carol", "nobody"]) == ["carol"]
    assert [c.op for c in await wire.control(A, "carol")] == ["leave"]
    assert await convs.remove_members(A, "dan", conv, ["carol"]) == [], "removing twice removes nothing"
    assert await convs.remove_members(A, "alice", conv, ["dan"]) == ["dan"]
    assert await _events(store, conv) == ["created", "members_added", "members_removed", "members_removed"]


async def test_an_owner_who_leaves_hands_ownership_to_an_admin_first_then_the_longest_member(
    convs: ConversationService, store: SQLiteStore
) -> None:
    conv = (await convs.create(A, "alice", "group", ["bob"])).conversation.conv
    await convs.add_members(A, "alice", conv, ["carol"], role="admin")
    await convs.leave(A, "alice", conv)
    assert {m.user: m.role for m in await store.list_members(A, conv)} == {"bob": "member", "carol": "owner"}
    await convs.leave(A, "carol", conv)
    assert {m.user: m.role for m in await store.list_members(A, conv)} == {"bob": "owner"}
    with refused(ErrorCode.FORBIDDEN, "not a member"):
        await convs.leave(A, "carol", conv)
    assert (await _events(store, conv))[-2:] == ["member_left", "member_left"]


async def test_only_the_owner_changes_roles_and_giving_ownership_demotes_them(
    convs: ConversationService, store: SQLiteStore, wire: Wire
) -> None:
    conv = (await convs.create(A, "alice", "group", ["bob"])).conversation.conv
    await convs.add_members(A, "alice", conv, ["carol"], role="admin")
    with refused(ErrorCode.FORBIDDEN, "only the owner may change roles"):
        await convs.set_role(A, "carol", conv, "bob", "admin")
    with refused(ErrorCode.INVALID_REQUEST, "own role"):
        await convs.set_role(A, "alice", conv, "alice", "member")
    with refused(ErrorCode.NOT_FOUND, "is not a member"):
        await convs.set_role(A, "alice", conv, "eve", "admin")
    await wire.watch(f"c:{A}:{conv}")
    await convs.set_role(A, "alice", conv, "bob", "owner")
    roles = {m.user: m.role for m in await store.list_members(A, conv)}
    assert (roles["alice"], roles["bob"]) == ("admin", "owner")
    kinds = [(f["t"], f.get("event")) for f in await wire.conv(A, conv)]
    assert ("conv_event", "updated") in kinds


async def test_updates_need_a_manager_and_never_touch_the_support_state(
    convs: ConversationService, store: SQLiteStore, wire: Wire
) -> None:
    conv = (await convs.create(A, "alice", "group", ["bob"])).conversation.conv
    with refused(ErrorCode.FORBIDDEN, "may not manage"):
        await convs.update(A, "bob", conv, name="mine", meta=None)
    await wire.watch(f"c:{A}:{conv}")
    view = await convs.update(A, "alice", conv, name="renamed", meta=None)
    assert view.conversation.name == "renamed"
    updated = [f for f in await wire.conv(A, conv) if f["t"] == "conv_event"]
    assert updated and updated[-1]["conv"]["name"] == "renamed"
    assert (await _events(store, conv))[-1] == "updated"

    support = (await convs.create(A, "cust", "support", [])).conversation.conv
    with refused(ErrorCode.FORBIDDEN, "meta.support follows the ticket"):
        await convs.update(A, "helper", support, name=None, meta={"support": {"state": "resolved"}})
    # Other meta is the manager's; the support state is kept as the ticket has it.
    view = await convs.update(A, "helper", support, name=None, meta={"lang": "fr"})
    assert view.conversation.meta == {"lang": "fr", "support": {"state": "bot", "agent": ""}}
    stored = await store.get_conversation(A, support)
    assert stored is not None and stored.meta["support"] == {"state": "bot", "agent": ""}


async def test_the_list_counts_unread_previews_the_last_message_and_pages(
    convs: ConversationService, store: SQLiteStore, wire: Wire
) -> None:
    messages = MessageService(store, wire.broker)
    small = ConversationService(store, wire.broker, messages, max_members=4, preview_bytes=64)
    first = (await small.create(A, "alice", "group", ["bob"])).conversation.conv
    second = (await small.create(A, "bob", "group", ["alice"])).conversation.conv
    # Stamped later than anything else here, so the order does not hang on the clock's resolution.
    later = NewMessage(app=A, conv=first, mid="m1", sender="bob", cmid="k1", kind="text",
                       body={"text": "x" * 500}, ts=now_ms() + 60_000)  # fmt: skip
    await store.append([later])
    await store.set_read(A, first, "alice", 1)  # read the "created" event only
    summaries, more = await small.list_for_user(A, "alice")
    assert not more
    assert [s.conv for s in summaries] == [first, second], "newest activity first"
    top = summaries[0]
    assert (top.last_seq, top.read, top.unread) == (2, 1, 1)
    assert top.last is not None and top.last.sender == "bob"
    assert len(repr(top.last.body)) < 500, "the preview is bounded"
    ordered = sorted([first, second])
    page, more = await small.list_for_user(A, "alice", limit=1)
    assert ([s.conv for s in page], more) == ([ordered[0]], True)
    page, more = await small.list_for_user(A, "alice", after=ordered[0], limit=1)
    assert ([s.conv for s in page], more) == ([ordered[1]], False)
    assert await small.list_for_user(A, "eve") == ([], False)


async def test_adding_members_already_there_to_a_full_group_is_a_no_op(
    convs: ConversationService, store: SQLiteStore
) -> None:
    conv = (await convs.create(A, "alice", "group", ["bob", "carol", "dan"])).conversation.conv  # full: 4
    # A back-end retrying an add that already happened must not be told the group is full.
    assert await convs.add_members(A, "system", conv, ["bob", "carol"], as_service=True) == []
    with refused(ErrorCode.LIMIT_EXCEEDED, "at most 4 members"):
        await convs.add_members(A, "system", conv, ["bob", "erin"], as_service=True)
    assert len(await store.list_members(A, conv)) == 4
