"""The Directory port's contract (apps, API keys, users), run against every adapter."""

from __future__ import annotations

import pytest

from parley.server.models import App, User
from parley.server.ports import Store
from tests.server.store.contract_data import APP

# apps and keys -----------------------------------------------------------


async def test_apps(store: Store) -> None:
    acme = App(app=APP, name="Acme", secret="s1", created=1)
    beta = App(app="beta", name="Beta", secret="s2", created=2)
    await store.create_app(beta)
    await store.create_app(acme)
    assert await store.get_app(APP) == acme
    assert await store.get_app("nope") is None
    assert await store.list_apps() == [acme, beta]
    # The port leaves conflicts open; both adapters refuse to overwrite an app.
    with pytest.raises(ValueError):
        await store.create_app(App(app=APP, name="Other", secret="s3", created=3))
    assert await store.get_app(APP) == acme


async def test_api_keys(store: Store) -> None:
    acme = App(app=APP, name="Acme", secret="s1", created=1)
    beta = App(app="beta", name="Beta", secret="s2", created=2)
    await store.create_app(acme)
    await store.create_app(beta)
    await store.add_api_key(APP, "a" * 64, 5)
    await store.add_api_key(APP, "a" * 64, 5)  # idempotent
    await store.add_api_key("beta", "b" * 64, 5)
    assert await store.app_for_key("a" * 64) == acme
    assert await store.app_for_key("b" * 64) == beta
    assert await store.app_for_key("c" * 64) is None


# users -------------------------------------------------------------------


async def test_upsert_user_keeps_created(store: Store) -> None:
    created = await store.upsert_user(User(app=APP, user="u1", name="Ann", meta={"tier": 1}, created=10))
    assert created == User(app=APP, user="u1", name="Ann", meta={"tier": 1}, created=10)
    updated = await store.upsert_user(
        User(app=APP, user="u1", name="Anne", role="agent", meta={}, created=99)
    )
    assert updated == User(app=APP, user="u1", name="Anne", role="agent", meta={}, created=10)
    assert await store.get_user(APP, "u1") == updated
    assert await store.get_user(APP, "u2") is None


async def test_set_last_seen(store: Store) -> None:
    await store.set_last_seen(APP, "ghost", 50)  # creates a bare user
    bare = await store.get_user(APP, "ghost")
    assert bare is not None and bare.last_seen == 50 and bare.name == "" and bare.role == "user"
    await store.upsert_user(User(app=APP, user="ghost", name="Casper", created=1))
    await store.set_last_seen(APP, "ghost", 70)
    await store.set_last_seen(APP, "ghost", 60)  # out-of-order report from another node
    user = await store.get_user(APP, "ghost")
    assert user is not None and user.name == "Casper" and user.last_seen == 70 and user.created == 50


async def test_anonymise_user_clears_personal_fields_keeps_the_row_and_is_idempotent(store: Store) -> None:
    await store.upsert_user(User(APP, "ann", "Ann Secret", "user", {"phone": "+14155550100"}, created=3))
    await store.set_last_seen(APP, "ann", 9)
    await store.upsert_user(User("beta", "ann", "Ann Elsewhere", meta={"k": "v"}, created=4))
    assert await store.anonymise_user(APP, "ann") is True
    # The row stays (memberships and messages still name the user id); no personal field is left.
    assert await store.get_user(APP, "ann") == User(APP, "ann", "", "user", {}, created=3, last_seen=9)
    assert await store.anonymise_user(APP, "ann") is True, "a retry finds the (cleared) row again"
    assert await store.get_user(APP, "ann") == User(APP, "ann", "", "user", {}, created=3, last_seen=9)
    assert await store.get_user("beta", "ann") == User(
        "beta", "ann", "Ann Elsewhere", meta={"k": "v"}, created=4
    )
    # A user never stored: nothing is created.
    assert await store.anonymise_user(APP, "nobody") is False
    assert await store.get_user(APP, "nobody") is None
