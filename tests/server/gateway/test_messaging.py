"""Messaging end to end over a real gateway: send, ack, deliver, dedupe, edit, recall, receipts."""

from __future__ import annotations

from parley.proto import frames
from tests.harness import RunningNode
from tests.wsclient import RawClient


async def pair(node: RunningNode) -> tuple[RawClient, RawClient, str]:
    alice = await RawClient.connect(node.url, await node.token("alice"))
    bob = await RawClient.connect(node.url, await node.token("bob"))
    reply = await alice.request(frames.ConvCreate, kind="direct", members=["bob"])
    assert isinstance(reply, frames.ConvResult), reply
    return alice, bob, reply.conv.conv


async def test_welcome_names_user_and_app(node: RunningNode) -> None:
    client = await RawClient.connect(node.url, await node.token("alice"))
    assert client.welcome.user == "alice"
    assert client.welcome.app == node.app.app
    assert client.welcome.max_frame == 64 * 1024
    await client.close()


async def test_send_is_acked_and_delivered_to_every_device(node: RunningNode) -> None:
    alice, bob, conv = await pair(node)
    bob_phone = await RawClient.connect(node.url, await node.token("bob"), device="phone")
    ack = await alice.request(frames.Send, conv=conv, cmid="c1", body={"text": "hi bob"})
    assert isinstance(ack, frames.Ack) and ack.seq == 1 and not ack.dup
    for device in (bob, bob_phone):
        pushed = await device.expect(frames.Msg)
        assert pushed.m.seq == 1 and pushed.m.body == {"text": "hi bob"} and pushed.m.sender == "alice"
        assert pushed.m.mid == ack.mid
    for c in (alice, bob, bob_phone):
        await c.close()


async def test_direct_conversation_is_unique_per_pair(node: RunningNode) -> None:
    alice, bob, conv = await pair(node)
    again = await bob.request(frames.ConvCreate, kind="direct", members=["alice"])
    assert again.conv.conv == conv
    await alice.close()
    await bob.close()


async def test_resend_with_same_cmid_returns_original_ack_and_is_not_redelivered(node: RunningNode) -> None:
    alice, bob, conv = await pair(node)
    first = await alice.request(frames.Send, conv=conv, cmid="same", body={"text": "once"})
    second = await alice.request(frames.Send, conv=conv, cmid="same", body={"text": "once"})
    assert second.dup and (second.seq, second.mid) == (first.seq, first.mid)
    await alice.request(frames.Send, conv=conv, cmid="next", body={"text": "two"})
    got = [(await bob.expect(frames.Msg)).m.seq, (await bob.expect(frames.Msg)).m.seq]
    assert got == [1, 2]
    page = await bob.request(frames.History, conv=conv)
    assert [m.body["text"] for m in page.messages] == ["once", "two"]
    await alice.close()
    await bob.close()


async def test_seqs_are_dense_under_concurrent_senders(node: RunningNode) -> None:
    alice, bob, conv = await pair(node)
    for i in range(40):
        await alice.send(frames.Send(id=1000 + i, conv=conv, cmid=f"a{i}", body={"text": str(i)}))
        await bob.send(frames.Send(id=2000 + i, conv=conv, cmid=f"b{i}", body={"text": str(i)}))
    acks = [await alice.expect(frames.Ack) for _ in range(40)] + [
        await bob.expect(frames.Ack) for _ in range(40)
    ]
    assert sorted(a.seq for a in acks) == list(range(1, 81))
    alice_acks = [a.seq for a in acks[:40]]
    assert alice_acks == sorted(alice_acks), "one sender's messages keep their order"
    await alice.close()
    await bob.close()


async def test_edit_and_recall_are_fanned_out_and_shown_in_history(node: RunningNode) -> None:
    alice, bob, conv = await pair(node)
    await alice.request(frames.Send, conv=conv, cmid="e1", body={"text": "helo"})
    edit_ack = await alice.request(frames.Edit, conv=conv, seq=1, body={"text": "hello"})
    assert isinstance(edit_ack, frames.Ack) and edit_ack.seq == 2
    denied = await bob.request(frames.Edit, conv=conv, seq=1, body={"text": "hacked"})
    assert isinstance(denied, frames.Error) and denied.code == "forbidden"
    await alice.request(frames.Recall, conv=conv, seq=1)
    kinds = [(await bob.expect(frames.Msg)).m.kind for _ in range(3)]
    assert kinds == ["text", "edit", "recall"]
    page = await bob.request(frames.History, conv=conv)
    original = page.messages[0]
    assert original.recalled and original.body == {} and original.edited > 0
    # The recall scrubbed the edit record too: nothing of the recalled text is left.
    assert page.messages[1].body == {"target": 1} and page.messages[1].recalled
    await alice.close()
    await bob.close()


async def test_read_receipts_and_unread_counts(node: RunningNode) -> None:
    alice, bob, conv = await pair(node)
    for i in range(3):
        await alice.request(frames.Send, conv=conv, cmid=f"r{i}", body={"text": str(i)})
    listing = await bob.request(frames.ConvList)
    assert listing.convs[0].unread == 3 and listing.convs[0].last.body == {"text": "2"}
    assert isinstance(await bob.request(frames.Read, conv=conv, seq=2), frames.Ok)
    receipt = await alice.expect(frames.Receipt)
    assert (receipt.user, receipt.seq) == ("bob", 2)
    listing = await bob.request(frames.ConvList)
    assert listing.convs[0].unread == 1
    await node.node.services.receipts.drain()
    assert (await alice.request(frames.ConvList)).convs[0].unread == 0, "own messages are read"
    beyond = await bob.request(frames.Read, conv=conv, seq=99)
    assert beyond.code == "out_of_range"
    await alice.close()
    await bob.close()


async def test_typing_is_ephemeral(node: RunningNode) -> None:
    alice, bob, conv = await pair(node)
    await alice.send(frames.Typing(conv=conv, on=True))
    event = await bob.expect(frames.TypingEvent)
    assert (event.user, event.on) == ("alice", True)
    page = await bob.request(frames.History, conv=conv)
    assert page.messages == []
    await alice.close()
    await bob.close()


async def test_presence_online_and_offline_with_last_seen(node: RunningNode) -> None:
    alice = await RawClient.connect(node.url, await node.token("alice"))
    await alice.request(frames.ConvCreate, kind="group", members=["bob"])  # presence is for contacts
    reply = await alice.request(frames.PresenceSub, users=["bob"])
    assert isinstance(reply, frames.Ok)
    initial = await alice.expect(frames.Presence, user="bob")
    assert not initial.online
    bob = await RawClient.connect(node.url, await node.token("bob"))
    assert (await alice.expect(frames.Presence, user="bob")).online
    await bob.close()
    offline = await alice.expect(frames.Presence, user="bob")
    assert not offline.online and offline.last_seen > 0
    await alice.close()


async def test_history_pages_backwards_and_forwards(node: RunningNode) -> None:
    alice, bob, conv = await pair(node)
    for i in range(1, 8):
        await alice.request(frames.Send, conv=conv, cmid=f"h{i}", body={"text": str(i)})
    latest = await bob.request(frames.History, conv=conv, limit=3)
    assert [m.seq for m in latest.messages] == [5, 6, 7] and latest.more
    older = await bob.request(frames.History, conv=conv, before=5, limit=3)
    assert [m.seq for m in older.messages] == [2, 3, 4] and older.more
    oldest = await bob.request(frames.History, conv=conv, before=2, limit=3)
    assert [m.seq for m in oldest.messages] == [1] and not oldest.more
    forward = await bob.request(frames.History, conv=conv, after=5, limit=10)
    assert [m.seq for m in forward.messages] == [6, 7] and not forward.more
    await alice.close()
    await bob.close()


async def test_sync_replays_missed_messages_in_order(node: RunningNode) -> None:
    alice, bob, conv = await pair(node)
    await alice.request(frames.Send, conv=conv, cmid="s1", body={"text": "1"})
    epoch = (await bob.request(frames.ConvGet, conv=conv)).conv.epoch
    await bob.close()
    for i in range(2, 6):
        await alice.request(frames.Send, conv=conv, cmid=f"s{i}", body={"text": str(i)})
    bob = await RawClient.connect(node.url, await node.token("bob"))
    await bob.send(frames.Sync(id=7, positions=[frames.Position(conv=conv, seq=1, epoch=epoch)], limit=2))
    replayed = [(await bob.expect(frames.Msg)).m.seq for _ in range(2)]
    synced = await bob.expect(frames.Synced)
    assert replayed == [2, 3]
    state = next(s for s in synced.convs if s.conv == conv)
    assert state.more and state.last_seq == 5 and not state.reset
    await bob.send(frames.Sync(id=8, positions=[frames.Position(conv=conv, seq=3, epoch=epoch)]))
    assert [(await bob.expect(frames.Msg)).m.seq for _ in range(2)] == [4, 5]
    assert not next(s for s in (await bob.expect(frames.Synced)).convs if s.conv == conv).more
    stale = await bob.request(frames.Sync, positions=[frames.Position(conv=conv, seq=3, epoch="other")])
    assert next(s for s in stale.convs if s.conv == conv).reset
    await alice.close()
    await bob.close()


async def test_history_pages_stay_under_the_byte_cap(node: RunningNode) -> None:
    alice, bob, conv = await pair(node)
    big = "x" * 60_000
    for i in range(80):  # ~4.8 MB: more than one page can carry
        await alice.send(frames.Send(id=i, conv=conv, cmid=f"big{i}", kind="custom", body={"blob": big}))
    for _ in range(80):
        await alice.expect(frames.Ack, timeout=15)
    page = await bob.request(frames.History, conv=conv, limit=500)
    assert page.more and 0 < len(page.messages) < 80
    assert page.messages[-1].seq == 80, "a backwards page keeps the newest messages"
    forward = await bob.request(frames.History, conv=conv, after=0, limit=500)
    assert forward.more and forward.messages[0].seq == 1
    await alice.close()
    await bob.close()


async def test_a_draft_grows_then_becomes_one_stored_message(node: RunningNode) -> None:
    alice, bob, conv = await pair(node)
    for text in ("Our", "Our returns", "Our returns window is 30 days."):
        await alice.send(frames.Draft(conv=conv, draft="d1", body={"text": text}))
    grown = [(await bob.expect(frames.DraftEvent)).body["text"] for _ in range(3)]
    assert grown == ["Our", "Our returns", "Our returns window is 30 days."]
    ack = await alice.request(
        frames.Send, conv=conv, cmid="d1", body={"text": grown[-1], "citations": ["returns#1"]}
    )
    final = await bob.expect(frames.Msg)
    assert (final.m.cmid, final.m.seq, final.m.body["citations"]) == ("d1", ack.seq, ["returns#1"])
    page = await bob.request(frames.History, conv=conv)
    assert [m.body["text"] for m in page.messages] == ["Our returns window is 30 days."], (
        "drafts are never stored"
    )
    await alice.close()
    await bob.close()


async def test_a_send_is_not_echoed_to_the_sending_connection_but_to_the_senders_other_devices(
    node: RunningNode,
) -> None:
    alice, bob, conv = await pair(node)
    alice_tablet = await RawClient.connect(node.url, await node.token("alice"), device="tablet")
    ack = await alice.request(frames.Send, conv=conv, cmid="e1", body={"text": "no echo"})
    for device in (bob, alice_tablet):
        got = await device.expect(frames.Msg)
        assert (got.m.seq, got.m.mid, got.m.sender) == (ack.seq, ack.mid, "alice")
    # bob answers: alice's connection gets bob's message, and only that one.
    await bob.request(frames.Send, conv=conv, cmid="e2", body={"text": "reply"})
    got = await alice.expect(frames.Msg)
    assert (got.m.seq, got.m.sender) == (ack.seq + 1, "bob"), "alice's own message was not pushed back"
    assert not [f for f in alice.backlog if isinstance(f, frames.Msg)]
    # Edits are not sends: every connection sees the edit event.
    edit_ack = await alice.request(frames.Edit, conv=conv, seq=ack.seq, body={"text": "edited"})
    assert (await alice.expect(frames.Msg)).m.seq == edit_ack.seq
    # The sender's own message is in its history and syncs like any other.
    page = await alice.request(frames.History, conv=conv)
    assert [m.seq for m in page.messages][:2] == [ack.seq, ack.seq + 1]
    for c in (alice, alice_tablet, bob):
        await c.close()
