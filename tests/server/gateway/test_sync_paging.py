"""``synced`` lists a bounded number of conversations; the rest come in further pages."""

from __future__ import annotations

from pathlib import Path

from parley.proto import frames
from parley.sdk import Client, MessageEvent
from tests.harness import running_node
from tests.sdk.helpers import first
from tests.wsclient import RawClient


async def test_synced_pages_the_users_conversations(tmp_path: Path) -> None:
    async with running_node(tmp_path, sync_page_convs=10) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        convs = sorted(
            [(await alice.request(frames.ConvCreate, kind="group", members=[])).conv.conv for _ in range(25)]
        )
        gone = frames.Position(conv="c_zzzz_gone", seq=3)
        positions = [frames.Position(conv=c, seq=0) for c in convs] + [gone]
        seen: list[str] = []
        after, pages = "", 0
        while True:
            synced = await alice.request(
                frames.Sync, positions=[p for p in positions if p.conv > after], after=after
            )
            assert isinstance(synced, frames.Synced) and len(synced.convs) <= 11
            seen += [s.conv for s in synced.convs]
            pages += 1
            if not synced.next:
                break
            after = synced.next
        assert pages == 3 and sorted(seen) == [*convs, gone.conv]
        assert [s.reset for s in synced.convs if s.conv == gone.conv] == [True]
        await alice.close()


async def test_the_sdk_follows_sync_pages_when_resuming(tmp_path: Path) -> None:
    async with running_node(tmp_path, sync_page_convs=4) as node:
        bob = await RawClient.connect(node.url, await node.token("bob"))
        created = [
            (await bob.request(frames.ConvCreate, kind="group", members=["alice"])).conv for _ in range(9)
        ]
        saved = {c.conv: (c.last_seq, c.epoch) for c in created}  # what alice's app saved last time
        last = max(saved)
        await bob.request(frames.Send, conv=last, cmid="late", body={"text": "in the last page"})
        async with Client(node.url, token=await node.token("alice"), positions=saved) as alice:
            inbox = alice.events(MessageEvent)
            got = await first(inbox, lambda e: e.message.kind == "text")
            assert (got.message.conv, got.message.text) == (last, "in the last page")
        await bob.close()
