"""Contract of the invitation part of the store port, on both adapters (see ``invites_port.py``)."""

from __future__ import annotations

import asyncio

from parley.server.invites_port import Invitation
from parley.server.ports import Store
from tests.server.store.conftest import MakeStore

APP = "acme"


def inv(
    conv: str, user: str = "bob", *, inviter: str = "ann", created: int = 10, expires: int = 100
) -> Invitation:
    return Invitation(APP, conv, user, inviter, "member", created, expires)


async def test_an_invitation_is_stored_replaced_and_per_app(store: Store) -> None:
    assert await store.get_invitation(APP, "c1", "bob", 0) is None
    await store.put_invitations([inv("c1")])
    await store.put_invitations([Invitation("other", "c1", "bob", "eve", "member", 1, 100)])
    assert await store.get_invitation(APP, "c1", "bob", 50) == inv("c1")
    again = inv("c1", inviter="cy", created=20, expires=200)
    await store.put_invitations([again])
    assert await store.get_invitation(APP, "c1", "bob", 50) == again, "one per (conv, user): replaced"
    assert await store.list_invitations(APP, "bob", 50, after="", limit=10) == [again]


async def test_an_expired_invitation_does_not_exist_and_is_purged(store: Store) -> None:
    await store.put_invitations([inv("c1", expires=100)])
    await store.put_invitations([inv("c2", expires=300)])
    assert await store.get_invitation(APP, "c1", "bob", 100) is None, "expires <= now: gone"
    assert [i.conv for i in await store.list_invitations(APP, "bob", 100, after="", limit=10)] == ["c2"]
    assert await store.purge_invitations(APP, "bob", 100) == 1
    assert await store.purge_invitations(APP, "bob", 100) == 0
    assert await store.get_invitation(APP, "c2", "bob", 100) is not None, "an unexpired one stays"


async def test_of_concurrent_deletes_on_two_store_instances_exactly_one_wins(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    for n in range(20):
        await one.put_invitations([inv(f"c{n:02}")])
    deletes = [(n, s.delete_invitation(APP, f"c{n:02}", "bob")) for n in range(20) for s in (one, two, one)]
    results = await asyncio.gather(*(d for _, d in deletes))
    won = sorted(n for (n, _), ok in zip(deletes, results, strict=True) if ok)
    assert won == list(range(20)), "each invitation deleted exactly once"
    assert await two.list_invitations(APP, "bob", 50, after="", limit=100) == []


async def test_delete_removes_whether_or_not_expired(store: Store) -> None:
    await store.put_invitations([inv("c1", expires=100)])
    assert await store.delete_invitation(APP, "c1", "bob")
    assert not await store.delete_invitation(APP, "c1", "bob")
    await store.put_invitations([inv("c2", expires=100)])
    assert await store.delete_invitation(APP, "c2", "bob"), "an expired record is still deletable"


async def test_list_pages_by_conversation_id_and_only_the_users_own(store: Store) -> None:
    for conv in ["c3", "c1", "c5", "c2", "c4"]:
        await store.put_invitations([inv(conv)])
    await store.put_invitations([inv("c9", user="cy")])
    await store.put_invitations([Invitation("other", "c0", "bob", "ann", "member", 1, 100)])
    first = await store.list_invitations(APP, "bob", 50, after="", limit=2)
    assert [i.conv for i in first] == ["c1", "c2"]
    rest = await store.list_invitations(APP, "bob", 50, after="c2", limit=10)
    assert [i.conv for i in rest] == ["c3", "c4", "c5"]
    assert await store.list_invitations(APP, "bob", 50, after="c5", limit=10) == []
    assert [i.conv for i in await store.list_invitations(APP, "cy", 50, after="", limit=10)] == ["c9"]


async def test_count_is_per_user_of_unexpired_invitations_only(store: Store) -> None:
    for conv in ["c1", "c2", "c3"]:
        await store.put_invitations([inv(conv, expires=100)])
    await store.put_invitations([inv("c4", expires=30)])
    await store.put_invitations([inv("c1", user="cy")])
    await store.put_invitations([Invitation("other", "c9", "bob", "ann", "member", 1, 100)])
    assert await store.count_invitations(APP, ["bob", "cy", "dee"], 50) == {"bob": 3, "cy": 1}
    assert await store.count_invitations(APP, ["bob"], 100) == {}
    assert await store.count_invitations(APP, [], 50) == {}


async def test_a_batch_is_stored_in_one_call_and_its_repeats_replace(store: Store) -> None:
    batch = [inv(f"c{n:04}", user=f"u{n % 700:03}") for n in range(1000)]
    await store.put_invitations(batch)
    await store.put_invitations(
        [inv("c0000", user="u000", inviter="cy"), inv("c0000", user="u000", inviter="dee")]
    )
    assert (await store.get_invitation(APP, "c0000", "u000", 50)) == inv("c0000", user="u000", inviter="dee")
    counts = await store.count_invitations(APP, [f"u{n:03}" for n in range(700)], 50)
    assert sum(counts.values()) == 1000 and counts["u000"] == 2 and counts["u699"] == 1
    await store.put_invitations([])


async def test_delete_between_two_users_removes_both_directions_only(store: Store) -> None:
    await store.put_invitations([inv("c1"), inv("c2"), inv("c3", user="ann", inviter="bob")])
    await store.put_invitations([inv("c4", inviter="cy"), inv("c5", user="cy")])
    await store.put_invitations([Invitation("other", "c1", "bob", "ann", "member", 1, 100)])
    assert await store.delete_invitations_between(APP, "bob", "ann") == 3
    assert [i.conv for i in await store.list_invitations(APP, "bob", 50, after="", limit=10)] == ["c4"]
    assert [i.conv for i in await store.list_invitations(APP, "cy", 50, after="", limit=10)] == ["c5"]
    assert await store.get_invitation("other", "c1", "bob", 50) is not None
    assert await store.delete_invitations_between(APP, "bob", "ann") == 0
