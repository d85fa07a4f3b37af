"""Moderation by the app through AdminClient against real nodes: disable, revoke, mute, secret
rotation, API keys — each audited — and disable reaching a connection on another node."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import jwt
import pytest

from parley.proto.errors import CloseCode
from parley.sdk import (
    AdminClient,
    AdminError,
    Client,
    ClientClosed,
    ClientState,
    ConnectionStateEvent,
    MessageEvent,
    ReplyError,
)
from tests.harness import RunningNode, running_node
from tests.sdk.helpers import first

pytestmark = pytest.mark.timeout(30)


@asynccontextmanager
async def admin_of(node: RunningNode, key: str | None = None) -> AsyncIterator[AdminClient]:
    async with AdminClient(node.http, key or node.api_key) as admin:
        yield admin


def client(node: RunningNode, token: str, **kw: object) -> Client:
    return Client(node.url, token=token, min_reconnect_delay=0.02, max_reconnect_delay=0.2, **kw)  # type: ignore[arg-type]


async def closed_with(c: Client, code: int) -> ConnectionStateEvent:
    states = c.events(ConnectionStateEvent)
    return await first(states, lambda e: e.code == code, timeout=10)


async def test_disable_closes_live_connections_and_refuses_tokens_until_enabled(node: RunningNode) -> None:
    async with admin_of(node) as admin:
        bob = client(node, await node.token("bob"))
        await bob.connect()
        states = bob.events(ConnectionStateEvent)
        status = await admin.disable_user("bob", reason="spam")
        assert (status.disabled, status.reason) == (True, "spam")
        event = await first(states, lambda e: e.state is ClientState.CLOSED, timeout=10)
        assert event.code == CloseCode.USER_DISABLED == 4010
        assert not CloseCode.USER_DISABLED.reconnect
        again = client(node, await node.token("bob"))
        with pytest.raises(ClientClosed) as refused:
            await again.connect()
        assert isinstance(refused.value.error, ReplyError) and refused.value.error.code == "user_disabled"
        assert (await admin.user_status("bob")).disabled
        await admin.enable_user("bob")
        async with client(node, await node.token("bob")) as back:
            assert back.state is ClientState.CONNECTED
        actions = [(r.action, r.target) for r in (await admin.audit()).records]
        assert actions == [("user.disable", "bob"), ("user.enable", "bob")]
        assert (await admin.audit()).records[0].detail == {"reason": "spam"}


async def test_revoking_tokens_closes_old_sessions_and_get_token_reconnects(node: RunningNode) -> None:
    async with admin_of(node) as admin:
        issued: list[str] = []

        async def fresh() -> str:
            issued.append(await node.token("bob"))
            return issued[-1]

        bob = client(node, await node.token("bob"), get_token=fresh)
        plain = client(node, await node.token("bob"))  # no get_token: refused for good
        await bob.connect()
        await plain.connect()
        closing = bob.events(ConnectionStateEvent)
        plain_states = plain.events(ConnectionStateEvent)
        status = await admin.revoke_tokens("bob")
        assert status.tokens_before >= int(time.time())
        assert (
            await first(closing, lambda e: e.code is not None, timeout=10)
        ).code == CloseCode.TOKEN_REVOKED
        assert CloseCode.TOKEN_REVOKED.reconnect
        await first(closing, lambda e: e.state is ClientState.CONNECTED, timeout=10)
        assert issued, "the client fetched a new token"
        final = await first(plain_states, lambda e: e.state is ClientState.CLOSED, timeout=10)
        assert isinstance(final.error, ReplyError) and final.error.code == "token_revoked"
        await bob.close()
        assert [r.action for r in (await admin.audit()).records] == ["user.revoke_tokens"]


async def test_a_muted_member_cannot_write_until_the_mute_ends_or_is_lifted(node: RunningNode) -> None:
    async with admin_of(node) as admin:
        ann = client(node, await node.token("ann"))
        bob = client(node, await node.token("bob"))
        async with ann, bob:
            conv = (await ann.create_group("g", ["bob"])).conv
            sent = await bob.send(conv, "before")  # cached membership: the fast path must be rechecked
            mute = await admin.mute(conv, "bob", seconds=600, reason="flooding")
            assert mute.until > time.time() * 1000 + 590_000
            with pytest.raises(ReplyError) as refused:
                await bob.send(conv, "let me speak")
            assert refused.value.code == "muted" and "flooding" in refused.value.message
            with pytest.raises(ReplyError):
                await bob.edit(conv, sent.seq, text="edited")
            await ann.send(conv, "others still can")
            assert [(m.user, m.reason) for m in await admin.mutes(conv)] == [("bob", "flooding")]
            await admin.unmute(conv, "bob")
            inbox = ann.events(MessageEvent)
            await bob.send(conv, "thanks")
            await first(inbox, lambda e: e.message.text == "thanks")
            # A mute that has run out lets the member write again by itself.
            await admin.mute(conv, "bob", seconds=1)
            with pytest.raises(ReplyError):
                await bob.send(conv, "still muted")
            await asyncio.sleep(1.1)  # waits for the mute's end; asserts nothing about speed
            await bob.send(conv, "free again")
            with pytest.raises(AdminError) as bad:
                await admin.mute(conv, "bob", seconds=0)
            assert bad.value.status == 422
        actions = [r.action for r in (await admin.audit()).records]
        assert actions == ["member.mute", "member.unmute", "member.mute"]


async def test_secret_rotation_accepts_the_old_secret_only_during_the_overlap(node: RunningNode) -> None:
    old = node.app.secret

    def signed(secret: str, user: str) -> str:
        now = int(time.time())
        claims = {"iss": node.app.app, "sub": user, "aud": "parley", "iat": now, "exp": now + 600}
        return jwt.encode(claims, secret, algorithm="HS256")

    async with admin_of(node) as admin:
        async with client(node, signed(old, "warm")):
            pass  # the node has cached the app with its old secret
        rotated = await admin.rotate_secret(overlap=600)
        assert rotated.secret != old and rotated.previous_valid_until > time.time() * 1000
        for secret in (old, rotated.secret):
            async with client(node, signed(secret, "ann")) as c:
                assert c.state is ClientState.CONNECTED
        again = await admin.rotate_secret(overlap=0)  # ends every earlier secret's overlap at once
        for secret in (old, rotated.secret):
            with pytest.raises(ClientClosed) as refused:
                await client(node, signed(secret, "ann")).connect()
            assert refused.value.code == CloseCode.AUTH_FAILED
        async with client(node, signed(again.secret, "ann")) as c:
            assert c.state is ClientState.CONNECTED
        assert [r.action for r in (await admin.audit()).records] == ["app.rotate_secret"] * 2
        audit = str((await admin.audit()).records)
        assert old not in audit and rotated.secret not in audit, "the audit never holds a secret"


async def test_api_keys_are_created_listed_and_revoked(node: RunningNode) -> None:
    async with admin_of(node) as admin:
        created = await admin.create_api_key()
        keys = await admin.api_keys()
        assert created.id in [k.id for k in keys] and len(keys) == 2
        first_key = next(k.id for k in keys if k.id != created.id)
        async with admin_of(node, created.api_key) as second:
            await second.revoke_api_key(first_key)
            with pytest.raises(AdminError) as gone:
                await admin.get_user("nobody")
            assert (gone.value.status, gone.value.code) == (401, "token_invalid")
            assert [k.id for k in await second.api_keys()] == [created.id]
            with pytest.raises(AdminError) as missing:
                await second.revoke_api_key("0123456789ab")
            assert missing.value.status == 404
            records = (await second.audit()).records
            assert [(r.action, r.target) for r in records] == [
                ("key.create", created.id),
                ("key.revoke", first_key),
            ]
            assert records[1].actor == f"key:{created.id}"


async def test_disable_reaches_a_connection_on_another_node(tmp_path: Path, redis_url: str) -> None:
    async with running_node(tmp_path, node_id="n1", redis_url=redis_url) as one:  # noqa: SIM117
        async with running_node(
            tmp_path, node_id="n2", redis_url=redis_url, app=(one.app, one.api_key)
        ) as two:
            bob = client(two, await two.token("bob"))
            await bob.connect()
            states = bob.events(ConnectionStateEvent)
            async with admin_of(one) as admin:
                await admin.disable_user("bob")
            event = await first(states, lambda e: e.state is ClientState.CLOSED, timeout=10)
            assert event.code == CloseCode.USER_DISABLED


async def test_a_block_and_a_mute_reach_the_other_node(tmp_path: Path, redis_url: str) -> None:
    async with running_node(tmp_path, node_id="n1", redis_url=redis_url) as one:  # noqa: SIM117
        async with running_node(
            tmp_path, node_id="n2", redis_url=redis_url, app=(one.app, one.api_key)
        ) as two:
            async with client(one, await one.token("ann")) as ann, client(two, await two.token("bob")) as bob:
                direct = (await ann.create_direct("bob")).conv
                group = (await ann.create_group("g", ["bob"])).conv
                await bob.send(direct, "hi")  # both conversations checked (cleared) on node two
                await bob.send(group, "hi all")
                await ann.block("bob")
                async with admin_of(one) as admin:
                    await admin.mute(group, "bob", seconds=600)
                for conv, code in ((direct, "blocked"), (group, "muted")):
                    async with asyncio.timeout(10):  # the recheck crosses Redis: wait for it
                        while True:
                            try:
                                await bob.send(conv, "still there?")
                            except ReplyError as exc:
                                assert exc.code == code
                                break
                            await asyncio.sleep(0.05)
