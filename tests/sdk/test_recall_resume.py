"""A client that was offline during an edit and its recall resumes to just the recall: the
scrubbed edit record (issue 10, item 13) is not surfaced as an ``EditEvent`` with no body."""

from __future__ import annotations

import asyncio

import pytest

from parley.sdk import Client, EditEvent, MessageEvent, RecallEvent
from tests.harness import RunningNode

pytestmark = pytest.mark.timeout(30)


async def test_an_offline_client_resumes_a_recalled_edit_as_just_a_recall(node: RunningNode) -> None:
    async with Client(node.url, token=await node.token("alice")) as alice:
        conv = (await alice.create_direct("bob")).conv
        sent = await alice.send(conv, "code 1234")
        async with Client(node.url, token=await node.token("bob")) as bob:
            saved = bob.positions
        await alice.edit(conv, sent.seq, "code 4321")
        await alice.recall(conv, sent.seq)
    async with Client(node.url, token=await node.token("bob"), positions=saved) as bob:
        stream = bob.events(MessageEvent, EditEvent, RecallEvent)
        seen: list[object] = []
        async with asyncio.timeout(5):
            async for event in stream:
                seen.append(event)
                if isinstance(event, RecallEvent):
                    break
    assert [type(e) for e in seen] == [RecallEvent], seen
    # With their words: bare digits also turn up in random hex mids.
    assert "code 4321" not in repr(seen) and "code 1234" not in repr(seen)
