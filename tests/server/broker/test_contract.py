"""The Broker contract (see ``parley.server.ports.Broker``), run against every adapter.

Redis-specific behaviour (pipelining, restart, keepalive) is at the end,
against real redis-servers on loopback.
"""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

import pytest

from parley.server.broker import MemoryBroker, make_broker
from parley.server.broker.redis import RedisBroker
from parley.server.ports import BrokerUnavailable
from tests.server.broker.conftest import Node, NodeFactory, eventually, redis_broker
from tests.servers import RedisServer, redis_server


async def test_handler_gets_exact_bytes(nodes: NodeFactory) -> None:
    node = await nodes()
    await node.broker.subscribe(["conv:1"])
    payloads = [b"", b"\x00\xff\x80binary\r\n", bytes(range(256)) * 300]
    for data in payloads:
        node.broker.publish("conv:1", data)
    assert node.got == []  # publish only queues: delivery never happens inside it
    got = await node.wait_for(3)
    assert got == [("conv:1", data) for data in payloads]


async def test_unsubscribed_channels_are_not_delivered(nodes: NodeFactory) -> None:
    node = await nodes()
    await node.broker.subscribe(["a", "gone"])
    await node.broker.unsubscribe(["gone"])
    node.broker.publish("never", b"x")
    node.broker.publish("gone", b"x")
    node.broker.publish("a", b"sentinel")
    # One publisher's messages are processed in order, so anything wrongly
    # delivered would have arrived before the sentinel.
    assert await node.wait_for(1) == [("a", b"sentinel")]
    await node.broker.flush()
    await asyncio.sleep(0.05)
    assert node.got == [("a", b"sentinel")]


async def test_subscribe_and_unsubscribe_are_idempotent(nodes: NodeFactory) -> None:
    node = await nodes()
    await node.broker.subscribe(["a", "b"])
    await node.broker.subscribe(["a"])
    await node.broker.unsubscribe(["b", "b", "not-subscribed"])
    await node.broker.unsubscribe([])
    await node.broker.subscribe([])
    node.broker.publish("b", b"no")
    node.broker.publish("a", b"once")
    assert await node.wait_for(1) == [("a", b"once")]


async def test_two_nodes_see_each_others_publishes(nodes: NodeFactory) -> None:
    one, two = await nodes(), await nodes()
    await one.broker.subscribe(["room"])
    await two.broker.subscribe(["room"])
    one.broker.publish("room", b"from one")
    two.broker.publish("room", b"from two")
    for node in (one, two):
        got = await node.wait_for(2)
        assert sorted(data for _, data in got) == [b"from one", b"from two"]


async def test_per_channel_order_of_1000_publishes(nodes: NodeFactory) -> None:
    sender, receiver = await nodes(), await nodes()
    await receiver.broker.subscribe(["x", "y"])
    for i in range(1000):
        sender.broker.publish("x", b"%d" % i)
        sender.broker.publish("y", b"%d" % -i)
        if i % 97 == 0:
            await asyncio.sleep(0)  # spread over several flush rounds too
    await receiver.wait_for(2000)
    assert receiver.channels("x") == [b"%d" % i for i in range(1000)]
    assert receiver.channels("y") == [b"%d" % -i for i in range(1000)]


async def test_flush_hands_everything_over(nodes: NodeFactory) -> None:
    sender, receiver = await nodes(), await nodes()
    await receiver.broker.subscribe(["c"])
    for i in range(50):
        sender.broker.publish("c", b"%d" % i)
    await asyncio.wait_for(sender.broker.flush(), 5)
    await sender.broker.flush()  # nothing pending: returns at once
    assert len(await receiver.wait_for(50)) == 50


async def test_handler_error_does_not_stop_delivery(
    nodes: NodeFactory, caplog: pytest.LogCaptureFixture
) -> None:
    node = await nodes()
    node.fail_on = b"boom"
    await node.broker.subscribe(["c"])
    node.broker.publish("c", b"boom")
    node.broker.publish("c", b"after")
    assert [data for _, data in await node.wait_for(2)] == [b"boom", b"after"]
    assert "handler bug" in caplog.text


# presence -----------------------------------------------------------------


async def test_presence_transitions_across_nodes(nodes: NodeFactory) -> None:
    one, two = await nodes(), await nodes()
    a, b = one.broker, two.broker
    assert await a.presence_online(["u1", "u2"]) == set()
    assert await a.presence_add("u1", "c1", 30) is True  # came online
    assert await b.presence_add("u1", "c2", 30) is False  # already online elsewhere
    assert await a.presence_add("u1", "c1", 30) is False  # re-register: no transition
    assert await b.presence_online(["u1", "u2"]) == {"u1"}
    assert await a.presence_remove("u1", "c1") is False  # c2 still live
    assert await a.presence_online(["u1"]) == {"u1"}
    assert await b.presence_remove("u1", "c2") is True  # went offline
    assert await b.presence_remove("u1", "c2") is False  # reported once only
    assert await a.presence_online(["u1"]) == set()
    assert await a.presence_online([]) == set()


async def test_presence_entries_expire(nodes: NodeFactory) -> None:
    one, two = await nodes(), await nodes()
    assert await one.broker.presence_add("u", "c1", 2.0) is True
    assert await two.broker.presence_online(["u"]) == {"u"}  # well within the TTL, even on a loaded machine
    await asyncio.sleep(2.5)
    assert await two.broker.presence_online(["u"]) == set()
    # The key is offline, so a new connection is a transition again.
    assert await two.broker.presence_add("u", "c2", 30) is True
    # The expired c1 does not count as live when c2 leaves.
    assert await two.broker.presence_remove("u", "c2") is True


async def test_presence_refresh_extends_but_never_resurrects(nodes: NodeFactory) -> None:
    one, two = await nodes(), await nodes()
    await one.broker.presence_add("u", "c1", 2.0)
    await one.broker.presence_add("gone", "c9", 30)
    await one.broker.presence_remove("gone", "c9")
    await one.broker.presence_refresh([("u", "c1"), ("gone", "c9")], 30)  # within u's 2 s
    await one.broker.presence_refresh([], 30)
    await asyncio.sleep(2.5)  # past the first TTL: only the refresh keeps u online
    assert await two.broker.presence_online(["u", "gone"]) == {"u"}


async def test_concurrent_presence_changes_keep_exact_transitions(nodes: NodeFactory) -> None:
    """A connect storm: many adds and removes at once (batched by the Redis adapter)."""
    one = await nodes()
    broker = one.broker
    adds = await asyncio.gather(
        *(broker.presence_add(f"u{i % 50}", f"c{i}", 30) for i in range(200)),
        broker.presence_add("short", "s1", 0.2),
    )
    # Per user exactly one connection saw the user come online (in submission order: the first).
    assert [i for i, came in enumerate(adds[:200]) if came] == list(range(50))
    assert adds[200] is True
    removes = await asyncio.gather(*(broker.presence_remove(f"u{i % 50}", f"c{i}") for i in range(200)))
    assert [i for i, went in enumerate(removes) if went] == list(range(150, 200)), "the last one out"
    assert await broker.presence_online([f"u{i}" for i in range(50)]) == set()


# factory ------------------------------------------------------------------


async def test_make_broker_picks_the_adapter(redis_url: str) -> None:
    assert isinstance(make_broker(None), MemoryBroker)
    broker = make_broker(redis_url)
    assert isinstance(broker, RedisBroker)
    await broker.close()  # never started: close is still safe


# Redis only ---------------------------------------------------------------


@pytest.mark.redis
async def test_redis_publishes_in_one_loop_iteration_share_a_round_trip(redis_url: str) -> None:
    prefix = f"test-{uuid.uuid4().hex[:8]}:"
    sender, receiver = Node(redis_broker(redis_url, prefix)), Node(redis_broker(redis_url, prefix))
    await sender.broker.start(sender.handler)
    await receiver.broker.start(receiver.handler)
    try:
        await receiver.broker.subscribe(["p"])
        for i in range(500):
            sender.broker.publish("p", b"%d" % i)
        await sender.broker.flush()
        assert isinstance(sender.broker, RedisBroker)
        assert sender.broker.published == 500
        assert sender.broker.pipelines <= 2  # one round, maybe two if the flusher woke early
        assert len(await receiver.wait_for(500)) == 500
    finally:
        await sender.broker.close()
        await receiver.broker.close()


@pytest.mark.redis
async def test_redis_buffer_is_bounded(redis_url: str) -> None:
    broker = RedisBroker(redis_url, prefix=f"test-{uuid.uuid4().hex[:8]}:", max_buffer=10)
    await broker.start(lambda channel, data: None)
    try:
        for _ in range(25):
            broker.publish("c", b"x")  # the flusher cannot run inside this loop
        assert broker.dropped == 15  # the newest beyond the cap
        await broker.flush()
        assert broker.published == 10
    finally:
        await broker.close()


async def _until_delivered(sender: RedisBroker, receiver: Node, channel: str, within: float) -> None:
    """Publish probes until one arrives: right after a restart some may be dropped (at-most-once)."""

    async def probe() -> None:
        while not receiver.channels(channel):
            sender.publish(channel, b"probe")
            await asyncio.sleep(0.05)

    await asyncio.wait_for(probe(), within)


@pytest.mark.redis
async def test_redis_restart_resubscribes_and_delivery_resumes() -> None:
    # Our own server: stopping the session one would disturb other tests.
    with redis_server() as server:
        prefix = "restart:"
        sender, receiver = redis_broker(server.url, prefix), Node(redis_broker(server.url, prefix))
        heard: list[object] = []  # the receiver's on_down / on_gap calls, in order
        dropped: list[object] = []  # the sender's on_gap calls
        await sender.start(lambda channel, data: None, dropped.append)
        await receiver.broker.start(receiver.handler, heard.append, lambda: heard.append("down"))
        try:
            await receiver.broker.subscribe(["before"])
            await _until_delivered(sender, receiver, "before", 5)
            await sender.presence_add("u", "c1", 30)

            server.stop()
            sender.publish("before", b"lost")  # must not raise
            await asyncio.wait_for(sender.flush(), 5)
            assert sender.dropped >= 1
            with pytest.raises(BrokerUnavailable):
                await sender.ping()
            with pytest.raises(BrokerUnavailable):
                await sender.presence_online(["u"])
            # Subscribing during the outage keeps the channel for the reconnect.
            await asyncio.wait_for(receiver.broker.subscribe(["during"]), 5)
            await eventually(lambda: "down" in heard, 5)  # told at once, not only once it is back
            assert None not in heard

            server.start()
            await _until_delivered(sender, receiver, "before", 8)
            await _until_delivered(sender, receiver, "during", 5)
            assert isinstance(receiver.broker, RedisBroker)
            assert receiver.broker.reconnects >= 1
            assert heard[0] == "down" and None in heard, "every loss of the subscription, then the gap"
            await eventually(lambda: any(isinstance(g, list) and "before" in g for g in dropped), 5)
            await sender.ping()
            # The restarted server has no scripts cached and no data.
            assert await sender.presence_add("u", "c1", 30) is True
        finally:
            server.stop()
            await asyncio.wait_for(sender.close(), 10)
            await asyncio.wait_for(receiver.broker.close(), 10)


@pytest.mark.redis
async def test_redis_keepalive_replaces_an_unresponsive_connection() -> None:
    with redis_server() as server:
        broker = RedisBroker(server.url, prefix="ka:", timeout=0.5, keepalive=0.2)
        await broker.start(lambda channel, data: None)
        assert server.proc is not None
        pid = server.proc.pid
        try:
            os.kill(pid, signal.SIGSTOP)  # TCP stays up, replies stop: a silent peer
            await eventually(lambda: broker.disconnects >= 1, 30)  # however slow the machine
        finally:
            os.kill(pid, signal.SIGCONT)
        try:
            await eventually(lambda: broker.reconnects >= 1, 8)
            await broker.ping()
        finally:
            await asyncio.wait_for(broker.close(), 10)


@pytest.mark.redis
async def test_redis_ping_and_start_fail_while_stopped() -> None:
    server = RedisServer()  # never started: nothing listens on the port
    broker = RedisBroker(server.url, timeout=1.0)
    with pytest.raises(BrokerUnavailable):
        await broker.ping()
    with pytest.raises(BrokerUnavailable):
        await broker.start(lambda channel, data: None)
    await broker.close()
