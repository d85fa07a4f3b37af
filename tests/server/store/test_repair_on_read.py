"""Stored values a client could not decode are repaired on read (issue 10, item 1), MongoDB side.

The SQLite side is shown end to end through the SDK in ``tests/sdk/test_undecodable.py``.
Here documents are written straight into the collection, as an older version
(before bodies and meta were validated) could have written them: ``{"$ref",
"$id"}`` (which the driver reads back as a DBRef), nesting deeper than a client
decodes. What the store returns is plain data a client decodes.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from parley.proto.plain import TOO_DEEP, problem
from parley.server.store.mongo import MongoStore
from parley.server.store.mongo_docs import CONVERSATIONS, MESSAGES, from_new_message
from tests.server.store.contract_data import APP, conv, member, msg

pytestmark = pytest.mark.mongo


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"k": value}
    return value


async def test_mongo_documents_from_before_validation_read_back_plain(mongo_url: str, mongo_db: str) -> None:
    store = MongoStore(mongo_url, mongo_db)
    await store.open()
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_url)
    try:
        await store.create_conversation(conv(), [member("alice")])
        body = {"text": "x", "ref": {"$ref": "users", "$id": 7}, "deep": nested(40), "n": 2**62}
        await client[mongo_db][MESSAGES].insert_one(from_new_message(replace(msg("old"), body=body), 1))
        await client[mongo_db][CONVERSATIONS].update_one(
            {"app": APP, "conv": "c1"}, {"$set": {"meta": {"deep": nested(40)}, "last_seq": 1}}
        )
        (stored,) = await store.get_messages(APP, "c1", 1, 1)
        assert problem(stored.body, keys=False) is None, "a client decodes it"
        assert stored.body["text"] == "x" and stored.body["n"] == 2**62 and type(stored.body["n"]) is int
        assert isinstance(stored.body["ref"], str), "a DBRef is not plain data"
        inner = stored.body["deep"]
        for _ in range(31):
            inner = inner["k"]
        assert inner == TOO_DEEP
        found = await store.get_conversation(APP, "c1")
        assert found is not None and problem(found.meta, keys=False) is None
    finally:
        await client.close()
        await store.close()
