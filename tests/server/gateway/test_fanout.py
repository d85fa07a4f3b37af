"""The gateway's fan-out behind the message service: the sender's connection is skipped when its
message comes back from the broker, duplicates leave nothing behind, and the counts are kept here
(the services count nothing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.server.broker.memory import MemoryBroker
from parley.server.channels import conv_channel
from parley.server.gateway.echo import EchoFilter
from parley.server.gateway.fanout import GatewayFanOut
from parley.server.metrics import Metrics
from parley.server.models import Conversation, Member
from parley.server.services.messages import MessageService
from parley.server.store.sqlite import SQLiteStore

A, C = "app1", "c1"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(str(tmp_path / "parley.db"))
    await s.open()
    await s.create_conversation(
        Conversation(app=A, conv=C, kind="group", epoch="e", created=1),
        [Member(A, C, "alice", "owner", 1), Member(A, C, "bob", "member", 1)],
    )
    try:
        yield s
    finally:
        await s.close()


async def test_the_sender_is_noted_for_its_own_message_only_and_counted_here(store: SQLiteStore) -> None:
    broker, echoes, metrics = MemoryBroker(), EchoFilter(), Metrics()
    published: list[bytes] = []
    await broker.start(lambda channel, data: published.append(data))
    await broker.subscribe([conv_channel(A, C)])
    messages = MessageService(store, broker, fanout=GatewayFanOut(broker, metrics, echoes))
    sender, other = object(), object()
    await messages.submit(A, "alice", C, kind="text", body={"text": "hi"}, cmid="k1", origin=sender)
    await messages.submit(A, "bob", C, kind="text", body={"text": "yo"}, cmid="k2")
    again = messages.submit(A, "alice", C, kind="text", body={"text": "hi"}, cmid="k1", origin=other)
    assert (await again).duplicate
    await broker.flush()
    assert len(published) == 2, "a duplicate is not published again"
    assert echoes.take(published[0]) is sender, "the hub will skip the sending connection"
    assert echoes.take(published[1]) is None, "a message with no origin skips nobody"
    assert len(echoes) == 0, "every published origin was taken back"
    text = metrics.render().decode()
    assert "parley_messages_persisted_total 2.0" in text
    assert "parley_append_batch_size_count 3.0" in text, "one batch per send here (awaited one by one)"
    await broker.close()
