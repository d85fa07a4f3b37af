"""AdminClient against the real admin API, and a user's Client seeing what the back-end does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.sdk import AdminClient, AdminError, Client, MessageEvent
from tests.harness import RunningNode
from tests.sdk.helpers import take

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def admin(node: RunningNode) -> AsyncIterator[AdminClient]:
    async with AdminClient(node.http, node.api_key) as client:
        yield client


async def test_users_and_tokens_let_an_app_user_connect(node: RunningNode, admin: AdminClient) -> None:
    created = await admin.create_user("alice", name="Alice", meta={"tier": "gold"})
    assert (created.user, created.name, created.role, created.meta) == (
        "alice",
        "Alice",
        "user",
        {"tier": "gold"},
    )
    assert (await admin.get_user("alice")).name == "Alice"
    await admin.create_user("helper", role="agent")
    token = await admin.create_token("alice", ttl=600)
    assert token.expires > 0
    async with Client(node.url, token=token.token) as alice:
        assert alice.user == "alice"


async def test_backend_messages_reach_the_user_in_real_time(node: RunningNode, admin: AdminClient) -> None:
    await admin.create_user("alice")
    token = (await admin.create_token("alice")).token
    async with Client(node.url, token=token) as alice:
        inbox = alice.events(MessageEvent)
        group = await admin.create_conversation("group", ["alice", "bob"], name="Team", owner="bob")
        assert group.kind == "group" and {m.user for m in group.members} >= {"alice", "bob"}
        sent = await admin.send(group.conv, {"text": "from the back-end"}, sender="bob", cmid="b1")
        again = await admin.send(group.conv, {"text": "from the back-end"}, sender="bob", cmid="b1")
        assert again.seq == sent.seq and again.mid == sent.mid, "idempotent on cmid"
        pushed = await admin.send_to_user("alice", {"text": "your order shipped"})
        assert pushed.sender == "system"
        events = await take(inbox, 2, timeout=10)  # the join point is after the "created" event
        texts = [e.message.text for e in events if e.message.kind == "text"]
        assert "from the back-end" in texts and "your order shipped" in texts
        assert texts.count("from the back-end") == 1
        summaries = await admin.user_conversations("alice")
        assert {s.conv for s in summaries} >= {group.conv, pushed.conv}


async def test_members_history_and_export(node: RunningNode, admin: AdminClient) -> None:
    conv = await admin.create_conversation("group", ["alice"], name="Logs", owner="alice")
    assert await admin.add_members(conv.conv, ["bob", "carol"]) == ["bob", "carol"]
    await admin.remove_member(conv.conv, "carol")
    members = {m.user for m in (await admin.get_conversation(conv.conv)).members}
    assert members == {"alice", "bob"}
    for i in range(7):
        await admin.send(conv.conv, {"text": str(i)}, sender="alice")
    last = (await admin.get_conversation(conv.conv)).last_seq
    page = await admin.messages(conv.conv, after=0, limit=4)
    assert [m.seq for m in page.messages] == [1, 2, 3, 4] and page.more
    rest = await admin.messages(conv.conv, after=4, limit=100)
    assert [m.seq for m in rest.messages] == list(range(5, last + 1)) and not rest.more
    exported = [m async for m in admin.export(conv.conv)]
    assert [m.seq for m in exported] == list(range(1, last + 1))


async def test_problems_become_admin_errors(node: RunningNode, admin: AdminClient) -> None:
    with pytest.raises(AdminError) as info:
        await admin.get_conversation("c_missing")
    assert info.value.status == 404 and info.value.code == "not_found"
    with pytest.raises(AdminError) as info:
        await admin.create_conversation("group", ["alice"], name="x" * 500)
    assert info.value.status == 422
    async with AdminClient(node.http, "pk_wrong") as wrong:
        with pytest.raises(AdminError) as info:
            await wrong.get_user("alice")
        assert info.value.status == 401 and info.value.code == "token_invalid"
    with pytest.raises(AdminError):
        [m async for m in admin.export("c_missing")]
