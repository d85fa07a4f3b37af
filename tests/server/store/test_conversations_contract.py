"""The Conversations port's contract (conversations, members, reads), run against every adapter."""

from __future__ import annotations

import asyncio

from parley.server.ports import Store
from tests.server.store.conftest import MakeStore
from tests.server.store.contract_data import APP, conv, member, msg

# conversations and members -------------------------------------------------


async def test_create_and_update_conversation(store: Store) -> None:
    c = conv(kind="group")
    created = await store.create_conversation(c, [member("alice", role="owner"), member("bob")])
    assert created == c
    assert await store.get_conversation(APP, "c1") == c
    assert await store.get_conversation(APP, "c2") is None
    assert [m.user for m in await store.list_members(APP, "c1")] == ["alice", "bob"]
    # Same id again: the stored one comes back, nothing changes.
    again = await store.create_conversation(conv(kind="support"), [member("carol")])
    assert again == c
    assert len(await store.list_members(APP, "c1")) == 2

    renamed = await store.update_conversation(APP, "c1", name="Team")
    assert renamed is not None and renamed.name == "Team" and renamed.meta == {}
    meta = await store.update_conversation(APP, "c1", meta={"topic": "x"})
    assert meta is not None and meta.name == "Team" and meta.meta == {"topic": "x"}
    assert await store.update_conversation(APP, "c1") == meta
    assert await store.update_conversation(APP, "nope", name="x") is None


async def test_direct_key_is_unique_per_app(store: Store) -> None:
    key = "alice\nbob"
    first = await store.create_conversation(
        conv("d1", kind="direct", direct_key=key), [member("alice", "d1"), member("bob", "d1")]
    )
    second = await store.create_conversation(
        conv("d2", kind="direct", direct_key=key), [member("alice", "d2"), member("bob", "d2")]
    )
    assert second == first
    assert await store.get_conversation(APP, "d2") is None
    assert await store.list_members(APP, "d2") == []
    # Groups carry no direct_key: any number of them may exist.
    await store.create_conversation(conv("g1"), [])
    await store.create_conversation(conv("g2"), [])
    assert await store.get_conversation(APP, "g2") is not None


async def test_concurrent_direct_creation_yields_one(make_store: MakeStore) -> None:
    a, b = await make_store(), await make_store()
    key = "x\ny"
    results = await asyncio.gather(
        *(
            s.create_conversation(conv(f"d{i}", kind="direct", direct_key=key), [member("x", f"d{i}")])
            for i, s in enumerate([a, b, a, b])
        )
    )
    assert len({r.conv for r in results}) == 1
    x_convs = await a.list_user_conversations(APP, "x")
    assert [c.conv for c, _ in x_convs] == [results[0].conv]


async def test_a_direct_conversation_left_without_members_gets_them_on_the_next_create(store: Store) -> None:
    """A creator that stopped between the conversation and its members (MongoDB has no
    transaction around the two) — or a racing creator that got the winner's conversation
    before its members were written — must not be refused as a non-member (seen as
    ``forbidden`` 1 in ~10 in a two-node test)."""
    key = "alice\nbob"
    await store.create_conversation(conv("d1", kind="direct", direct_key=key), [])
    again = await store.create_conversation(
        conv("d2", kind="direct", direct_key=key), [member("alice", "d2"), member("bob", "d2")]
    )
    assert again.conv == "d1"
    assert sorted(m.user for m in await store.list_members(APP, "d1")) == ["alice", "bob"]
    assert await store.list_members(APP, "d2") == []
    # A direct conversation that has its members is never changed by a later create.
    await store.create_conversation(conv("d3", kind="direct", direct_key=key), [member("carol", "d3")])
    assert sorted(m.user for m in await store.list_members(APP, "d1")) == ["alice", "bob"]


async def test_members(store: Store) -> None:
    await store.create_conversation(conv(), [member("alice", role="owner")])
    added = await store.add_members([member("alice", role="member"), member("bob"), member("carol")])
    assert [m.user for m in added] == ["bob", "carol"]
    alice = await store.get_member(APP, "c1", "alice")
    assert alice is not None and alice.role == "owner"  # existing ones left untouched
    assert await store.add_members([]) == []

    assert await store.set_member_role(APP, "c1", "bob", "admin")
    assert not await store.set_member_role(APP, "c1", "zed", "admin")
    bob = await store.get_member(APP, "c1", "bob")
    assert bob is not None and bob.role == "admin"

    assert sorted(await store.remove_members(APP, "c1", ["bob", "zed"])) == ["bob"]
    assert await store.get_member(APP, "c1", "bob") is None
    assert await store.remove_members(APP, "c1", []) == []
    assert [m.user for m in await store.list_members(APP, "c1")] == ["alice", "carol"]


async def test_set_read_only_moves_forward(store: Store) -> None:
    await store.create_conversation(conv(), [member("alice")])
    assert await store.set_read(APP, "c1", "alice", 5) == 5
    assert await store.set_read(APP, "c1", "alice", 3) == 5
    assert await store.set_read(APP, "c1", "alice", 9) == 9
    m = await store.get_member(APP, "c1", "alice")
    assert m is not None and m.read_seq == 9
    assert await store.set_read(APP, "c1", "stranger", 4) == 0  # not a member: nothing stored
    assert await store.get_member(APP, "c1", "stranger") is None


async def test_set_reads_moves_many_positions_forward_at_once(store: Store) -> None:
    await store.create_conversation(conv(), [member("alice"), member("bob")])
    await store.set_read(APP, "c1", "bob", 7)
    await store.set_reads([(APP, "c1", "alice", 4), (APP, "c1", "bob", 2), (APP, "c1", "stranger", 9)])
    alice, bob = await store.get_member(APP, "c1", "alice"), await store.get_member(APP, "c1", "bob")
    assert alice is not None and alice.read_seq == 4
    assert bob is not None and bob.read_seq == 7, "never backwards"
    assert await store.get_member(APP, "c1", "stranger") is None
    await store.set_reads([])


async def test_list_user_conversations_has_current_last_seq(store: Store) -> None:
    await store.create_conversation(conv("c2"), [member("alice", "c2"), member("bob", "c2")])
    await store.create_conversation(conv("c1"), [member("alice", "c1")])
    await store.create_conversation(conv("c3"), [member("bob", "c3")])
    await store.append([msg("1", conv_id="c2"), msg("2", conv_id="c2"), msg("3", conv_id="c1")])
    await store.set_read(APP, "c2", "alice", 1)
    listed = await store.list_user_conversations(APP, "alice")
    assert [(c.conv, c.last_seq, m.user, m.read_seq) for c, m in listed] == [
        ("c1", 1, "alice", 0),
        ("c2", 2, "alice", 1),
    ]
    assert await store.list_user_conversations(APP, "nobody") == []
