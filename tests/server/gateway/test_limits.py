"""Limits and abuse: rate limits, connections per user, group size, origin check, metrics, health."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from parley.proto import frames
from tests.harness import running_node
from tests.wsclient import RawClient


async def test_connection_rate_limit_refuses_with_a_clear_error_and_recovers(tmp_path: Path) -> None:
    async with running_node(tmp_path, rate_frames=5, rate_frames_burst=5) as node:
        client = await RawClient.connect(node.url, await node.token("alice"))
        for i in range(8):
            await client.send(frames.Ping(ts=i))
        replies = [await client.recv() for _ in range(8)]
        refused = [f for f in replies if isinstance(f, frames.Error)]
        assert len(refused) == 3 and all(f.code == "rate_limited" and f.action == "retry" for f in refused)
        assert "retry in" in refused[0].message
        assert sum(isinstance(f, frames.Pong) for f in replies) == 5
        await client.close()


async def test_user_send_rate_spans_the_users_devices(tmp_path: Path) -> None:
    async with running_node(tmp_path, rate_sends=3, rate_sends_burst=3, rate_frames=0) as node:
        phone = await RawClient.connect(node.url, await node.token("alice"), device="phone")
        laptop = await RawClient.connect(node.url, await node.token("alice"), device="laptop")
        conv = (await phone.request(frames.ConvCreate, kind="group", members=[])).conv.conv
        results = []
        for i in range(4):
            device = phone if i % 2 else laptop
            results.append(await device.request(frames.Send, conv=conv, cmid=f"c{i}", body={"text": "x"}))
        assert [type(r).__name__ for r in results] == ["Ack", "Ack", "Ack", "Error"]
        assert results[-1].code == "rate_limited"
        page = await phone.request(frames.History, conv=conv)
        assert [m.cmid for m in page.messages if m.kind == "text"] == ["c0", "c1", "c2"]
        await phone.close()
        await laptop.close()


async def test_too_many_connections_for_one_user(tmp_path: Path) -> None:
    async with running_node(tmp_path, max_connections_per_user=2) as node:
        token = await node.token("alice")
        first = await RawClient.connect(node.url, token)
        second = await RawClient.connect(node.url, token)
        third = await RawClient.connect(node.url)
        await third.send(frames.Hello(v=1, token=token))
        assert (await third.expect(frames.Error)).code == "limit_exceeded"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await third.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4029
        await first.send(frames.Ping(ts=1))
        assert isinstance(await first.expect(frames.Pong), frames.Pong)
        await first.close()
        await second.close()


async def test_group_size_limit(tmp_path: Path) -> None:
    async with running_node(tmp_path, max_group_members=3) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        too_big = await alice.request(frames.ConvCreate, kind="group", members=["b", "c", "d"])
        assert isinstance(too_big, frames.Error) and too_big.code == "limit_exceeded"
        conv = (await alice.request(frames.ConvCreate, kind="group", members=["b", "c"])).conv.conv
        refused = await alice.request(frames.MemberAdd, conv=conv, users=["d"])
        assert isinstance(refused, frames.Error) and refused.code == "limit_exceeded"
        await alice.close()


async def test_origin_check(tmp_path: Path) -> None:
    async with running_node(tmp_path, allowed_origins=("https://app.example",)) as node:
        with pytest.raises(InvalidStatus) as refused:
            await websockets.connect(node.url, origin="https://evil.example")  # type: ignore[arg-type]
        assert refused.value.response.status_code == 403
        ok = await websockets.connect(node.url, origin="https://app.example")  # type: ignore[arg-type]
        await ok.close()


async def test_metrics_and_health(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        conv = (await alice.request(frames.ConvCreate, kind="group", members=[])).conv.conv
        await alice.request(frames.Send, conv=conv, cmid="m", body={"text": "hi"})
        await alice.send_raw(b"\xc1")
        await alice.expect(frames.Error)
        async with httpx.AsyncClient(base_url=node.http) as http:
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            ready = await http.get("/readyz")
            assert ready.status_code == 200 and ready.json()["status"] == "ready"
            text = (await http.get("/metrics")).text
        assert "parley_connections 1.0" in text
        assert 'parley_frames_in_total{type="send"} 1.0' in text
        assert 'parley_frames_out_total{type="ack"} 1.0' in text
        assert "parley_messages_persisted_total 2.0" in text  # the "created" event and the message
        assert 'parley_error_frames_total{code="bad_frame"} 1.0' in text
        assert 'parley_store_seconds_count{op="append"}' in text
        await alice.close()


async def test_readyz_fails_when_the_broker_is_gone(tmp_path: Path) -> None:
    from tests.servers import RedisServer

    redis = RedisServer()
    redis.start()
    try:
        async with (
            running_node(tmp_path, redis_url=redis.url, probe_timeout=0.5) as node,
            httpx.AsyncClient(base_url=node.http, timeout=10) as http,
        ):
            assert (await http.get("/readyz")).status_code == 200
            redis.stop()
            down = await http.get("/readyz")
            assert down.status_code == 503 and "broker" in down.json()["problems"]
            redis.start()
            for _ in range(40):
                if (await http.get("/readyz")).status_code == 200:
                    break
            else:
                pytest.fail("the node never became ready again after Redis came back")
    finally:
        redis.stop()


async def test_a_connection_storm_does_not_take_the_node_down(tmp_path: Path) -> None:
    import asyncio

    async with running_node(tmp_path, auth_timeout=1.0) as node:
        token = await node.token("storm")

        async def silent() -> websockets.ClientConnection:
            return await websockets.connect(node.url)

        async def authed(i: int) -> RawClient:
            return await RawClient.connect(node.url, token if i % 2 else await node.token(f"u{i}"))

        silents = await asyncio.gather(*(silent() for _ in range(150)))
        clients = await asyncio.gather(*(authed(i) for i in range(150)), return_exceptions=True)
        ok = [c for c in clients if isinstance(c, RawClient)]
        assert len(ok) >= 150 - 75 + 10, "all distinct users got in; the shared user hit its connection limit"
        probe = await RawClient.connect(node.url, await node.token("probe"))
        await probe.send(frames.Ping(ts=7))
        assert (await probe.expect(frames.Pong, timeout=10)).ts == 7, "the node still serves"
        closed = 0
        for ws in silents:
            try:
                await asyncio.wait_for(ws.recv(), 10)
            except websockets.ConnectionClosed as exc:
                closed += exc.rcvd is not None and exc.rcvd.code == 4003
        assert closed == len(silents), "every connection that never said hello was closed (4003)"
        for c in [*ok, probe]:
            await c.close()
