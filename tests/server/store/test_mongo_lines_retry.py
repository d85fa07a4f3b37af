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


async def test_an_identifier_whose_insert_landed_before_a_retry_is_ours(
    mongo_url: str, mongo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``resolve_or_create`` inserts the profile, then the identifier. If the identifier's insert is
    retried after it landed, "duplicate key" names our own new profile: it is returned, not deleted
    (deleting it left the identifier pointing at nothing and every later attempt racing with it)."""
    store = MongoStore(mongo_url, mongo_db)
    await store.open()
    try:
        monkeypatch.setattr("parley.server.store.mongo_audience.new_id", lambda prefix: "p_retried")
        # the first attempt's identifier insert landed; its answer was lost
        await store.conn.db["aud_identifiers"].insert_one(
            {"_id": "a1/user/u1", "app": "a1", "kind": "user", "value": "u1", "pid": "p_retried", "ts": 1}
        )
        assert await store.resolve_or_create("a1", "user", "u1", 1) == ("p_retried", True)
        profile = await store.get_audience_profile("a1", "p_retried")
        assert profile is not None and [i.value for i in profile.ids] == ["u1"]
    finally:
        await store.conn.db.client.drop_database(mongo_db)
        await store.close()
