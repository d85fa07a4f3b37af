"""One bad message fails only itself (issue 10, item 1), on SQLite and on the MongoDB wire server.

A tenant posts bodies no store or client can hold (a NUL or ``$`` key, integers
outside int64, deep nesting, an oversized body) through the admin API and the
gateway while another app's users send good messages on the same node: every
good send is acked, every bad one gets ``invalid_request`` (or ``invalid_frame``)
and nothing undecodable is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgpack
import pytest

from parley.proto import frames
from parley.proto.codec import MAX_DEPTH
from tests.harness import RunningNode, running_node
from tests.wsclient import RawClient


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"text": "deep"}
    for _ in range(depth):
        value = {"k": value}
    return {"text": "x", "n": value}


BAD_BODIES: list[dict[str, Any]] = [
    {"text": "x", "k\u0000": 1},
    {"text": "x", "n": 2**63},
    {"text": "x", "n": 2**64},
    {"text": "x", "n": -(2**63) - 1},
    {"text": "x", "$ref": "users", "$id": 1},
    {"text": "x", "a.b": 1},
    {"text": "x", "list": [{"k\u0000": 1}]},
    nested(MAX_DEPTH + 1),
    {"text": "x", "blob": "y" * 70_000},
]


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def node(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunningNode]:
    extra: dict[str, Any] = {}
    if request.param == "mongo":
        extra = {
            "mongo_url": request.getfixturevalue("mongo_url"),
            "mongo_database": request.getfixturevalue("mongo_db"),
        }
    async with running_node(tmp_path, admin_key="root", **extra) as running:
        yield running


async def test_bad_admin_posts_fail_alone_while_another_app_sends(node: RunningNode) -> None:
    other = await node.node.services.apps.create_app("other")
    senders = []
    for user in ("olga", "oscar", "otto", "ophelia"):
        token, _ = await node.node.services.apps.token(other.app.app, user, ttl=600)
        senders.append(await RawClient.connect(node.url, token))
    olga = senders[0]
    conv = (
        await olga.request(frames.ConvCreate, kind="group", members=["oscar", "otto", "ophelia"], name="g")
    ).conv.conv
    headers = {"authorization": f"Bearer {node.api_key}"}
    async with httpx.AsyncClient(base_url=node.http, headers=headers, timeout=20) as api:
        made = await api.post("/v1/conversations", json={"kind": "group", "members": ["mallory", "eve"]})
        bad_conv = made.json()["conv"]

        async def bad_posts() -> list[httpx.Response]:
            out = []
            for round_ in range(3):
                posts = [
                    api.post(f"/v1/conversations/{bad_conv}/messages", json={"body": b, "sender": "mallory"})
                    for b in BAD_BODIES
                ] + [
                    api.post("/v1/users/eve/messages", json={"body": b, "sender": "mallory"})
                    for b in BAD_BODIES
                ]
                out += await asyncio.gather(*posts)
                del round_
            return out

        async def good_sends(client: RawClient) -> list[Any]:
            return [
                await client.request(frames.Send, conv=conv, cmid=f"g{i}", body={"text": f"m{i}"})
                for i in range(20)
            ]

        async def all_good_sends() -> list[Any]:
            return [a for acks in await asyncio.gather(*map(good_sends, senders)) for a in acks]

        answers, acks = await asyncio.gather(bad_posts(), all_good_sends())
        assert all(isinstance(a, frames.Ack) for a in acks), [
            a for a in acks if not isinstance(a, frames.Ack)
        ]
        for answer in answers:
            assert answer.status_code == 422, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert answer.json()["code"] == "invalid_request"
        history = await api.get(f"/v1/conversations/{bad_conv}/messages")
        assert [m["kind"] for m in history.json()["messages"]] == ["system"], "nothing bad was stored"
    for client in senders:
        await client.close()


@pytest.mark.parametrize("body", BAD_BODIES[:1] + BAD_BODIES[4:8])
async def test_the_gateway_refuses_the_same_bodies(node: RunningNode, body: dict[str, Any]) -> None:
    alice = await RawClient.connect(node.url, await node.token("alice"))
    conv = (await alice.request(frames.ConvCreate, kind="group", members=["bob"], name="g")).conv.conv
    await alice.send_raw(msgpack.packb({"t": "send", "id": 7, "conv": conv, "cmid": "bad", "body": body}))
    error = await alice.expect(frames.Error)
    assert error.id == 7 and error.code in {"invalid_frame", "invalid_request"}, error
    ack = await alice.request(frames.Send, conv=conv, cmid="good", body={"text": "still here"})
    assert isinstance(ack, frames.Ack) and ack.seq == 2
    await alice.close()


async def test_meta_and_profile_attributes_are_validated_too(node: RunningNode) -> None:
    headers = {"authorization": f"Bearer {node.api_key}"}
    async with httpx.AsyncClient(base_url=node.http, headers=headers, timeout=20) as api:
        for bad in ({"k\u0000": 1}, {"n": 2**63}, {"$set": 1}):
            answers = [
                await api.post("/v1/users", json={"user": "u1", "meta": bad}),
                await api.post("/v1/conversations", json={"kind": "group", "members": ["u1"], "meta": bad}),
                await api.post("/v1/users/u1/tags", json={"attributes": bad}),
            ]
            for answer in answers:
                assert answer.status_code == 422 and answer.json()["code"] == "invalid_request", answer.text
        assert (await api.post("/v1/users", json={"user": "u1", "meta": {"plan": "pro"}})).status_code == 201
