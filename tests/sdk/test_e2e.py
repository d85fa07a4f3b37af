"""The SDK against a real gateway on loopback: quick start, messaging, resume, receipts, presence."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from parley.proto.errors import CloseCode
from parley.sdk import (
    Client,
    ClientClosed,
    ClientState,
    ConnectionStateEvent,
    ConversationEvent,
    EditEvent,
    MessageEvent,
    PresenceEvent,
    RecallEvent,
    ReceiptEvent,
    ReplyError,
    TypingEvent,
)
from parley.server.auth.tokens import issue_token
from tests.harness import RunningNode
from tests.sdk.helpers import first, take, until

pytestmark = pytest.mark.timeout(30)


@asynccontextmanager
async def user(node: RunningNode, name: str, **kw: object) -> AsyncIterator[Client]:
    client = Client(
        node.url, token=await node.token(name), min_reconnect_delay=0.02, max_reconnect_delay=0.2,
        device=kw.pop("device", "test"), **kw,  # type: ignore[arg-type]
    )  # fmt: skip
    async with client:
        yield client


def texts(events: list[MessageEvent]) -> list[str | None]:
    return [e.message.text for e in events]


async def test_quick_start(node: RunningNode) -> None:
    token, bob_token = await node.token("alice"), await node.token("bob")
    async with Client(node.url, token=bob_token) as bob:
        inbox = bob.events(MessageEvent)
        # --- the ten lines an app developer writes ---
        async with Client(node.url, token=token) as client:
            conv = await client.create_direct("bob")
            sent = await client.send(conv.conv, "hello bob")
            history = await client.history(conv.conv)
        # ---------------------------------------------
        (event,) = await take(inbox, 1)
        assert event.message == sent and history.messages == (sent,)
        assert client.state is ClientState.CLOSED


async def test_send_and_receive_both_ways_with_handlers_and_streams(node: RunningNode) -> None:
    async with user(node, "alice") as alice, user(node, "bob") as bob:
        got: list[str | None] = []

        @bob.on(MessageEvent)
        async def on_message(event: MessageEvent) -> None:
            got.append(event.message.text)

        alice_inbox = alice.events(MessageEvent)
        conv = (await alice.create_direct("bob")).conv
        for i in range(5):
            await alice.send(conv, f"a{i}")
            await bob.send(conv, f"b{i}")
        await until(lambda: len(got) == 10)
        mine = await take(alice_inbox, 10)
        assert [e.message.seq for e in mine] == list(range(1, 11)), (
            "own messages (from their acks) in seq order"
        )
        assert got == texts(mine) == [x for i in range(5) for x in (f"a{i}", f"b{i}")]
        rich = await alice.send(
            conv, kind="rich", body={"type": "image", "url": "https://x/y.png"}, mentions=["bob"]
        )
        assert rich.kind == "rich" and rich.mentions == ("bob",)
        with pytest.raises(ReplyError) as info:
            await alice.send(conv, kind="rich", body={"type": "image"})
        assert info.value.code == "invalid_request"


async def test_history_pages_back_and_forth(node: RunningNode) -> None:
    async with user(node, "alice") as alice:
        conv = (await alice.create_direct("bob")).conv
        for i in range(12):
            await alice.send(conv, str(i))
        latest = await alice.history(conv, limit=5)
        assert [m.seq for m in latest.messages] == [8, 9, 10, 11, 12] and latest.more
        seen = list(latest.messages)
        before = latest.messages[0].seq
        while True:
            page = await alice.history(conv, before=before, limit=5)
            seen = list(page.messages) + seen
            if not page.more:
                break
            before = page.messages[0].seq
        assert [m.seq for m in seen] == list(range(1, 13))
        forward = await alice.history(conv, after=10)
        assert [m.text for m in forward.messages] == ["10", "11"] and not forward.more


@pytest.mark.parametrize("how", ["client drops", "server closes 4008", "server closes 1012"])
async def test_receiver_reconnects_mid_stream_without_loss_or_duplicates(node: RunningNode, how: str) -> None:
    async with user(node, "alice") as alice, user(node, "bob") as bob:
        conv = (await alice.create_direct("bob")).conv
        inbox = bob.events(MessageEvent)
        states = bob.events(ConnectionStateEvent)
        total = 60
        for i in range(total):
            await alice.send(conv, str(i))
            if i == 20:
                if how == "client drops":
                    await bob._conn.drop()
                else:
                    code = CloseCode.SLOW_CONSUMER if "4008" in how else CloseCode.SERVICE_RESTART
                    for conn in node.node.hub.devices(node.app.app, "bob"):
                        conn.close(code, how)
        events = await take(inbox, total, timeout=15)
        assert texts(events) == [str(i) for i in range(total)]
        assert [e.message.seq for e in events] == list(range(1, total + 1))
        await first(states, lambda e: e.state is ClientState.CONNECTING)
        await until(lambda: bob.state is ClientState.CONNECTED)
        await alice.send(conv, "after")
        (last,) = await take(inbox, 1)
        assert last.message.seq == total + 1


async def test_sender_connection_dies_mid_stream_and_every_send_is_stored_once(node: RunningNode) -> None:
    async with user(node, "alice") as alice, user(node, "bob") as bob:
        conv = (await alice.create_direct("bob")).conv
        inbox = bob.events(MessageEvent)
        total = 40
        sends = [asyncio.create_task(alice.send(conv, str(i), cmid=f"k{i}")) for i in range(total)]
        await asyncio.sleep(0)
        await alice._conn.drop()
        results = await asyncio.gather(*sends)
        assert sorted(m.seq for m in results) == list(range(1, total + 1))
        events = await take(inbox, total, timeout=15)
        assert sorted(e.message.text or "" for e in events) == sorted(str(i) for i in range(total))
        assert [e.message.seq for e in events] == list(range(1, total + 1))
        page = await bob.history(conv, limit=100)
        assert len(page.messages) == total and len({m.cmid for m in page.messages}) == total


async def test_offline_user_catches_up_on_reconnect_including_new_conversations(node: RunningNode) -> None:
    async with user(node, "alice") as alice:
        direct = (await alice.create_direct("bob")).conv
        await alice.send(direct, "before")
        async with user(node, "bob") as bob:
            assert bob.positions[direct][0] == 1, "first connect: server positions are the baseline"
            saved = bob.positions  # an app may persist these across restarts
        group = (await alice.create_group("team", ["bob"])).conv
        await alice.send(direct, "while away 1")
        await alice.send(group, "welcome to team")
        await alice.send(direct, "while away 2")
        async with Client(node.url, token=await node.token("bob"), positions=saved) as bob2:
            # Events of the resume (before anyone listened) wait for the first consumer.
            caught = bob2.events(MessageEvent)
            events = await take(caught, 4)  # includes the group's "created" system message
        by_conv: dict[str, list[str | None]] = {}
        for e in events:
            by_conv.setdefault(e.message.conv, []).append(e.message.text or e.message.kind)
        assert by_conv[direct] == ["while away 1", "while away 2"]
        assert by_conv[group][-1] == "welcome to team"


async def test_edit_recall_typing_and_receipts(node: RunningNode) -> None:
    async with user(node, "alice") as alice, user(node, "bob") as bob:
        conv = (await alice.create_direct("bob")).conv
        stream = bob.events(MessageEvent, EditEvent, RecallEvent, TypingEvent)
        receipts = alice.events(ReceiptEvent)
        await alice.typing(conv)
        typing = await first(stream, lambda e: isinstance(e, TypingEvent))
        assert (typing.user, typing.on) == ("alice", True)
        m = await alice.send(conv, "helo")
        edited = await alice.edit(conv, m.seq, "hello")
        assert edited is not None and edited.kind == "edit" and edited.target == m.seq
        await alice.recall(conv, m.seq)
        edit = await first(stream, lambda e: isinstance(e, EditEvent))
        recall = await first(stream, lambda e: isinstance(e, RecallEvent))
        assert (edit.target, edit.body) == (m.seq, {"text": "hello"}) and recall.target == m.seq
        with pytest.raises(ReplyError) as info:
            await bob.edit(conv, m.seq, "not yours")
        assert info.value.code in ("forbidden", "invalid_request") and not info.value.temporary
        await bob.read(conv, recall.message.seq)
        receipt = await first(receipts, lambda e: e.user == "bob")
        assert receipt.seq == recall.message.seq
        (summary,) = [s for s in await bob.conversations() if s.conv == conv]
        assert summary.unread == 0 and summary.last_seq == recall.message.seq


async def test_presence_subscription_survives_reconnect(node: RunningNode) -> None:
    async with user(node, "alice") as alice:
        presence = alice.events(PresenceEvent)
        await alice.create_group("contacts", ["bob"])  # presence is for users sharing a conversation
        await alice.subscribe_presence(["bob"])
        assert not (await first(presence, lambda e: e.user == "bob")).online
        async with user(node, "bob"):
            assert (await first(presence, lambda e: e.user == "bob")).online
            await alice._conn.drop()
            await until(lambda: alice.state is ClientState.CONNECTING)
            await until(lambda: alice.state is ClientState.CONNECTED)
            assert (await first(presence, lambda e: e.user == "bob")).online, "re-subscribed"
        offline = await first(presence, lambda e: e.user == "bob" and not e.online)
        assert offline.last_seen > 0


async def test_conversation_management(node: RunningNode) -> None:
    async with user(node, "alice") as alice, user(node, "bob") as bob, user(node, "carol") as carol:
        bob_convs = bob.events(ConversationEvent)
        group = await alice.create_group("team", ["bob"], meta={"topic": "x"})
        assert group.kind == "group" and {m.user for m in group.members} == {"alice", "bob"}
        joined = await first(bob_convs, lambda e: e.event == "joined")
        assert joined.conversation.conv == group.conv
        renamed = await alice.update_conversation(group.conv, name="team 2")
        assert renamed.name == "team 2"
        assert (await first(bob_convs, lambda e: e.event == "updated")).conversation.name == "team 2"
        await alice.add_members(group.conv, ["carol"])
        await alice.set_role(group.conv, "bob", "admin")
        roles = {m.user: m.role for m in (await carol.conversation(group.conv)).members}
        assert roles == {"alice": "owner", "bob": "admin", "carol": "member"}
        await bob.remove_members(group.conv, ["carol"])
        with pytest.raises(ReplyError):
            await carol.send(group.conv, "am I still here?")
        await bob.leave(group.conv)
        assert (await first(bob_convs, lambda e: e.event == "left")).conversation.conv == group.conv
        assert group.conv not in bob.positions
        assert group.conv in {s.conv for s in await alice.conversations()}
        support = await carol.create_support("help me")
        assert support.kind == "support"


async def test_expired_token_is_replaced_through_get_token(node: RunningNode) -> None:
    fresh: list[str] = []

    async def get_token() -> str:
        token = await node.token("alice")
        fresh.append(token)
        return token

    expired, _ = issue_token(node.app, "alice", ttl=-3600)
    async with Client(node.url, token=expired, get_token=get_token, min_reconnect_delay=0.02) as alice:
        assert alice.user == "alice" and len(fresh) == 1


async def test_bad_token_fails_fast(node: RunningNode) -> None:
    client = Client(node.url, token="not-a-token", min_reconnect_delay=0.02)
    with pytest.raises(ClientClosed) as info:
        await client.connect()
    assert isinstance(info.value.error, ReplyError) and info.value.error.code == "token_invalid"


async def test_explicit_reconnect_resumes_and_keeps_working(node: RunningNode) -> None:
    async with user(node, "alice") as alice, user(node, "bob") as bob:
        conv = (await alice.create_direct("bob")).conv
        inbox = bob.events(MessageEvent)
        await alice.send(conv, "one")
        await bob.reconnect()
        await alice.send(conv, "two")
        await until(lambda: bob.state is ClientState.CONNECTED)
        assert texts(await take(inbox, 2)) == ["one", "two"]
        assert (await bob.history(conv)).messages[-1].text == "two"
        await alice.reconnect()
        assert (await alice.send(conv, "three")).seq == 3


async def test_streamed_draft_then_final_message(node: RunningNode) -> None:
    from parley.sdk import DraftEvent

    async with user(node, "bot") as bot, user(node, "carl") as carl:
        conv = (await bot.create_direct("carl")).conv
        stream = carl.events(DraftEvent, MessageEvent)
        for text in ("Ship", "Shipping takes", "Shipping takes 3-5 days."):
            await bot.draft(conv, "ans-1", text)
        final = await bot.send(conv, "Shipping takes 3-5 days.", cmid="ans-1")
        drafts = [await anext(stream) for _ in range(4)]
        assert [type(e).__name__ for e in drafts] == ["DraftEvent"] * 3 + ["MessageEvent"]
        assert drafts[2].body == {"text": "Shipping takes 3-5 days."}
        last = drafts[3]
        assert (
            isinstance(last, MessageEvent) and last.message.cmid == "ans-1" and last.message.seq == final.seq
        )
