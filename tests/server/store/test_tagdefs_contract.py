"""Contract of the tag-definition part of the store port, on both adapters (see ``tagdefs_port.py``)."""

from __future__ import annotations

import asyncio
import dataclasses

from parley.server.ports import Store
from parley.server.tagdefs_port import TagDefinition
from tests.server.store.conftest import MakeStore

APP = "acme"


def definition(name: str = "vip", *, app: str = APP, **more: object) -> TagDefinition:
    fields: dict[str, object] = {
        "description": "Big spender",
        "kind": "manual",
        "sources": ("manual", "agent"),
        "expiry_s": 86400,
        "created": 5,
        "updated": 5,
    }
    fields.update(more)
    return TagDefinition(app, name, **fields)  # type: ignore[arg-type]


async def test_a_definition_is_created_once_updated_in_place_and_kept_per_app(store: Store) -> None:
    assert await store.get_tag_definition(APP, "vip") is None
    assert await store.create_tag_definition(definition())
    assert not await store.create_tag_definition(definition(description="other")), "never replaces"
    assert await store.get_tag_definition(APP, "vip") == definition()
    assert await store.create_tag_definition(definition(app="other", sources=()))
    changed = definition(description="Top 1 %", kind="rule", sources=(), expiry_s=0, created=99, updated=9)
    assert await store.update_tag_definition(changed)
    assert await store.get_tag_definition(APP, "vip") == dataclasses.replace(changed, created=5), (
        "created kept"
    )
    assert not await store.update_tag_definition(definition("ghost")), "update never creates"
    assert await store.get_tag_definition(APP, "ghost") is None
    await store.create_tag_definition(definition("churn_risk", kind="bot", sources=("model", "bot")))
    assert [d.name for d in await store.list_tag_definitions(APP)] == ["churn_risk", "vip"]
    assert [d.sources for d in await store.list_tag_definitions("other")] == [()]
    assert await store.delete_tag_definition(APP, "vip")
    assert not await store.delete_tag_definition(APP, "vip")
    assert [d.name for d in await store.list_tag_definitions(APP)] == ["churn_risk"]
    assert await store.get_tag_definition("other", "vip") is not None, "another app's stays"


async def test_of_concurrent_creates_and_deletes_on_two_store_instances_exactly_one_wins(
    make_store: MakeStore,
) -> None:
    one, two = await make_store(), await make_store()
    names = [f"t{n:02}" for n in range(10)]
    made = await asyncio.gather(
        *(
            s.create_tag_definition(definition(n, description=(s is one and "one") or "two"))
            for n in names
            for s in (one, two)
        )
    )
    assert sum(made) == len(names)
    deleted = await asyncio.gather(*(s.delete_tag_definition(APP, n) for n in names for s in (one, two)))
    assert sum(deleted) == len(names)
    assert await one.list_tag_definitions(APP) == []
