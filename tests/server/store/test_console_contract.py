"""Contract of the console part of the store port, on both adapters (see ``console_port.py``)."""

from __future__ import annotations

import asyncio

from parley.server.console_port import ConsoleSession, ConsoleUser
from parley.server.ports import Store
from tests.server.store.conftest import MakeStore

APP = "acme"


def user(name: str = "ann", *, app: str = APP, roles: tuple[str, ...] = ("agent",)) -> ConsoleUser:
    return ConsoleUser(app, name, "$argon2id$fake", roles, name.title(), 5, False)


def session(digest: str, *, username: str = "ann", expires: int = 100, app: str = APP) -> ConsoleSession:
    return ConsoleSession(digest, app, username, "csrf-" + digest, 1, expires)


async def test_a_user_is_stored_replaced_whole_and_per_app(store: Store) -> None:
    assert await store.get_console_user(APP, "ann") is None
    await store.put_console_user(user())
    await store.put_console_user(user(app="other", roles=("admin",)))
    assert await store.get_console_user(APP, "ann") == user()
    changed = ConsoleUser(APP, "ann", "$argon2id$new", ("admin", "marketer"), "A", 5, True)
    await store.put_console_user(changed)
    assert await store.get_console_user(APP, "ann") == changed, "one per (app, username): replaced"
    await store.put_console_user(user("bob"))
    assert [u.username for u in await store.list_console_users(APP)] == ["ann", "bob"]
    assert [u.roles for u in await store.list_console_users("other")] == [("admin",)]


async def test_a_session_is_found_by_digest_until_it_expires(store: Store) -> None:
    await store.add_console_session(session("d1", expires=100))
    assert await store.get_console_session("d1", 99) == session("d1", expires=100)
    assert await store.get_console_session("d1", 100) is None, "expires <= now: gone"
    assert await store.get_console_session("nope", 0) is None


async def test_logout_deletes_one_and_logout_everywhere_every_session_of_the_user(store: Store) -> None:
    for digest in ("a", "b", "c"):
        await store.add_console_session(session(digest))
    await store.add_console_session(session("x", username="bob"))
    await store.add_console_session(session("y", app="other"))
    assert await store.delete_console_session("a")
    assert not await store.delete_console_session("a")
    assert await store.delete_console_sessions(APP, "ann") == 2
    assert await store.get_console_session("b", 0) is None
    assert await store.get_console_session("x", 0) is not None, "another user's session stays"
    assert await store.get_console_session("y", 0) is not None, "another app's session stays"
    await store.add_console_session(session("d"))
    assert await store.get_console_session("d", 0) is not None, "a later login is not affected"


async def test_of_concurrent_deletes_on_two_store_instances_exactly_one_wins(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    for n in range(20):
        await one.add_console_session(session(f"s{n:02}"))
    deletes = [(n, s.delete_console_session(f"s{n:02}")) for n in range(20) for s in (one, two, one)]
    results = await asyncio.gather(*(d for _, d in deletes))
    won = sorted(n for (n, _), ok in zip(deletes, results, strict=True) if ok)
    assert won == list(range(20)), "each session deleted exactly once"


async def test_settings_are_plain_data_replaced_whole_per_app(store: Store) -> None:
    assert await store.get_console_setting(APP, "canned") is None
    replies = [{"title": "Hi", "text": "Hello! 你好"}]
    await store.put_console_setting(APP, "canned", replies)
    await store.put_console_setting("other", "canned", [])
    assert await store.get_console_setting(APP, "canned") == replies
    await store.put_console_setting(APP, "canned", [{"title": "Bye", "text": "Bye"}])
    assert await store.get_console_setting(APP, "canned") == [{"title": "Bye", "text": "Bye"}]
    assert await store.get_console_setting("other", "canned") == []


async def test_purge_removes_only_the_users_expired_sessions(store: Store) -> None:
    await store.add_console_session(session("old", expires=50))
    await store.add_console_session(session("new", expires=200))
    await store.add_console_session(session("bob-old", username="bob", expires=50))
    assert await store.purge_console_sessions(APP, "ann", 100) == 1
    assert await store.purge_console_sessions(APP, "ann", 100) == 0
    assert await store.get_console_session("new", 100) is not None
    assert await store.delete_console_sessions(APP, "bob") == 1, "another user's expired session stays"
