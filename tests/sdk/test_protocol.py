"""Reconnect, resend, dedupe and gap edge cases against a scripted gateway speaking real frames."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from parley.proto import frames
from parley.proto.errors import CloseCode
from parley.sdk import (
    Client,
    ClientClosed,
    ClientState,
    ConnectionStateEvent,
    MessageEvent,
    ReplyError,
    ResetEvent,
)
from tests.sdk.fakegw import FakeGateway, Peer
from tests.sdk.helpers import first, quiet, take, until


def client(gw: FakeGateway, **kw: Any) -> Client:
    kw.setdefault("token", "t0")
    return Client(gw.url, min_reconnect_delay=0.01, max_reconnect_delay=0.05, request_timeout=5, **kw)


def seqs(events: list[Any]) -> list[int]:
    return [e.message.seq for e in events]


async def test_first_connect_takes_server_positions_as_baseline() -> None:
    async with FakeGateway() as gw:
        for i in range(5):
            gw.store("c1", {"text": str(i)})
        async with client(gw) as c:
            assert c.positions == {"c1": (5, "e1")}
            stream = c.events(MessageEvent)
            await gw.broadcast(gw.store("c1", {"text": "new"}))
            assert seqs(await take(stream, 1)) == [6]


async def test_send_dropped_before_ack_is_resent_with_same_cmid_and_returned_once() -> None:
    async with FakeGateway() as gw:
        gw.add_conv("c1")
        dropped = False

        async def drop_once(peer: Peer, frame: frames.Send) -> bool:
            nonlocal dropped
            if dropped:
                return False
            dropped = True
            await gw.do_send(peer, frame, ack=False)  # stored, but the ack never leaves
            peer.abort()
            return True

        gw.hooks[frames.Send] = drop_once
        async with client(gw) as c:
            stream = c.events(MessageEvent)
            message = await c.send("c1", "survive")
            assert (message.seq, message.text, message.sender) == (1, "survive", "alice")
            sends = [f for p in gw.peers for f in p.received if isinstance(f, frames.Send)]
            assert len(sends) == 2 and sends[0].cmid == sends[1].cmid == message.cmid
            assert gw.acks[-1].dup
            assert len(gw.convs["c1"]) == 1
            # The app sees the message exactly once (refilled by the resume sync).
            assert seqs(await take(stream, 1)) == [1]
            await c.send("c1", "next")
            assert seqs(await take(stream, 1)) == [2]
            assert quiet(stream) == []


async def test_gap_triggers_sync_and_app_sees_each_message_once_in_order() -> None:
    async with FakeGateway() as gw:
        gw.add_conv("c1")
        async with client(gw) as c:
            stream = c.events(MessageEvent)
            m1, _m2, m3 = (gw.store("c1", {"text": str(i)}) for i in range(3))
            peer = gw.live
            await peer.push(frames.Msg(m=m1))
            await peer.push(frames.Msg(m=m3))  # seq 2 lost in fan-out
            await peer.push(frames.Msg(m=m1))  # and a duplicate for good measure
            assert seqs(await take(stream, 3)) == [1, 2, 3]
            syncs = [f for f in peer.received if isinstance(f, frames.Sync)]
            assert syncs[-1].positions == [frames.Position(conv="c1", seq=1, epoch="e1")]
            await peer.push(frames.Msg(m=m3))
            m4 = gw.store("c1", {"text": "4"})
            await peer.push(frames.Msg(m=m4))
            assert seqs(await take(stream, 1)) == [4]


async def test_reconnect_resumes_pages_with_more_and_syncs_new_conversations_from_zero() -> None:
    async with FakeGateway() as gw:
        gw.add_conv("c1")
        async with client(gw) as c:
            stream = c.events(MessageEvent)
            gw.live.abort()
            for i in range(250):  # more than one sync page (limit 200)
                gw.store("c1", {"text": str(i)})
            gw.store("c2", {"text": "while you were away"})
            assert seqs(await take(stream, 251)) == [*range(1, 251), 1]
            assert c.positions == {"c1": (250, "e1"), "c2": (1, "e1")}


async def test_stale_epoch_emits_reset_and_continues_from_server_position() -> None:
    async with FakeGateway() as gw:
        gw.store("c1", {"text": "old"})
        async with client(gw) as c:
            stream = c.events(MessageEvent, ResetEvent)
            gw.epochs["c1"] = "e2"
            gw.live.abort()
            reset = await first(stream, lambda e: isinstance(e, ResetEvent))
            assert (reset.conv, reset.last_seq, reset.epoch) == ("c1", 1, "e2")
            await until(lambda: c.state is ClientState.CONNECTED)
            await gw.broadcast(gw.store("c1", {"text": "after reset"}))
            event = await first(stream, lambda e: isinstance(e, MessageEvent))
            assert event.message.seq == 2


@pytest.mark.parametrize("code", [CloseCode.SERVICE_RESTART, CloseCode.SLOW_CONSUMER, 1006])
async def test_reconnecting_close_codes_resume(code: int) -> None:
    async with FakeGateway() as gw:
        gw.add_conv("c1")
        async with client(gw) as c:
            stream = c.events(MessageEvent)
            if code == 1006:
                gw.live.abort()
            else:
                await gw.live.push(frames.Bye(reason="restart", reconnect_ms=10))
                await gw.live.close(code)
            gw.store("c1", {"text": "missed"})
            assert seqs(await take(stream, 1)) == [1]
            await gw.wait_peers(2)


@pytest.mark.parametrize("code", [CloseCode.AUTH_FAILED, CloseCode.UNSUPPORTED_VERSION])
async def test_fatal_close_codes_stop_the_client(code: int) -> None:
    async with FakeGateway() as gw:
        c = client(gw)
        await c.connect()
        states = c.events(ConnectionStateEvent)
        await gw.live.close(code, "go away")
        final = await first(states, lambda e: e.state is ClientState.CLOSED)
        assert final.code == code
        with pytest.raises(ClientClosed):
            await c.send("c1", "too late")
        await c.close()
        assert len(gw.peers) == 1


async def test_invalid_token_on_hello_raises_from_connect() -> None:
    async with FakeGateway() as gw:
        gw.hello_error = ("token_invalid", CloseCode.AUTH_FAILED)
        c = client(gw)
        with pytest.raises(ClientClosed) as info:
            await c.connect()
        assert isinstance(info.value.error, ReplyError) and info.value.error.code == "token_invalid"
        assert c.state is ClientState.CLOSED


async def test_expired_token_is_refreshed_with_get_token() -> None:
    async with FakeGateway() as gw:
        gw.hello_error = ("token_expired", CloseCode.TOKEN_EXPIRED)
        calls = 0

        async def get_token() -> str:
            nonlocal calls
            calls += 1
            gw.hello_error = None
            return f"fresh{calls}"

        async with client(gw, get_token=get_token) as c:
            assert c.state is ClientState.CONNECTED
        assert gw.tokens_seen == ["t0", "fresh1"]


async def test_close_4004_refreshes_token_before_reconnecting() -> None:
    async with FakeGateway() as gw:
        tokens = iter(["t1", "t2"])

        async def get_token() -> str:
            return next(tokens)

        async with client(gw, token=None, get_token=get_token) as c:
            await gw.live.close(CloseCode.TOKEN_EXPIRED, "expired")
            await gw.wait_peers(2)
            await until(lambda: c.state is ClientState.CONNECTED)
        assert gw.tokens_seen == ["t1", "t2"]


async def test_temporary_send_errors_are_retried_fatal_ones_raise() -> None:
    async with FakeGateway() as gw:
        gw.add_conv("c1")
        refusals = iter(["rate_limited", "unavailable"])

        async def flaky(peer: Peer, frame: frames.Send) -> bool:
            code = next(refusals, None)
            if code == "rate_limited" or code == "unavailable":
                await peer.push(frames.Error(id=frame.id, code=code, message="later", action="retry"))
                return True
            if frame.cmid == "bad":
                await peer.push(frames.Error(id=frame.id, code="forbidden", message="no", action="fatal"))
                return True
            return False

        gw.hooks[frames.Send] = flaky
        async with client(gw) as c:
            message = await c.send("c1", "eventually")
            assert message.seq == 1
            assert sum(isinstance(f, frames.Send) for f in gw.live.received) == 3
            with pytest.raises(ReplyError) as info:
                await c.send("c1", "nope", cmid="bad")
            assert info.value.code == "forbidden" and not info.value.temporary


async def test_a_stuck_handler_never_stalls_the_socket_or_other_consumers() -> None:
    async with FakeGateway() as gw:
        gw.add_conv("c1")
        release = asyncio.Event()
        seen: list[int] = []
        async with client(gw) as c:

            @c.on(MessageEvent)
            async def stuck(event: MessageEvent) -> None:
                seen.append(event.message.seq)
                await release.wait()

            stream = c.events(MessageEvent)
            for i in range(20):
                await c.send("c1", str(i))  # acks still flow while the handler is stuck
            assert seqs(await take(stream, 20)) == list(range(1, 21))
            assert seen == [1]
            release.set()
            await until(lambda: len(seen) == 20)
            assert seen == list(range(1, 21))


async def test_sends_during_an_outage_go_out_in_order_after_resume() -> None:
    async with FakeGateway() as gw:
        gw.add_conv("c1")
        async with client(gw) as c:
            gate = asyncio.Event()

            async def hold_sync(peer: Peer, frame: frames.Sync) -> bool:
                if peer.index > 0:
                    await gate.wait()
                return False

            gw.hooks[frames.Sync] = hold_sync
            gw.live.abort()
            await until(lambda: c.state is ClientState.CONNECTING)
            tasks = [asyncio.create_task(c.send("c1", str(i))) for i in range(5)]
            await asyncio.sleep(0)
            gate.set()
            results = await asyncio.gather(*tasks)
            assert [m.seq for m in results] == [1, 2, 3, 4, 5]
            assert [m.body["text"] for m in gw.convs["c1"]] == ["0", "1", "2", "3", "4"]


async def test_close_fails_pending_sends_and_ends_event_streams() -> None:
    async with FakeGateway() as gw:
        gw.add_conv("c1")

        async def black_hole(peer: Peer, frame: frames.Send) -> bool:
            return True

        gw.hooks[frames.Send] = black_hole
        c = client(gw)
        await c.connect()
        stream = c.events()
        pending = asyncio.create_task(c.send("c1", "never acked"))
        await until(lambda: any(isinstance(f, frames.Send) for f in gw.live.received))
        await c.close()
        with pytest.raises(ClientClosed):
            await pending
        events = [e async for e in stream]
        assert events[-1].state is ClientState.CLOSED


async def test_token_about_to_expire_is_refreshed_before_connecting() -> None:
    import base64
    import json
    import time

    def jwt(exp: float) -> str:
        claims = base64.urlsafe_b64encode(json.dumps({"exp": int(exp)}).encode()).rstrip(b"=").decode()
        return f"e30.{claims}.sig"

    stale, fresh = jwt(time.time() + 5), jwt(time.time() + 3600)

    async def get_token() -> str:
        return fresh

    async with FakeGateway() as gw:
        async with client(gw, token=stale, get_token=get_token) as c:
            await c.reconnect()
            await gw.wait_peers(2)
        assert gw.tokens_seen == [fresh, fresh]
