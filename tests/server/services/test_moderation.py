"""ModerationService: disable/enable, token revocation, mutes, secret rotation and API keys —
each audited, and the live connections told through the user's control channel."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import msgspec
import pytest

from parley.proto.errors import CloseCode, ErrorCode
from parley.server.auth.tokens import TokenVerifier
from parley.server.models import Conversation, Member
from parley.server.services.apps import AppService
from parley.server.services.moderation import KEY_ID_LENGTH, ModerationService, key_id
from parley.server.services.safety import SafetyService
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import Wire, refused

ADMIN = "key:abc"


@dataclass
class Mod:
    app: str
    apps: AppService
    tokens: TokenVerifier
    moderation: ModerationService

    async def actions(self) -> list[tuple[str, str]]:
        records, _ = await self.moderation.audit_page(self.app, after="", limit=100)
        return [(r.action, r.target) for r in records]


@pytest.fixture
async def mod(store: SQLiteStore, wire: Wire) -> Mod:
    apps = AppService(store, audience="parley")
    tokens = TokenVerifier(store, audience="parley", leeway=0, max_lifetime=3600, app_cache_ttl=0)
    moderation = ModerationService(
        store, wire.broker, tokens=tokens, apps=apps, safety=SafetyService(store, wire.broker),
        mute_max=600, secret_overlap=60, overlap_max=3600,
    )  # fmt: skip
    app = (await apps.create_app("shop")).app.app
    await store.create_conversation(
        Conversation(app=app, conv="c1", kind="group", epoch="e", created=1),
        [Member(app, "c1", "bob", "member", 1)],
    )
    return Mod(app, apps, tokens, moderation)


async def test_disable_closes_the_users_connections_refuses_their_tokens_and_is_audited(
    mod: Mod, wire: Wire
) -> None:
    assert not (await mod.moderation.status(mod.app, "bob")).disabled
    token, _ = await mod.apps.token(mod.app, "bob")
    await wire.watch(f"m:{mod.app}:bob")
    status = await mod.moderation.disable(mod.app, ADMIN, "bob", "spam")
    assert (status.disabled, status.reason) == (True, "spam")
    (control,) = await wire.control(mod.app, "bob")
    assert (control.op, control.code, control.before) == ("close", int(CloseCode.USER_DISABLED), 0)
    assert msgspec.msgpack.decode(control.frame)["code"] == ErrorCode.USER_DISABLED.value
    with refused(ErrorCode.USER_DISABLED):
        await mod.tokens.verify(token)
    status = await mod.moderation.enable(mod.app, ADMIN, "bob")
    assert (status.disabled, status.reason) == (False, "")
    assert (await mod.tokens.verify(token)).user == "bob"
    assert await mod.actions() == [("user.disable", "bob"), ("user.enable", "bob")]
    assert len(await wire.control(mod.app, "bob")) == 1, "enabling closes nothing"


async def test_revocation_refuses_tokens_issued_before_the_cutoff_and_keeps_other_status(
    mod: Mod, wire: Wire
) -> None:
    for before in (-1, 2**53 + 1):
        with refused(ErrorCode.INVALID_REQUEST, "seconds since the epoch"):
            await mod.moderation.revoke_tokens(mod.app, ADMIN, "bob", before)
    await mod.moderation.disable(mod.app, ADMIN, "bob", "spam")
    await wire.watch(f"m:{mod.app}:bob")
    earliest = math.ceil(time.time())
    status = await mod.moderation.revoke_tokens(mod.app, ADMIN, "bob", None)
    assert status.tokens_before >= earliest and status.disabled, "the ban stays"
    (control,) = await wire.control(mod.app, "bob")
    assert (control.code, control.before) == (int(CloseCode.TOKEN_REVOKED), status.tokens_before)
    status = await mod.moderation.revoke_tokens(mod.app, ADMIN, "bob", 123)
    assert status.tokens_before == 123
    assert (await mod.actions())[-2:] == [("user.revoke_tokens", "bob")] * 2


async def test_mutes_are_bounded_known_listed_while_active_and_tell_the_member(mod: Mod, wire: Wire) -> None:
    for seconds in (0, 601):
        with refused(ErrorCode.INVALID_REQUEST, "between 1 and 600"):
            await mod.moderation.mute(mod.app, ADMIN, "c1", "bob", seconds, "")
    with refused(ErrorCode.NOT_FOUND, "no conversation"):
        await mod.moderation.mute(mod.app, ADMIN, "c9", "bob", 60, "")
    await wire.watch(f"m:{mod.app}:bob")
    mute = await mod.moderation.mute(mod.app, ADMIN, "c1", "bob", 60, "flood")
    assert mute.until - mute.created == 60_000 and mute.reason == "flood"
    assert [c.op for c in await wire.control(mod.app, "bob")] == ["recheck"]
    assert [m.user for m in await mod.moderation.mutes(mod.app, "c1")] == ["bob"]
    await mod.moderation.unmute(mod.app, ADMIN, "c1", "bob")
    assert await mod.moderation.mutes(mod.app, "c1") == []
    with refused(ErrorCode.NOT_FOUND, "bob is not muted in c1"):
        await mod.moderation.unmute(mod.app, ADMIN, "c1", "bob")
    assert [a for a, _ in await mod.actions()] == ["member.mute", "member.unmute"]


async def test_a_rotated_secret_keeps_old_tokens_valid_for_the_overlap_only(
    mod: Mod, store: SQLiteStore
) -> None:
    for overlap in (-1, 3601):
        with refused(ErrorCode.INVALID_REQUEST, "overlap must be between 0 and 3600"):
            await mod.moderation.rotate_secret(mod.app, ADMIN, overlap)
    with refused(ErrorCode.NOT_FOUND, "no app"):
        await mod.moderation.rotate_secret("app_missing", ADMIN, None)
    old_token, _ = await mod.apps.token(mod.app, "bob")
    old_secret = (await mod.apps.get_app(mod.app)).secret
    secret, until = await mod.moderation.rotate_secret(mod.app, ADMIN, None)
    assert secret != old_secret and (await mod.apps.get_app(mod.app)).secret == secret
    retired = await store.retired_secrets(mod.app)
    assert [(r.secret, r.until) for r in retired] == [(old_secret, until)]
    assert (await mod.tokens.verify(old_token)).user == "bob", "within the default overlap (60 s)"
    await mod.moderation.rotate_secret(mod.app, ADMIN, 0)  # no overlap: every older secret ends now
    with refused(ErrorCode.TOKEN_INVALID):
        await mod.tokens.verify(old_token)
    assert [a for a, _ in await mod.actions()] == ["app.rotate_secret"] * 2


async def test_api_keys_are_listed_by_digest_created_and_revoked_by_id(mod: Mod) -> None:
    (first,) = await mod.moderation.api_keys(mod.app)
    key = await mod.moderation.create_api_key(mod.app, ADMIN)
    kid = key_id(key)
    assert len(kid) == KEY_ID_LENGTH and kid not in key
    assert [r.key_hash[:KEY_ID_LENGTH] for r in await mod.moderation.api_keys(mod.app)][-1] == kid
    assert await mod.apps.app_for_key(key) is not None
    with refused(ErrorCode.NOT_FOUND, "no API key"):
        await mod.moderation.revoke_api_key(mod.app, ADMIN, "0" * KEY_ID_LENGTH)
    with refused(ErrorCode.NOT_FOUND, "no API key"):
        await mod.moderation.revoke_api_key("app_other", ADMIN, kid)  # another app's key id
    await mod.moderation.revoke_api_key(mod.app, ADMIN, kid)
    assert await mod.apps.app_for_key(key) is None
    assert [r.key_hash for r in await mod.moderation.api_keys(mod.app)] == [first.key_hash]
    assert await mod.actions() == [("key.create", kid), ("key.revoke", kid)]


async def test_the_audit_log_pages_in_the_order_things_happened(mod: Mod) -> None:
    for i in range(5):  # within a millisecond or two: the order must not depend on the clock
        await mod.moderation.audit(mod.app, ADMIN, "test.action", f"t{i}", n=i)
    page, more = await mod.moderation.audit_page(mod.app, after="", limit=3)
    assert [r.target for r in page] == ["t0", "t1", "t2"] and more
    rest, more = await mod.moderation.audit_page(mod.app, after=page[-1].id, limit=3)
    assert [r.target for r in rest] == ["t3", "t4"] and not more
    assert page[0].detail == {"n": 0} and page[0].actor == ADMIN
    assert await mod.moderation.audit_page("app_other", after="", limit=3) == ([], False)
