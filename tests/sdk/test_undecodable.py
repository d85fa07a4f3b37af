"""Values a client cannot decode (issue 10, item 1): never lost silently, never stored.

* A pushed frame the SDK cannot decode becomes a :class:`DecodeErrorEvent`
  (not a log line), and a reply it cannot decode fails its request at once
  instead of timing out.
* Values already stored that a client cannot decode (written by an older
  version straight into the SQLite file here) are repaired when read.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import msgspec
import pytest

from parley.proto.plain import TOO_DEEP
from parley.sdk import Client, DecodeErrorEvent, MessageEvent, ReplyError
from tests.harness import RunningNode
from tests.sdk.fakegw import FakeGateway
from tests.sdk.helpers import take

pytestmark = pytest.mark.timeout(30)


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"k": value}
    return value


async def test_an_undecodable_pushed_frame_is_an_error_event() -> None:
    async with FakeGateway() as gw:
        gw.add_conv("c1")
        async with Client(gw.url, token="t0", request_timeout=5) as client:
            errors = client.events(DecodeErrorEvent)
            messages = client.events(MessageEvent)
            await gw.broadcast(gw.store("c1", {"text": "too big", "n": 2**63}))
            (event,) = await take(errors, 1)
            assert event.code == "invalid_frame" and "64-bit" in event.message
            assert event.frame_type == "msg" and event.size > 0
            await gw.live.ws.send(b"\xc1")  # not MessagePack at all
            (event,) = await take(errors, 1)
            assert event.code == "bad_frame" and event.frame_type == "?"
            # A reply the client cannot decode fails its request now (no 5 s timeout).
            with pytest.raises(ReplyError) as refused:
                await client.history("c1")
            assert refused.value.code == "invalid_frame" and not refused.value.temporary
            assert [e.frame_type for e in await take(errors, 1)] == ["page"]
            assert client.state == "connected"
            del messages


def _write_directly(db: Path, conv: str, body: dict[str, Any], meta: dict[str, Any]) -> None:
    """Overwrite stored values in the node's SQLite file, as an older version could have stored them."""
    with sqlite3.connect(db) as raw:
        ckey = raw.execute("SELECT ckey FROM conversations WHERE conv = ?", (conv,)).fetchone()[0]
        raw.execute(
            "UPDATE message_log SET body = ? WHERE ckey = ? AND seq = 2",
            (msgspec.msgpack.encode(body), ckey),
        )
        raw.execute("UPDATE conversations SET meta = ? WHERE ckey = ?", (msgspec.msgpack.encode(meta), ckey))


async def test_stored_values_a_client_cannot_decode_are_repaired_on_read(node: RunningNode) -> None:
    async with (
        Client(node.url, token=await node.token("alice"), request_timeout=3) as alice,
        Client(node.url, token=await node.token("bob"), request_timeout=3) as bob,
    ):
        conv = (await alice.create_group("g", ["bob"], meta={"plan": "pro"})).conv
        await alice.send(conv, "soon overwritten")
        body = {"text": "x", "n": 2**63, "m": 2**64 - 1, "deep": nested(40), "ok": [1, "two"]}
        _write_directly(Path(node.settings.sqlite_path), conv, body, {"n": 2**63})
        page = await bob.history(conv)
        assert page.messages[-1].body == {
            "text": "x", "n": str(2**63), "m": str(2**64 - 1), "deep": _cut(), "ok": [1, "two"]
        }  # fmt: skip
        summaries = await bob.conversations()
        assert [s.conv for s in summaries] == [conv] and summaries[0].last is not None
        assert (await bob.conversation(conv)).meta == {"n": str(2**63)}


def _cut() -> dict[str, Any]:
    """``nested(40)`` under a body key, as repaired: the map at depth 32 (from the body) replaced."""
    value: Any = TOO_DEEP
    for _ in range(31):
        value = {"k": value}
    assert isinstance(value, dict)
    return value
