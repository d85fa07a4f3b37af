"""The Store port's bounded membership queries, against every adapter (see conftest.py)."""

from __future__ import annotations

import dataclasses

from parley.server.models import User
from parley.server.ports import Store
from tests.server.store.contract_data import APP, conv, member


async def test_member_pages_and_counts(store: Store) -> None:
    users = [f"u{i:03}" for i in range(25)]
    await store.create_conversation(conv("c1"), [member(u, "c1") for u in users])
    assert await store.count_members(APP, "c1") == 25
    assert await store.count_members("other", "c1") == 0
    pages, after = [], ""
    while page := await store.member_page(APP, "c1", after, 10):
        pages.append([m.user for m in page])
        after = page[-1].user
    assert [len(p) for p in pages] == [10, 10, 5] and [u for p in pages for u in p] == users


async def test_last_seen_of_many_users_at_once(store: Store) -> None:
    for i in range(3):
        await store.upsert_user(User(app=APP, user=f"u{i}", created=1))
        await store.set_last_seen(APP, f"u{i}", 100 + i)
    seen = await store.last_seen_of(APP, ["u0", "u2", "ghost", "u2"])
    assert seen == {"u0": 100, "u2": 102}
    assert await store.last_seen_of("other", ["u0"]) == {}


async def test_shared_with_is_per_app_and_excludes_strangers(store: Store) -> None:
    await store.create_conversation(conv("c1"), [member("alice", "c1"), member("bob", "c1")])
    await store.create_conversation(conv("c2"), [member("carol", "c2"), member("dan", "c2")])
    await store.create_conversation(
        conv("c1", app="other"), [member("alice", "c1", app="other"), member("eve", "c1", app="other")]
    )
    assert await store.shared_with(APP, "alice", ["bob", "carol", "eve", "alice"]) == {"bob"}
    assert await store.shared_with(APP, "zed", ["bob"]) == set()


async def test_quota_counts_use_the_time_window(store: Store) -> None:
    c_old = dataclasses.replace(conv("c1"), created=1000, created_by="alice")
    c_new = dataclasses.replace(conv("c2"), created=5000, created_by="alice")
    await store.create_conversation(c_old, [member("alice", "c1", joined=1000)])
    await store.create_conversation(
        c_new, [member("alice", "c2", joined=5000), member("bob", "c2", joined=5000)]
    )
    assert await store.count_created_since(APP, "alice", 0) == 2
    assert await store.count_created_since(APP, "alice", 2000) == 1
    assert await store.count_created_since(APP, "bob", 0) == 0
    assert await store.count_joined_since(APP, ["alice", "bob", "ghost"], 2000) == {"alice": 1, "bob": 1}
    assert await store.count_joined_since(APP, ["alice"], 0) == {"alice": 2}
    assert await store.count_joined_since(APP, [], 0) == {}
    # The creation quota counts groups and support conversations: a direct one is one per pair.
    direct = dataclasses.replace(
        conv("c3", kind="direct", direct_key="alice\nbob"), created=5000, created_by="alice"
    )
    await store.create_conversation(
        direct, [member("alice", "c3", joined=5000), member("bob", "c3", joined=5000)]
    )
    assert await store.count_created_since(APP, "alice", 0) == 2


async def test_app_policy_is_stored_per_app(store: Store) -> None:
    from parley.server.models import AppPolicy

    assert await store.get_app_policy(APP) is None
    await store.set_app_policy(AppPolicy(APP, presence="all", add=""))
    await store.set_app_policy(AppPolicy(APP, presence="all", add="contacts"))
    assert await store.get_app_policy(APP) == AppPolicy(APP, "all", "contacts")
    assert await store.get_app_policy("other") is None
