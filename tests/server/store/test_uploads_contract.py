"""Contract of the knowledge-upload part of the store port, on both adapters (see ``uploads_port.py``)."""

from __future__ import annotations

import asyncio

from parley.server.ports import Store
from parley.server.uploads_port import KnowledgeUpload
from tests.server.store.conftest import MakeStore

APP = "acme"


def upload(uid: str, created: int, *, app: str = APP) -> KnowledgeUpload:
    return KnowledgeUpload(
        app, uid, "faq.md", "# FAQ\n\n## Hours {#hours}\nNine to five. 你好", "console:ada", created
    )


async def test_uploads_wait_oldest_first_and_list_newest_first_per_app(store: Store) -> None:
    for uid, created in (("u2", 20), ("u1", 10), ("u3", 30)):
        await store.add_upload(upload(uid, created))
    await store.add_upload(upload("x", 5, app="other"))
    assert [u.uid for u in await store.list_uploads(APP, pending=True, limit=2)] == ["u1", "u2"]
    assert await store.settle_upload(APP, "u1", state="ingested", version=7, error="", now=40)
    assert not await store.settle_upload(APP, "u1", state="failed", version=0, error="late", now=41), "once"
    assert not await store.settle_upload(APP, "ghost", state="failed", version=0, error="", now=41)
    assert await store.settle_upload(APP, "u2", state="failed", version=0, error="not UTF-8", now=42)
    assert [u.uid for u in await store.list_uploads(APP, pending=True, limit=10)] == ["u3"]
    newest = await store.list_uploads(APP, pending=False, limit=10)
    assert [(u.uid, u.state, u.version, u.error) for u in newest] == [
        ("u3", "pending", 0, ""),
        ("u2", "failed", 0, "not UTF-8"),
        ("u1", "ingested", 7, ""),
    ]
    assert newest[-1].content == upload("u1", 10).content and newest[-1].updated == 40
    assert [u.uid for u in await store.list_uploads("other", pending=False, limit=10)] == ["x"]


async def test_of_two_settles_on_two_store_instances_exactly_one_wins(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    for n in range(10):
        await one.add_upload(upload(f"u{n}", n))
    settles = [
        s.settle_upload(APP, f"u{n}", state="ingested", version=n, error="", now=99)
        for n in range(10) for s in (one, two)
    ]  # fmt: skip
    assert sum(await asyncio.gather(*settles)) == 10
