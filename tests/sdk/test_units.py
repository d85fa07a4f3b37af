"""Pure parts of the SDK: request table, outbox, event dispatch, errors, helpers."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

import parley.sdk
from parley.proto import frames
from parley.proto.errors import Action
from parley.sdk import (
    ClientState,
    ConnectionStateEvent,
    EventQueueOverflow,
    MessageEvent,
    ReplyError,
    TypingEvent,
)
from parley.sdk.dispatch import EventHub
from parley.sdk.errors import ConnectionClosed
from parley.sdk.models import Message
from parley.sdk.outbox import Outbox
from parley.sdk.policy import should_reconnect, token_expiry
from parley.sdk.requests import PendingRequests
from tests.sdk.helpers import take, until

# ------------------------------------------------------------------ public surface


def test_public_surface_is_pinned() -> None:
    assert sorted(parley.sdk.__all__) == [
        "AdminClient", "AdminError", "AppPolicy", "AudienceProfile", "AudienceTag", "AuditRecord", "BlockedUser", "BodyTooLarge", "CampaignEvent", "Client", "ClientClosed", "ClientState", "ConnectionClosed",
        "ConnectionStateEvent", "Conversation", "ConversationEvent", "ConversationSummary",
        "DecodeErrorEvent", "DraftEvent", "EditEvent",
        "Event", "EventQueueOverflow", "EventStream", "Handler", "IdentifyResult", "Invitation", "InvitationEvent", "LeaseInfo", "Member", "MergeInfo", "Message", "MessageEvent",
        "MessagePage", "Mute", "Page", "ParleyError", "PresenceEvent", "Profile", "RateLimited", "RecallEvent", "ReceiptEvent",
        "ReplyError", "RequestTimeout", "ResetEvent", "SupportQueue", "SupportQueueEvent", "Tag", "Token", "TrackedEvent", "TypingEvent", "User", "UserStatus",
        "support_state",
    ]  # fmt: skip
    for name in set(parley.sdk.__all__) - {"Event", "Handler"}:  # type aliases
        obj = getattr(parley.sdk, name)
        assert getattr(obj, "__doc__", None), f"{name} needs a docstring"


# ------------------------------------------------------------------ request table


async def test_requests_match_replies_by_id_and_fail_on_loss() -> None:
    table = PendingRequests()
    a, b, c = table.next_id(), table.next_id(), table.next_id()
    fa, fb, fc = table.register(a), table.register(b), table.register(c)
    assert table.resolve(frames.Ok(id=b))
    assert not table.resolve(frames.Ok(id=b)), "a reply resolves once"
    assert table.resolve(frames.Error(id=a, code="forbidden", message="no", action="fatal"))
    assert (await fb) == frames.Ok(id=b)
    with pytest.raises(ReplyError) as info:
        await fa
    assert info.value.action is Action.FATAL and not info.value.temporary
    table.fail_all(ConnectionClosed("gone"))
    with pytest.raises(ConnectionClosed):
        await fc
    assert len(table) == 0 and not table.resolve(frames.Error(code="x", message="", action="fatal"))


# ------------------------------------------------------------------------ outbox


async def test_outbox_keeps_unacked_sends_in_order_across_connections() -> None:
    box = Outbox()
    e1 = box.add("c", "k1", "text", {"text": "1"})
    e2 = box.add("c", "k2", "text", {"text": "2"})
    with pytest.raises(ValueError):
        box.add("c", "k1", "text", {"text": "again"})
    w1, w2 = e1.arm(), e2.arm()
    assert box.resendable() == [e1, e2]
    box.transmitted(e1, 10)
    box.transmitted(e2, 11)
    assert box.resendable() == [] and box.owns(10)
    box.connection_lost()
    assert box.resendable() == [e1, e2] and not box.owns(10)
    box.transmitted(e1, 12)
    box.transmitted(e2, 13)
    ack = frames.Ack(id=13, conv="c", cmid="k2", mid="m", seq=1, ts=0, dup=True)
    assert box.resolve_ack(ack) is not None and (await w2) is ack
    assert box.resolve_error(frames.Error(id=12, code="rate_limited", message="slow", action="retry"))
    with pytest.raises(ReplyError) as info:
        await w1
    assert info.value.temporary
    e1.backing_off = True
    e1.waiter = None
    assert box.resendable() == []
    box.remove(e1)
    box.remove(e2)
    assert len(box) == 0


# ---------------------------------------------------------------------- dispatch


def _event(seq: int) -> MessageEvent:
    return MessageEvent(Message(conv="c", seq=seq, mid="m", sender="u", kind="text", body={}, ts=0))


async def test_streams_filter_by_type_and_end_on_close() -> None:
    hub = EventHub()
    everything = hub.subscribe(())
    typing_only = hub.subscribe((TypingEvent,))
    hub.publish(_event(1))
    hub.publish(TypingEvent("c", "u", True))
    hub.close()
    assert [type(e) for e in [e async for e in everything]] == [MessageEvent, TypingEvent]
    assert [e async for e in typing_only] == [TypingEvent("c", "u", True)]


async def test_bounded_stream_reports_overflow_after_queued_events() -> None:
    hub = EventHub()
    stream = hub.subscribe((), maxsize=2)
    for seq in range(1, 5):
        hub.publish(_event(seq))
    assert [e.message.seq for e in await take(stream, 2)] == [1, 2]
    with pytest.raises(EventQueueOverflow):
        await stream.__anext__()


async def test_dropped_stream_unsubscribes() -> None:
    hub = EventHub()
    stream = hub.subscribe(())
    assert len(hub._inboxes) == 1
    del stream
    assert hub._inboxes == []


async def test_handlers_run_in_their_own_tasks_in_order_and_survive_errors() -> None:
    hub = EventHub()
    seen: list[int] = []
    blocked = asyncio.Event()

    def sync_handler(event: MessageEvent) -> None:
        if event.message.seq == 2:
            raise RuntimeError("app bug")
        seen.append(event.message.seq)

    async def slow_handler(event: MessageEvent) -> None:
        await blocked.wait()

    hub.add_handler((MessageEvent,), sync_handler)
    hub.add_handler((MessageEvent,), slow_handler)
    for seq in (1, 2, 3):
        hub.publish(_event(seq))  # returns at once although slow_handler never finishes
    await until(lambda: seen == [1, 3])
    hub.remove_handler(sync_handler)
    hub.publish(_event(4))
    blocked.set()
    hub.close()
    await hub.wait_handlers(grace=2)
    assert seen == [1, 3]


async def test_state_events_are_plain_values() -> None:
    event = ConnectionStateEvent(ClientState.CONNECTING, ClientState.CONNECTED, 1006, "lost")
    assert event.state == "connecting" and event.previous is ClientState.CONNECTED


# ----------------------------------------------------------------------- helpers


def _jwt(claims: dict[str, object]) -> str:
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"e30.{body}.sig"


def test_token_expiry_reads_exp_without_verifying() -> None:
    assert token_expiry(_jwt({"exp": 1234})) == 1234.0
    assert token_expiry(_jwt({"sub": "u"})) is None
    assert token_expiry("not-a-jwt") is None
    assert token_expiry(None) is None


def test_close_codes_decide_reconnects() -> None:
    assert should_reconnect(1012) and should_reconnect(4008) and should_reconnect(4004)
    assert should_reconnect(1006) and should_reconnect(None)
    assert not should_reconnect(4001) and not should_reconnect(4002) and not should_reconnect(1000)


def test_reply_error_takes_action_from_the_table_when_missing() -> None:
    assert ReplyError("rate_limited", "slow").temporary
    assert ReplyError("token_expired", "old", "bogus").action is Action.RECONNECT
    assert not ReplyError("who_knows", "?").temporary


# ------------------------------------------------------------------ own messages


class _Hooks:
    """The connection side of the router, recorded (a test double of a two-method protocol)."""

    user = "alice"

    def __init__(self) -> None:
        self.held_checks: list[str] = []
        self.syncs: list[str] = []

    def sync_if_still_held(self, conv: str) -> None:
        self.held_checks.append(conv)

    def want_sync(self, conv: str) -> None:
        self.syncs.append(conv)

    def on_bye(self, bye: frames.Bye) -> None:
        pass

    def on_connection_error(self, error: frames.Error) -> None:
        pass


def _msg(seq: int, sender: str = "bob", text: str = "") -> frames.Msg:
    return frames.Msg(
        m=frames.Message(
            conv="c", seq=seq, mid=f"m{seq}", sender=sender, kind="text", body={"text": text}, ts=0
        )
    )


async def test_an_ack_delivers_the_own_message_in_order_and_an_echo_is_a_duplicate() -> None:
    from parley.sdk.router import FrameRouter
    from parley.sdk.streams import Streams

    hub, streams, box, hooks = EventHub(), Streams([frames.Position(conv="c", seq=5)]), Outbox(), _Hooks()
    router = FrameRouter(hub, streams, box, PendingRequests(), hooks)
    events = hub.subscribe((MessageEvent,))
    entry = box.add("c", "k7", "text", {"text": "mine"}, ["bob"])
    waiter = entry.arm()
    box.transmitted(entry, 1)
    # The ack for seq 7 overtakes bob's seq 6, still on its way through the broker.
    router.dispatch(frames.Ack(id=1, conv="c", cmid="k7", mid="m7", seq=7, ts=70))
    assert (await waiter).seq == 7
    assert streams.held("c") == [7] and hooks.held_checks == ["c"] and hooks.syncs == []
    router.dispatch(_msg(6, text="bob's"))
    first, second = await take(events, 2)
    assert [first.message.seq, second.message.seq] == [6, 7]
    own = second.message
    assert (own.sender, own.body, own.mid, own.ts, own.cmid, own.mentions) == (
        "alice",
        {"text": "mine"},
        "m7",
        70,
        "k7",
        ("bob",),
    )
    # Should the server echo it anyway (an older server), it is dropped as a duplicate.
    router.dispatch(_msg(7, sender="alice", text="mine"))
    router.dispatch(_msg(8))
    (third,) = await take(events, 1)
    assert third.message.seq == 8 and streams.held("c") == [] and hooks.syncs == []


async def test_an_ack_in_order_is_delivered_at_once_and_an_unknown_ack_is_a_request_reply() -> None:
    from parley.sdk.router import FrameRouter
    from parley.sdk.streams import Streams

    hub, streams, box, hooks = EventHub(), Streams([frames.Position(conv="c", seq=0)]), Outbox(), _Hooks()
    requests = PendingRequests()
    router = FrameRouter(hub, streams, box, requests, hooks)
    events = hub.subscribe((MessageEvent,))
    entry = box.add("c", "k1", "text", {"text": "hi"})
    entry.arm()
    box.transmitted(entry, 3)
    router.dispatch(frames.Ack(id=3, conv="c", cmid="k1", mid="m1", seq=1, ts=1))
    (event,) = await take(events, 1)
    assert event.message.seq == 1 and hooks.held_checks == []
    assert streams.position("c") == 1
