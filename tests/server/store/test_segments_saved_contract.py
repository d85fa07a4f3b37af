"""Contract of SegmentStore (saved segments, stored members) on both adapters: CAS on version,
idempotent member changes that report only real changes, keyset pages, snapshots in the store."""

from __future__ import annotations

from typing import Any

from pymongo import AsyncMongoClient

from parley.proto.segments_text import parse
from parley.server.ports import Store
from parley.server.segments_port import EvalContext, SavedSegment
from parley.server.store.sqlite import SQLiteStore
from tests.server.store.conftest import MakeStore
from tests.server.store.segment_population import (
    ATTR_TYPES,
    LAYOUT_DDL,
    NOW,
    generate,
    load_sqlite,
    mongo_docs,
)
from tests.server.store.segment_reference import members_of


def _seg(seg: str, version: int = 1, app: str = "app1") -> SavedSegment:
    return SavedSegment(app, seg, f"name {seg}", b'{"type":"open_ticket"}', "open_ticket", version=version)


async def test_put_get_list_delete_and_compare_and_set(store: Store) -> None:
    assert await store.put_segment(_seg("b"), expect_version=0)
    assert not await store.put_segment(_seg("b"), expect_version=0), "0 means: only if absent"
    assert await store.put_segment(_seg("a"))
    assert not await store.put_segment(_seg("b", 3), expect_version=2)
    assert await store.put_segment(_seg("b", 2), expect_version=1)
    assert (await store.get_segment("app1", "b")) == _seg("b", 2)
    await store.put_segment(_seg("a", app="app2"))
    assert [s.id for s in await store.list_segments("app1")] == ["a", "b"]
    assert await store.get_segment("app2", "b") is None
    await store.change_members("app1", "b", ["p1"], ())
    assert await store.delete_segment("app1", "b")
    assert not await store.delete_segment("app1", "b")
    assert await store.get_segment("app1", "b") is None
    assert await store.stored_members("app1", "b", "", 10) == []


async def test_member_changes_are_idempotent_and_report_real_changes(store: Store) -> None:
    assert await store.change_members("app1", "s", ["p3", "p1", "p2"], ()) == (["p1", "p2", "p3"], [])
    assert await store.change_members("app1", "s", ["p1", "p4"], ["p2", "p9"]) == (["p4"], ["p2"])
    assert await store.change_members("app1", "s", [], ["p2"]) == ([], [])
    assert await store.stored_members("app1", "s", "", 2) == ["p1", "p3"]
    assert await store.stored_members("app1", "s", "p3", 2) == ["p4"]
    assert await store.is_stored_member("app1", "s", ["p1", "p2", "p4", "zz"]) == {"p1", "p4"}
    assert await store.is_stored_member("app1", "other", ["p1"]) == set()
    assert await store.stored_members("app2", "s", "", 10) == []


async def test_freeze_keeps_the_members_of_that_moment(make_store: MakeStore, request: Any) -> None:
    store = await make_store()
    people = generate()
    if isinstance(store, SQLiteStore):
        await store.worker.run(lambda c: (c.executescript(LAYOUT_DDL), load_sqlite(c, people)))
    else:
        url, db = request.getfixturevalue("mongo_url"), request.getfixturevalue("mongo_db")
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url)
        for name, docs in mongo_docs(people).items():
            await client[db][name].insert_many(docs)
        await client.close()
    rule, ctx = parse('attr.city = "Shanghai" or has_id("phone")'), EvalContext(NOW, ATTR_TYPES)
    await store.change_members("app1", "snap", ["stale"], ())
    expected = members_of(rule, people, "app1", NOW, {})
    assert await store.freeze_segment("app1", "snap", rule, ctx) == len(expected)
    assert await store.stored_members("app1", "snap", "", 1000) == expected
    # a rule naming the snapshot reads its stored members
    assert await store.count_segment("app1", parse('segment("snap")'), ctx) == len(expected)
