"""AppendBatcher: group commit within ``max_batch``; one bad message fails only itself; an
unavailable store fails every sender of the batch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.models import Appended, Conversation, Member, NewMessage
from parley.server.ports import StoreUnavailable
from parley.server.services.batching import AppendBatcher
from parley.server.store.sqlite import SQLiteStore

A, C = "app1", "c1"


class PickyStore(SQLiteStore):
    """The real store; refuses any batch holding a body marked ``poison`` and can be switched off."""

    down = False

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.sizes: list[int] = []

    async def append(self, batch: Sequence[NewMessage]) -> list[Appended]:
        self.sizes.append(len(batch))
        if self.down:
            raise StoreUnavailable("switched off")
        if any(m.body.get("poison") for m in batch):
            raise ValueError("cannot store this")
        return await super().append(batch)


@pytest.fixture
async def picky(tmp_path: Path) -> AsyncIterator[PickyStore]:
    store = PickyStore(str(tmp_path / "p.db"))
    await store.open()
    await store.create_conversation(
        Conversation(app=A, conv=C, kind="group", epoch="e", created=1), [Member(A, C, "alice", "owner", 1)]
    )
    try:
        yield store
    finally:
        await store.close()


def _message(i: int, **body: object) -> NewMessage:
    return NewMessage(
        app=A,
        conv=C,
        mid=f"m{i}",
        sender="alice",
        cmid=f"k{i}",
        kind="custom",
        body={"i": i, **body},
        ts=now_ms(),
    )


async def test_batches_stay_within_max_batch_and_are_announced_in_order(picky: PickyStore) -> None:
    stored: list[int] = []
    batcher = AppendBatcher(picky, lambda results: stored.extend(r.message.seq for r in results), max_batch=3)
    results = await asyncio.gather(*[batcher.submit(_message(i)) for i in range(10)])
    assert [r.message.seq for r in results] == list(range(1, 11))
    assert picky.sizes and max(picky.sizes) <= 3 and sum(picky.sizes) == 10
    assert stored == list(range(1, 11)), "on_stored sees every batch, in seq order"
    assert batcher.batches == len(picky.sizes) and batcher.isolated == 0


async def test_one_bad_message_fails_only_itself(picky: PickyStore) -> None:
    announced: list[int] = []
    batcher = AppendBatcher(picky, lambda results: announced.extend(r.message.seq for r in results))
    futures = [batcher.submit(_message(i, poison=(i == 2))) for i in range(5)]
    outcomes = await asyncio.gather(*futures, return_exceptions=True)
    bad = outcomes[2]
    assert isinstance(bad, ServiceError) and bad.code is ErrorCode.INVALID_REQUEST
    good = [o for i, o in enumerate(outcomes) if i != 2]
    assert all(isinstance(o, Appended) for o in good), outcomes
    assert [o.message.body["i"] for o in good if isinstance(o, Appended)] == [0, 1, 3, 4]
    assert batcher.isolated >= 1
    assert sorted(announced) == [o.message.seq for o in good if isinstance(o, Appended)]
    # A lone bad message is not "isolated": the store's own error reaches its sender.
    with pytest.raises(ValueError):
        await batcher.append(_message(9, poison=True))


async def test_an_unavailable_store_fails_every_sender_of_the_batch_and_nothing_is_announced(
    picky: PickyStore,
) -> None:
    announced: list[Sequence[Appended]] = []
    batcher = AppendBatcher(picky, announced.append)
    picky.down = True
    outcomes = await asyncio.gather(*[batcher.submit(_message(i)) for i in range(4)], return_exceptions=True)
    assert all(isinstance(o, StoreUnavailable) for o in outcomes), outcomes
    assert announced == [] and batcher.isolated == 0
    picky.down = False
    again = await batcher.append(_message(0))
    assert again.message.seq == 1 and not again.duplicate
