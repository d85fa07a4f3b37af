"""The Mongo journey adapter claims due timers with single-document updates by ``_id``.

The contract suite (``test_journeys_contract.py``) proves what a claim means on both adapters;
this file pins the *shape* of the Mongo claim, because the shape decides whether 100 000
pending timers can be served: the MongoDB wire server of the tests runs a ``findAndModify``
as a scan of the collection (~80 ms at 10 000 runs, ~750 ms at 100 000) while an ``update``
by ``_id`` stays ~1 ms (docs/BENCHMARKS.md). Commands are counted with pymongo's command
monitoring on a client of our own, not timed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from typing import Any, cast

import pytest
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.monitoring import CommandFailedEvent, CommandListener, CommandStartedEvent, CommandSucceededEvent

from parley.server.journey_port import Run
from parley.server.store.mongo_conn import MongoConnection
from parley.server.store.mongo_journeys import JOURNEY_INDEXES, JourneyCollections

pytestmark = pytest.mark.mongo

APP = "acme"


class _Commands(CommandListener):
    """Counts the commands the client sends, by name."""

    def __init__(self) -> None:
        self.names: Counter[str] = Counter()

    def started(self, event: CommandStartedEvent) -> None:
        self.names[event.command_name] += 1

    def succeeded(self, event: CommandSucceededEvent) -> None:
        pass

    def failed(self, event: CommandFailedEvent) -> None:
        pass


class _Conn:
    """The one attribute of :class:`MongoConnection` the adapter uses: ``db``."""

    def __init__(self, db: AsyncDatabase[dict[str, Any]]) -> None:
        self.db = db


@pytest.fixture
async def watched(mongo_url: str, mongo_db: str) -> AsyncIterator[tuple[JourneyCollections, _Commands]]:
    """The adapter on a client whose commands are counted."""
    seen = _Commands()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url, event_listeners=[seen])
    try:
        db = client[mongo_db]
        for name, models in JOURNEY_INDEXES.items():
            await db[name].create_indexes(models)
        yield JourneyCollections(cast(MongoConnection, _Conn(db))), seen
    finally:
        await client.drop_database(mongo_db)
        await client.close()


def _run(i: int, due: int) -> Run:
    return Run(APP, f"r{i:03}", "j1", 1, f"p{i}", "", "s1", "active", due, "", 0, "", "", "", "", 0, 0, 1, 1)


async def test_a_claim_is_one_read_and_one_update_by_id_per_run_never_find_and_modify(
    watched: tuple[JourneyCollections, _Commands],
) -> None:
    jr, seen = watched
    for i in range(30):
        await jr.start_run(_run(i, due=1000 + i if i < 12 else 10_000 + i))
    await jr.signal_runs(APP, "p3", "ping", [], 5)  # moves r003's sig: the claim must return it as stored
    seen.names.clear()
    claimed = await jr.claim_due_runs(2000, "n1", 500, 10)
    assert [r.rid for r in claimed] == [f"r{i:03}" for i in range(10)], "earliest due first, the limit"
    assert seen.names == Counter({"find": 1, "update": 10}), f"one read, one update per run: {seen.names}"
    for got in claimed:
        assert got == await jr.get_run(APP, got.rid), "a claim returns the run as stored after it"
        assert (got.owner, got.lease_until) == ("n1", 2500)
    seen.names.clear()
    rest = await jr.claim_due_runs(2000, "n2", 500, 10)
    assert [r.rid for r in rest] == ["r010", "r011"], "leased runs are not claimed again"
    assert seen.names["findAndModify"] == 0
