"""AppService: apps, API keys, users and the tokens it signs."""

from __future__ import annotations

import jwt

from parley.proto.errors import ErrorCode
from parley.server.services.apps import AppService, hash_key
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import refused


def _apps(store: SQLiteStore) -> AppService:
    return AppService(store, audience="parley-test", max_ttl=7200, support_bot="helper")


async def test_a_new_app_is_found_by_its_key_which_is_stored_only_as_a_digest(store: SQLiteStore) -> None:
    apps = _apps(store)
    created = await apps.create_app("shop")
    assert created.api_key.startswith("pk_")
    found = await apps.app_for_key(created.api_key)
    assert found is not None and found.app == created.app.app and found.name == "shop"
    assert await store.app_for_key(created.api_key) is None, "the clear key must not be stored"
    assert await store.app_for_key(hash_key(created.api_key)) is not None
    assert await apps.app_for_key(created.api_key + "x") is None
    second = await apps.add_key(created.app.app)
    assert second != created.api_key
    assert (await apps.app_for_key(second)) == found


async def test_unknown_app_and_user_are_not_found(store: SQLiteStore) -> None:
    apps = _apps(store)
    with refused(ErrorCode.NOT_FOUND, "no app"):
        await apps.get_app("app_missing")
    app = (await apps.create_app("shop")).app.app
    with refused(ErrorCode.NOT_FOUND, "no user"):
        await apps.get_user(app, "nobody")
    with refused(ErrorCode.NOT_FOUND, "no app"):
        await apps.token("app_missing", "alice")


async def test_users_are_upserted_with_a_known_role(store: SQLiteStore) -> None:
    apps = _apps(store)
    app = (await apps.create_app("shop")).app.app
    with refused(ErrorCode.INVALID_REQUEST, "role must be one of"):
        await apps.upsert_user(app, "alice", role="admin")
    await apps.upsert_user(app, "alice", name="Alice", role="agent", meta={"team": "a"})
    again = await apps.upsert_user(app, "alice", name="Alice B.", role="agent")
    assert again.name == "Alice B."
    stored = await apps.get_user(app, "alice")
    assert (stored.name, stored.role) == ("Alice B.", "agent")


async def test_reserved_and_malformed_ids_are_refused_for_users_and_tokens(store: SQLiteStore) -> None:
    apps = _apps(store)
    app = (await apps.create_app("shop")).app.app
    for user, role in [("system", "bot"), ("parley-bot", "user"), ("helper", "agent"), ("has space", "user")]:
        with refused(ErrorCode.INVALID_REQUEST, "refused"):
            await apps.upsert_user(app, user, role=role)
        with refused(ErrorCode.INVALID_REQUEST, "refused"):
            await apps.token(app, user)
    # The configured support bot may exist with role bot, and gets a bot token.
    await apps.upsert_user(app, "helper", role="bot")
    token, _ = await apps.token(app, "helper")
    assert jwt.decode(token, options={"verify_signature": False})["role"] == "bot"


async def test_a_token_carries_the_stored_name_and_role_and_its_ttl_is_bounded(store: SQLiteStore) -> None:
    apps = _apps(store)
    new = await apps.create_app("shop")
    app = new.app.app
    for ttl in (0, 7201):
        with refused(ErrorCode.INVALID_REQUEST, "ttl must be between 1 and 7200"):
            await apps.token(app, "alice", ttl=ttl)
    await apps.upsert_user(app, "alice", name="Alice", role="agent")
    token, exp = await apps.token(app, "alice", ttl=7200)
    claims = jwt.decode(token, new.app.secret, algorithms=["HS256"], audience="parley-test")
    assert (claims["iss"], claims["sub"], claims["name"], claims["role"]) == (app, "alice", "Alice", "agent")
    assert claims["exp"] == exp and exp - claims["iat"] == 7200
    # A user without a record gets a plain user token (no name, no role claim).
    plain = jwt.decode(
        (await apps.token(app, "bob"))[0], new.app.secret, algorithms=["HS256"], audience="parley-test"
    )
    assert plain["sub"] == "bob" and "role" not in plain and "name" not in plain
