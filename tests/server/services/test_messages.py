"""MessageService: validation, seq and idempotency, fan-out of the stored frame, edit and recall rules."""

from __future__ import annotations

import asyncio

import pytest

from parley.proto.errors import ErrorCode
from parley.server.models import Conversation, Member
from parley.server.services.messages import MessageService
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import Wire, refused

A, C = "app1", "c1"


@pytest.fixture
async def messages(store: SQLiteStore, wire: Wire) -> MessageService:
    await store.create_conversation(
        Conversation(app=A, conv=C, kind="group", epoch="e", created=1),
        [Member(A, C, "alice", "owner", 1), Member(A, C, "bob", "member", 1)],
    )
    await wire.watch(f"c:{A}:{C}")
    return MessageService(store, wire.broker, max_body=200)


async def test_a_send_is_stored_with_the_next_seq_and_its_frame_published_once(
    messages: MessageService, store: SQLiteStore, wire: Wire
) -> None:
    first = await messages.send(A, "alice", C, kind="text", body={"text": "hi"}, mentions=["bob", "bob"])
    second = await messages.send(A, "bob", C, kind="text", body={"text": "yo"})
    assert (first.message.seq, second.message.seq) == (1, 2)
    assert first.message.mentions == ("bob",), "mentions are deduplicated"
    assert first.message.cmid == first.message.mid, "no cmid: the mid stands in"
    published = await wire.conv(A, C)
    assert [(f["t"], f["m"]["seq"], f["m"]["body"]) for f in published] == [
        ("msg", 1, {"text": "hi"}),
        ("msg", 2, {"text": "yo"}),
    ]
    assert messages.persisted == 2
    stored = await store.get_messages(A, C, 1, 2)
    assert [m.sender for m in stored] == ["alice", "bob"]


async def test_a_repeated_cmid_is_the_same_message_and_is_not_published_again(
    messages: MessageService, store: SQLiteStore, wire: Wire
) -> None:
    sent = await messages.send(A, "alice", C, kind="text", body={"text": "once"}, cmid="k1")
    again = await messages.send(A, "alice", C, kind="text", body={"text": "twice?"}, cmid="k1")
    assert not sent.duplicate and again.duplicate
    assert again.message.seq == sent.message.seq and again.message.body == {"text": "once"}
    # The key is per sender: bob's k1 is another message.
    other = await messages.send(A, "bob", C, kind="text", body={"text": "mine"}, cmid="k1")
    assert not other.duplicate and other.message.seq == 2
    assert [f["m"]["seq"] for f in await wire.conv(A, C)] == [1, 2]
    conversation = await store.get_conversation(A, C)
    assert conversation is not None and conversation.last_seq == 2


async def test_bodies_are_validated_before_anything_is_stored(
    messages: MessageService, store: SQLiteStore
) -> None:
    bad = [
        ("text", {"text": ""}, "non-empty string 'text'"),
        ("text", {"text": "x" * 300}, "exceeds the limit of 200"),
        ("rich", {"type": "link", "url": "ftp://x"}, ""),
        ("custom", {}, "non-empty body"),
        ("poll", {"q": 1}, "unknown message kind"),
    ]
    for kind, body, why in bad:
        with refused(ErrorCode.INVALID_REQUEST, why):
            messages.submit(A, "alice", C, kind=kind, body=body)  # refused at once, no future
    conversation = await store.get_conversation(A, C)
    assert conversation is not None and conversation.last_seq == 0
    with refused(ErrorCode.INVALID_REQUEST, "invalid body"):
        await messages.system_event(A, C, "alice", "x", value=2**64)


async def test_concurrent_sends_share_store_round_trips_and_keep_order(
    messages: MessageService, store: SQLiteStore
) -> None:
    futures = [messages.submit(A, "alice", C, kind="text", body={"text": str(i)}) for i in range(20)]
    results = await asyncio.gather(*futures)
    assert [r.message.seq for r in results] == list(range(1, 21))
    assert [r.message.body["text"] for r in results] == [str(i) for i in range(20)]
    assert messages.batches < 20


async def test_only_the_sender_edits_and_the_edit_is_recorded(
    messages: MessageService, store: SQLiteStore
) -> None:
    sent = await messages.send(A, "alice", C, kind="text", body={"text": "draft"})
    seq = sent.message.seq
    with refused(ErrorCode.FORBIDDEN, "only the sender"):
        await messages.edit(A, "bob", C, seq, {"text": "hacked"})
    with refused(ErrorCode.NOT_FOUND, "no message 9"):
        await messages.edit(A, "alice", C, 9, {"text": "x"})
    with refused(ErrorCode.INVALID_REQUEST, "non-empty string"):
        await messages.edit(A, "alice", C, seq, {"text": ""})
    record = await messages.edit(A, "alice", C, seq, {"text": "final"})
    assert (record.message.kind, record.message.body) == ("edit", {"target": seq, "body": {"text": "final"}})
    (edited,) = await store.get_messages(A, C, seq, seq)
    assert edited.body == {"text": "final"} and edited.edited > 0
    system = await messages.system_event(A, C, "alice", "note")
    with refused(ErrorCode.INVALID_REQUEST, "system messages cannot change"):
        await messages.edit(A, "alice", C, system.message.seq, {"text": "x"})


async def test_a_recall_tombstones_and_only_a_moderator_recalls_others(
    messages: MessageService, store: SQLiteStore
) -> None:
    mine = await messages.send(A, "alice", C, kind="text", body={"text": "secret"})
    seq = mine.message.seq
    with refused(ErrorCode.FORBIDDEN, "only the sender"):
        await messages.recall(A, "bob", C, seq, may_moderate=False)
    record = await messages.recall(A, "bob", C, seq, may_moderate=True)
    assert (record.message.kind, record.message.body) == ("recall", {"target": seq})
    (gone,) = await store.get_messages(A, C, seq, seq)
    assert gone.recalled and "secret" not in repr(gone.body)
    with refused(ErrorCode.INVALID_REQUEST, "recalled"):
        await messages.recall(A, "alice", C, seq, may_moderate=False)
    with refused(ErrorCode.INVALID_REQUEST, "recalled"):
        await messages.edit(A, "alice", C, seq, {"text": "back"})
    with refused(ErrorCode.NOT_FOUND, "no message 99"):
        await messages.recall(A, "alice", C, 99, may_moderate=True)
