"""Operator endpoints under attack (issue 10, item 16): ``/readyz`` says what is down in
generic words (never a hostname or a driver's error text), and ``ops_token`` guards
``/readyz`` and ``/metrics``."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.harness import running_node
from tests.servers import RedisServer, free_port, mongo_server
from tests.wsclient import RawClient

LEAKS = ("127.0.0.1", "localhost", "redis:", "Error", "refused", "Connect", "timed out", "mongodb")


def assert_generic(body: str, port: int) -> None:
    for leak in (*LEAKS, str(port)):
        assert leak not in body, f"/readyz leaks {leak!r}: {body}"


@pytest.mark.redis
async def test_readyz_names_a_lost_broker_generically(tmp_path: Path) -> None:
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
            assert down.status_code == 503
            assert down.json() == {"status": "unready", "problems": {"broker": "unavailable"}}
            assert_generic(down.text, redis.port)
    finally:
        redis.stop()


@pytest.mark.mongo
async def test_readyz_names_a_lost_store_generically(tmp_path: Path) -> None:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(mongo_server())
        port = int(url.rsplit(":", 1)[1].strip("/"))
        async with (
            running_node(tmp_path, mongo_url=url, mongo_database="ops", store_timeout=1.0) as node,
            httpx.AsyncClient(base_url=node.http, timeout=30) as http,
        ):
            assert (await http.get("/readyz")).status_code == 200
            stack.close()  # the MongoDB server is gone
            down = await http.get("/readyz")
            assert down.status_code == 503
            assert down.json() == {"status": "unready", "problems": {"store": "unavailable"}}
            assert_generic(down.text, port)


@pytest.mark.parametrize("path", ["/readyz", "/metrics"])
async def test_an_ops_token_guards_readyz_and_metrics(tmp_path: Path, path: str) -> None:
    async with (
        running_node(tmp_path, ops_token="s3cret-ops") as node,
        httpx.AsyncClient(base_url=node.http) as http,
    ):
        for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "Basic s3cret-ops"}):
            refused = await http.get(path, headers=headers)
            assert refused.status_code == 401, (headers, refused.text)
            assert refused.headers["content-type"] == "application/problem+json"
            assert refused.headers["www-authenticate"].startswith("Bearer")
            assert refused.json()["code"] == "not_authenticated"
        ok = await http.get(path, headers={"authorization": "Bearer s3cret-ops"})
        assert ok.status_code == 200
        assert (await http.get("/healthz")).status_code == 200, "liveness stays open"


async def test_without_an_ops_token_readyz_and_metrics_stay_open(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node, httpx.AsyncClient(base_url=node.http) as http:
        assert (await http.get("/readyz")).status_code == 200
        assert (await http.get("/metrics")).status_code == 200


async def test_ops_endpoints_on_their_own_listen_address(tmp_path: Path) -> None:
    """``ops_listen``: /metrics and /readyz only there (404 on the public port); the ops
    address serves nothing else (no admin API, no WebSocket)."""
    ops_port = free_port()
    ops = f"http://127.0.0.1:{ops_port}"
    async with (
        running_node(tmp_path, ops_listen=f"127.0.0.1:{ops_port}") as node,
        httpx.AsyncClient(timeout=10) as http,
    ):
        for path in ("/metrics", "/readyz"):
            public = await http.get(node.http + path)
            assert public.status_code == 404, (path, public.text)
            assert (await http.get(ops + path)).status_code == 200
        for url in (node.http + "/healthz", ops + "/healthz"):
            assert (await http.get(url)).status_code == 200
        admin = await http.get(ops + "/v1/users/alice", headers={"authorization": f"Bearer {node.api_key}"})
        assert admin.status_code == 404
        assert (
            await http.get(node.http + "/v1/users/alice", headers={"authorization": f"Bearer {node.api_key}"})
        ).status_code in (200, 404)
        with pytest.raises(InvalidStatus):
            await websockets.connect(f"ws://127.0.0.1:{ops_port}/ws")
        client = await RawClient.connect(node.url, await node.token("alice"))  # the gateway is unchanged
        await client.close()
