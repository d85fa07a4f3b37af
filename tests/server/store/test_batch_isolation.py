"""A group-commit batch isolates a message its store refuses (issue 10, item 1).

The message service validates bodies first, so here the bad message goes
straight to the batcher, as a value some store still cannot write would: one in
the same batch as other tenants' messages must fail alone, with
``invalid_request``, and every other message must be stored, in order, and
handed to fan-out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace

import pytest

from parley.server.errors import ServiceError
from parley.server.models import Appended
from parley.server.services.batching import AppendBatcher
from tests.server.store.conftest import MakeStore
from tests.server.store.contract_data import APP, EVERYTHING, conv, member, msg

# Neither store can write these: SQLite's MessagePack stops at 2**64 - 1, BSON at
# int64 and at NUL in a field name.
UNWRITABLE = [
    {"text": "x", "n": 2**64},
    {"text": "x", "k\u0000": 1, "n": -(2**63) - 1},
]


@pytest.mark.parametrize("body", UNWRITABLE)
async def test_a_refused_message_fails_alone(make_store: MakeStore, body: dict[str, object]) -> None:
    store = await make_store()
    await store.create_conversation(conv("good"), [member("alice", "good")])
    await store.create_conversation(conv("bad", app="evil"), [member("mallory", "bad", app="evil")])
    fanned: list[Appended] = []

    def on_stored(results: Sequence[Appended]) -> None:
        fanned.extend(results)

    batcher = AppendBatcher(store, on_stored)
    good = [batcher.submit(msg(f"g{i}", conv_id="good")) for i in range(10)]
    refused = batcher.submit(replace(msg("bad", conv_id="bad", app="evil", sender="mallory"), body=body))
    good += [batcher.submit(msg(f"h{i}", conv_id="good")) for i in range(10)]
    done = await asyncio.gather(*good, refused, return_exceptions=True)
    appended, error = done[:-1], done[-1]
    assert all(isinstance(a, Appended) for a in appended), appended
    assert [a.message.seq for a in appended if isinstance(a, Appended)] == list(range(1, 21))
    assert isinstance(error, ServiceError) and error.code == "invalid_request", error
    assert batcher.isolated == 1
    assert [a.message.seq for a in fanned] == list(range(1, 21))
    stored = await store.get_messages(APP, "good", 1, EVERYTHING)
    assert [m.cmid for m in stored] == [f"g{i}" for i in range(10)] + [f"h{i}" for i in range(10)]
    assert await store.get_messages("evil", "bad", 1, EVERYTHING) == []
