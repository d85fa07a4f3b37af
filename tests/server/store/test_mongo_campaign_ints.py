"""A campaign read back from MongoDB has plain ints: BSON gives ``bson.Int64`` for values past
32 bits (every ms timestamp), which msgspec refuses to encode — ``GET /v1/campaigns/{cid}`` on the
MongoDB store answered 500 (found by the campaign benchmark)."""

from __future__ import annotations

import msgspec
import pytest

from parley.server.campaign_port import Campaign
from parley.server.store.mongo import MongoStore

pytestmark = pytest.mark.mongo


async def test_a_stored_campaign_encodes_as_json(mongo_url: str, mongo_db: str) -> None:
    store = MongoStore(mongo_url, mongo_db)
    await store.open()
    try:
        now = 1_765_000_000_000
        doc = {"name": "c", "start_at": now, "rate": 10, "nested": {"at": now}}
        assert await store.create_campaign(
            Campaign("a1", "c1", "scheduled", now, doc, created=now, updated=now)
        )
        got = await store.get_campaign("a1", "c1")
        assert got is not None
        assert [type(v) for v in (got.start_at, got.created, got.updated, got.version, got.lease_until)] == [
            int
        ] * 5
        assert msgspec.json.decode(msgspec.json.encode(got.doc)) == doc
        (listed,) = await store.list_campaigns("a1")
        msgspec.json.encode([listed.start_at, listed.doc])
    finally:
        await store.conn.db.client.drop_database(mongo_db)
        await store.close()
