"""After a recall, nothing of the recalled content is readable: not the message, not its
earlier ``edit`` records — in history and in sync, on SQLite and on the MongoDB wire server
(issue 10, item 13)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.proto import frames
from tests.harness import RunningNode, running_node
from tests.wsclient import RawClient

SECRETS = ("login code 1234", "corrected code 4321")


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.mongo)])
async def node(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[RunningNode]:
    if request.param == "sqlite":
        async with running_node(tmp_path) as running:
            yield running
    else:
        url: str = request.getfixturevalue("mongo_url")
        database: str = request.getfixturevalue("mongo_db")
        async with running_node(tmp_path, mongo_url=url, mongo_database=database) as running:
            yield running


async def test_recall_removes_the_text_of_earlier_edits_from_history_and_sync(node: RunningNode) -> None:
    alice = await RawClient.connect(node.url, await node.token("alice"))
    conv = (await alice.request(frames.ConvCreate, kind="group", members=["bob"])).conv.conv
    sent = await alice.request(frames.Send, conv=conv, cmid="s", body={"text": SECRETS[0]})
    assert isinstance(
        await alice.request(frames.Edit, conv=conv, seq=sent.seq, body={"text": SECRETS[1]}), frames.Ack
    )
    assert isinstance(await alice.request(frames.Recall, conv=conv, seq=sent.seq), frames.Ack)
    await alice.close()

    bob = await RawClient.connect(node.url, await node.token("bob"))
    page = await bob.request(frames.History, conv=conv)
    assert [m.kind for m in page.messages][-3:] == ["text", "edit", "recall"]
    synced = await bob.request(frames.Sync, positions=[frames.Position(conv=conv, seq=0)])
    assert isinstance(synced, frames.Synced)
    replayed = []
    while bob.backlog:
        frame = bob.backlog.pop(0)
        if isinstance(frame, frames.Msg):
            replayed.append(frame.m)
    assert [m.kind for m in replayed][-3:] == ["text", "edit", "recall"]
    for messages in (page.messages, replayed):
        for secret in SECRETS:
            assert secret not in repr(messages), f"{secret!r} still readable after the recall"
        edit = next(m for m in messages if m.kind == "edit")
        assert edit.body == {"target": sent.seq} and edit.recalled
    await bob.close()
