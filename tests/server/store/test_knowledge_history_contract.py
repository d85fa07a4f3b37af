"""Contract of the knowledge sources' version history, on both adapters (see ``store_ports.Knowledge``)."""

from __future__ import annotations

from parley.server.models import KnowledgeEntry
from parley.server.ports import Store

APP = "acme"


def chunks(source: str, n: int, app: str = APP) -> list[KnowledgeEntry]:
    return [
        KnowledgeEntry(app, source, f"{source}::{i}", {"id": f"{source}::{i}", "text": "t"}) for i in range(n)
    ]


async def test_every_replacement_and_delete_of_a_source_is_a_version_newest_first(store: Store) -> None:
    assert await store.knowledge_history(APP, "faq.md", 10) == []
    v1 = await store.replace_knowledge(APP, "faq.md", chunks("faq.md", 3))
    other = await store.replace_knowledge(APP, "guide.md", chunks("guide.md", 1))
    v2 = await store.replace_knowledge(APP, "faq.md", chunks("faq.md", 5))
    await store.replace_knowledge("other", "faq.md", chunks("faq.md", 9, app="other"))
    v3 = await store.delete_knowledge(APP, "faq.md")
    history = await store.knowledge_history(APP, "faq.md", 10)
    assert [(h.source, h.version, h.chunks) for h in history] == [
        ("faq.md", v3, 0),
        ("faq.md", v2, 5),
        ("faq.md", v1, 3),
    ], "newest first; a delete is a version with no chunks"
    assert all(h.ts > 0 for h in history) and history[0].ts >= history[-1].ts
    assert [(h.version, h.chunks) for h in await store.knowledge_history(APP, "guide.md", 10)] == [(other, 1)]
    assert [h.chunks for h in await store.knowledge_history("other", "faq.md", 10)] == [9], "per app"
    assert [h.version for h in await store.knowledge_history(APP, "faq.md", 2)] == [v3, v2], (
        "the newest `limit`"
    )
