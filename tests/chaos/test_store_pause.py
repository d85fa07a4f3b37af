"""The store stops answering for several seconds (SIGSTOP), then comes back (SIGCONT)."""

from __future__ import annotations

import asyncio
import time

import pytest

from parley.proto import frames
from parley.server.auth.tokens import issue_token
from tests.chaos.cluster import Cluster
from tests.chaos.traffic import Traffic, check
from tests.wsclient import RawClient

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(120)]

PAUSE = 5.0


def _need_pausable(cluster: Cluster) -> None:
    if cluster.mongo_proc is None:
        pytest.skip("MONGO_URL points at an external server: cannot SIGSTOP it")


async def test_store_stopped_for_seconds_then_everything_sent_succeeds(cluster: Cluster) -> None:
    _need_pausable(cluster)
    assert cluster.mongo_proc is not None
    lb = await cluster.start(3)
    traffic = Traffic(lb.url, cluster.app, users=20, send_timeout=40.0)
    try:
        await traffic.setup()
        traffic.start()
        await asyncio.sleep(2)
        cluster.mongo_proc.pause()
        try:
            await asyncio.sleep(PAUSE)
        finally:
            cluster.mongo_proc.resume()
        await asyncio.sleep(3)
        await traffic.stop()
        counts = await check("store stopped 5 s", traffic, cluster.store)
        failures = sorted({a.error for a in traffic.attempts if a.seq is None})
        assert counts.unacked == 0, f"sends failed for good: {failures}\n{cluster.logs()}"
        counts.assert_contract()
    finally:
        cluster.mongo_proc.resume()
        await traffic.close()


async def test_send_fails_fast_with_a_temporary_error_while_the_store_is_stopped(cluster: Cluster) -> None:
    _need_pausable(cluster)
    assert cluster.mongo_proc is not None
    await cluster.start(1)
    node = cluster.nodes[0]
    token = issue_token(cluster.app, "probe")[0]
    raw = await RawClient.connect(node.url, token)
    try:
        conv = (await raw.request(frames.ConvCreate, kind="group", name="p", members=[])).conv.conv
        ok = await raw.request(frames.Send, conv=conv, cmid="before", body={"text": "before"})
        assert isinstance(ok, frames.Ack)
        cluster.mongo_proc.pause()
        try:
            started = time.monotonic()
            await raw.send(frames.Send(id=777, conv=conv, cmid="during", body={"text": "during"}))
            try:
                reply = await raw.expect(frames.Error, timeout=PAUSE + 1, id=777)
            except TimeoutError:
                reply = None
            waited = time.monotonic() - started
        finally:
            cluster.mongo_proc.resume()
        print(f"[chaos] send while the store is stopped: {reply!r} after {waited:.1f} s")
        assert reply is not None, "no error frame while the store was stopped"
        assert reply.code == "unavailable" and reply.action == "retry"
        again = await raw.request(frames.Send, conv=conv, cmid="during", body={"text": "during"})
        assert isinstance(again, frames.Ack)
    finally:
        cluster.mongo_proc.resume()
        await raw.close()
