"""Contract of the safety part of the store port (blocks, moderation, word lists, reports), on both adapters."""

from __future__ import annotations

from parley.server.ports import Store
from parley.server.safety_models import BlockRecord

APP = "acme"


async def test_blocks_are_directed_idempotent_listed_and_undone(store: Store) -> None:
    assert await store.add_block(APP, "ann", "bob", 10)
    assert not await store.add_block(APP, "ann", "bob", 11), "a repeat stores nothing"
    assert await store.add_block(APP, "ann", "cy", 12)
    assert await store.add_block("other", "ann", "dee", 13)
    assert await store.list_blocks(APP, "ann") == [
        BlockRecord(APP, "ann", "bob", 10),
        BlockRecord(APP, "ann", "cy", 12),
    ]
    assert await store.list_blocks(APP, "bob") == [], "a block is one-way"
    assert await store.remove_block(APP, "ann", "bob")
    assert not await store.remove_block(APP, "ann", "bob")
    assert [b.blocked for b in await store.list_blocks(APP, "ann")] == ["cy"]


async def test_blocks_between_a_user_and_others_both_ways(store: Store) -> None:
    await store.add_block(APP, "ann", "bob", 1)
    await store.add_block(APP, "cy", "ann", 2)
    await store.add_block(APP, "bob", "cy", 3)
    await store.add_block("other", "dee", "ann", 4)
    found = await store.blocks_between(APP, "ann", ["bob", "cy", "dee", "eve"])
    assert sorted((b.blocker, b.blocked) for b in found) == [("ann", "bob"), ("cy", "ann")]
    assert await store.blocks_between(APP, "ann", []) == []
    assert await store.blocks_between(APP, "eve", ["ann", "bob"]) == []
