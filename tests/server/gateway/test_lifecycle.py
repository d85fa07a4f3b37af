"""Connection lifecycle: slow consumers, timeouts, membership changes, graceful shutdown."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from parley.proto import PROTOCOL_VERSION, ServerDecoder, encode, frames
from tests.harness import RunningNode, running_node
from tests.wsclient import RawClient


async def closed_with(client: RawClient, timeout: float = 10) -> int | None:
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            await client.recv(timeout)
    return closed.value.rcvd.code if closed.value.rcvd else None


async def test_slow_consumer_is_cut_off_and_others_are_unaffected(tmp_path: Path) -> None:
    async with running_node(tmp_path, outbound_queue=200, rate_frames=0, rate_sends=0) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        reader = await RawClient.connect(node.url, await node.token("reader"))
        conv = (await alice.request(frames.ConvCreate, kind="group", members=["reader", "sloth"])).conv.conv
        # The sloth authenticates, then never reads again: its TCP window fills up.
        sloth = await websockets.connect(node.url, max_size=None, max_queue=1)
        await sloth.send(encode(frames.Hello(v=PROTOCOL_VERSION, token=await node.token("sloth"))))
        welcome = ServerDecoder().decode(await asyncio.wait_for(sloth.recv(), 30))  # type: ignore[arg-type]
        assert isinstance(welcome, frames.Welcome), "registered before it stops reading"
        sloth.transport.pause_reading()
        big = "x" * 15_000
        received: dict[str, list[int]] = {"reader": [], "alice": []}

        async def read_all(name: str, client: RawClient) -> None:
            while True:
                frame = await client.recv(timeout=30)
                # The sender gets acks; its own messages are not echoed back to it.
                if isinstance(frame, frames.Msg) or (name == "alice" and isinstance(frame, frames.Ack)):
                    seq = frame.m.seq if isinstance(frame, frames.Msg) else frame.seq
                    received[name].append(seq)

        readers = [asyncio.create_task(read_all(n, c)) for n, c in (("reader", reader), ("alice", alice))]

        def sloth_connected() -> bool:
            return any(c.user == "sloth" for c in node.node.hub.connections)

        sent = 0
        # Paced like a real sender (bursts well below the queue bound, readers keep up),
        # until the sloth's buffers and queue overflow; then a little more traffic.
        extra = 50
        while sent < 4000 and (sloth_connected() or extra > 0):
            if not sloth_connected():
                extra -= 25
            for _ in range(25):
                sent += 1
                await alice.send(frames.Send(id=sent, conv=conv, cmid=f"m{sent}", body={"text": big}))
            async with asyncio.timeout(30):
                while len(received["reader"]) < sent or len(received["alice"]) < sent:
                    await asyncio.sleep(0.01)
        assert not sloth_connected(), "the slow consumer was disconnected"
        assert node.node.metrics.slow_consumers._value.get() == 1, "and counted"
        assert received["reader"] == list(range(2, sent + 2)), "the reader got every message, in order"
        for task in readers:
            task.cancel()
        sloth.transport.abort()
        await alice.close()
        await reader.close()


async def test_silent_connection_gets_auth_timeout(tmp_path: Path) -> None:
    async with running_node(tmp_path, auth_timeout=0.5) as node:
        client = await RawClient.connect(node.url)
        assert await closed_with(client) == 4003


async def test_idle_connection_is_closed(tmp_path: Path) -> None:
    async with running_node(tmp_path, idle_timeout=1) as node:
        client = await RawClient.connect(node.url, await node.token("alice"))
        assert await closed_with(client) == 4009


async def test_added_member_receives_live_and_removed_member_stops(node: RunningNode) -> None:
    alice = await RawClient.connect(node.url, await node.token("alice"))
    carol = await RawClient.connect(node.url, await node.token("carol"))
    conv = (await alice.request(frames.ConvCreate, kind="group", members=[], name="club")).conv.conv
    assert isinstance(await alice.request(frames.MemberAdd, conv=conv, users=["carol"]), frames.Ok)
    joined = await carol.expect(frames.ConvEvent)
    assert joined.event == "joined" and joined.conv.conv == conv and joined.conv.name == "club"
    await alice.request(frames.Send, conv=conv, cmid="hello", body={"text": "welcome carol"})
    got = await carol.expect(frames.Msg, timeout=5)
    while got.m.kind == "system":
        got = await carol.expect(frames.Msg, timeout=5)
    assert got.m.body == {"text": "welcome carol"}
    await alice.request(frames.MemberRemove, conv=conv, users=["carol"])
    left = await carol.expect(frames.ConvEvent, event="left")
    assert left.conv.conv == conv
    await alice.request(frames.Send, conv=conv, cmid="bye", body={"text": "carol is gone"})
    await carol.send(frames.Ping(ts=1))
    await carol.expect(frames.Pong)
    assert not any(
        isinstance(f, frames.Msg) and f.m.body.get("text") == "carol is gone" for f in carol.backlog
    )
    denied = await carol.request(frames.Send, conv=conv, cmid="x", body={"text": "let me back"})
    assert isinstance(denied, frames.Error) and denied.code == "forbidden"
    await alice.close()
    await carol.close()


async def test_leave_and_ownership_transfer(node: RunningNode) -> None:
    alice = await RawClient.connect(node.url, await node.token("alice"))
    conv = (await alice.request(frames.ConvCreate, kind="group", members=["bob", "carol"])).conv.conv
    await alice.request(frames.MemberRole, conv=conv, user="carol", role="admin")
    assert isinstance(await alice.request(frames.Leave, conv=conv), frames.Ok)
    bob = await RawClient.connect(node.url, await node.token("bob"))
    view = (await bob.request(frames.ConvGet, conv=conv)).conv
    assert {m.user: m.role for m in view.members} == {"bob": "member", "carol": "owner"}
    await alice.close()
    await bob.close()


async def test_graceful_shutdown_says_bye_and_closes_1012(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        client = await RawClient.connect(node.url, await node.token("alice"))
        node.server.should_exit = True
        bye = await client.expect(frames.Bye, timeout=10)
        assert bye.reason and bye.reconnect_ms >= 0
        assert await closed_with(client) == 1012
