"""A profile change's history and consent-ledger lines are written once even when the write is
repeated: pymongo retries an ``insert_many`` whose answer was lost, and a server that does not
recognise the retry (the MongoDB wire server of the tests) answers "duplicate key" for lines it
already holds. Their ``_id`` is ``app/pid/rev/n``, so a duplicate is the same line: not an error
(seen as a failed seed of the campaign chaos test under load)."""

from __future__ import annotations

import pytest

from parley.server.audience_models import ConsentEntry, TagChange
from parley.server.store.mongo import MongoStore
from parley.server.store.mongo_audience import ProfileDocs

pytestmark = pytest.mark.mongo


async def test_a_repeated_line_write_is_not_an_error(mongo_url: str, mongo_db: str) -> None:
    store = MongoStore(mongo_url, mongo_db)
    await store.open()
    try:
        docs = ProfileDocs(store.conn)
        ledger = [ConsentEntry("marketing", "granted", 5, "api", "t")]
        history = [TagChange("vip", 1, "set", "api", 1.0, "", 5, "t")]
        await docs._lines("a1", "p1", 2, history, ledger)
        await docs._lines("a1", "p1", 2, history, ledger)  # the retry of a write that had landed
        assert [e.state for e in await store.consent_ledger("a1", "p1")] == ["granted"]
        assert len(await store.tag_history("a1", "p1")) == 1
    finally:
        await store.conn.db.client.drop_database(mongo_db)
        await store.close()
