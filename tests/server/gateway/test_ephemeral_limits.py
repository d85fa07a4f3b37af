"""Drafts and typing (ephemeral, fanned out, never stored) have size and rate limits like sends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parley.proto import frames
from tests.harness import running_node
from tests.wsclient import RawClient


async def _until_msg(client: RawClient) -> list[Any]:
    """Frames ``client`` gets up to (and without) the next ``msg``."""
    seen = []
    while not isinstance(frame := await client.recv(), frames.Msg):
        seen.append(frame)
    return seen


async def test_typing_and_drafts_share_a_per_user_rate(tmp_path: Path) -> None:
    async with running_node(tmp_path, rate_ephemeral=3, rate_ephemeral_burst=3, rate_frames=0) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        bob = await RawClient.connect(node.url, await node.token("bob"))
        conv = (await alice.request(frames.ConvCreate, kind="group", members=["bob"])).conv.conv
        await bob.expect(frames.ConvEvent)
        for i in range(4):
            await alice.send(frames.Typing(conv=conv))
            await alice.send(frames.Draft(conv=conv, draft="d1", body={"text": "x" * i}))
        await alice.request(frames.Send, conv=conv, cmid="m1", body={"text": "done"})
        refused = [f for f in alice.backlog if isinstance(f, frames.Error)]
        assert len(refused) == 5 and {f.code for f in refused} == {"rate_limited"}
        got = await _until_msg(bob)
        assert len([f for f in got if isinstance(f, (frames.TypingEvent, frames.DraftEvent))]) == 3
        await alice.close()
        await bob.close()


async def test_an_oversized_draft_is_refused_and_not_fanned_out(tmp_path: Path) -> None:
    async with running_node(tmp_path, max_draft_bytes=1000) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        bob = await RawClient.connect(node.url, await node.token("bob"))
        conv = (await alice.request(frames.ConvCreate, kind="group", members=["bob"])).conv.conv
        await bob.expect(frames.ConvEvent)
        await alice.send(frames.Draft(conv=conv, draft="d1", body={"text": "x" * 2000}))
        error = await alice.expect(frames.Error)
        assert error.code == "limit_exceeded" and "1000" in error.message
        await alice.send(frames.Draft(conv=conv, draft="d1", body={"text": "x" * 900}))
        await alice.request(frames.Send, conv=conv, cmid="m1", body={"text": "done"})
        drafts = [f for f in await _until_msg(bob) if isinstance(f, frames.DraftEvent)]
        assert [len(d.body["text"]) for d in drafts] == [900]
        await alice.close()
        await bob.close()
