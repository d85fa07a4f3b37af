"""Who a connection is: token claims, reserved user ids, the user-id charset (issue 10, items 10,
12, 14) — over a real node, raw frames."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from websockets.exceptions import ConnectionClosed

from parley.proto import frames
from parley.server.models import App, Conversation, Member
from tests.harness import RunningNode, running_node
from tests.wsclient import RawClient


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_payload(app: App, payload: bytes) -> str:
    """A token with the app's valid signature around any payload bytes."""
    signing_input = _b64(b'{"alg":"HS256"}') + "." + _b64(payload)
    mac = hmac.digest(app.secret.encode(), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{_b64(mac)}"


def claims_token(app: App, **over: Any) -> str:
    claims: dict[str, Any] = {"iss": app.app, "sub": "alice", "aud": "parley", "exp": int(time.time()) + 60}
    claims.update(over)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, app.secret, algorithm="HS256")


async def refused(node: RunningNode, token: str) -> tuple[str, int]:
    """Send ``hello`` with ``token``: the error code and the close code, both at once."""
    client = await RawClient.connect(node.url)
    await client.send(frames.Hello(v=1, token=token))
    error = await client.expect(frames.Error, timeout=3)
    with pytest.raises(ConnectionClosed) as closed:
        await client.recv(timeout=3)
    assert closed.value.rcvd is not None
    return error.code, closed.value.rcvd.code


def _nested(app: App) -> str:
    claims = json.dumps({"iss": app.app, "sub": "alice", "aud": "parley", "exp": int(time.time()) + 60})
    return signed_payload(app, claims[:-1].encode() + b', "name": ' + b"[" * 1200 + b"]" * 1200 + b"}")


@pytest.mark.parametrize(
    "make",
    [
        _nested,
        lambda app: claims_token(app, exp=1e308),
        lambda app: claims_token(app, exp=2**70),
        lambda app: claims_token(app, exp=int(time.time()) + 31 * 86400),
        lambda app: claims_token(app, iat=-(2**70)),
    ],
    ids=["nested-1200", "exp-1e308", "exp-2^70", "exp-31-days", "iat--2^70"],
)
async def test_unbounded_or_nested_tokens_are_invalid_at_once(node: RunningNode, make: Any) -> None:
    assert await refused(node, make(node.app)) == ("token_invalid", 4001)
    # The node keeps serving.
    alice = await RawClient.connect(node.url, await node.token("alice"))
    await alice.close()


# ------------------------------------------------------------ item 10: the user-id charset
@pytest.mark.parametrize("sub", ["a\nb", "a b", "nul\x00", "slash/x", "é", "tab\t", "a\n"])
async def test_a_token_for_a_user_id_outside_the_charset_is_invalid(node: RunningNode, sub: str) -> None:
    assert await refused(node, claims_token(node.app, sub=sub)) == ("token_invalid", 4001)


async def test_frames_naming_users_outside_the_charset_are_invalid(node: RunningNode) -> None:
    alice = await RawClient.connect(node.url, await node.token("alice"))
    conv = (await alice.request(frames.ConvCreate, kind="group", members=["bob"])).conv.conv
    for frame_type, fields in [
        (frames.ConvCreate, {"kind": "direct", "members": ["b\nc"]}),
        (frames.ConvCreate, {"kind": "group", "members": ["ok", "sp ace"]}),
        (frames.MemberAdd, {"conv": conv, "users": ["x\x00"]}),
        (frames.MemberRemove, {"conv": conv, "users": ["a\nb"]}),
        (frames.MemberRole, {"conv": conv, "user": "a\nb", "role": "admin"}),
        (frames.PresenceSub, {"users": ["a\nb"]}),
        (frames.Block, {"user": "a\nb"}),
        (frames.Send, {"conv": conv, "cmid": "m", "body": {"text": "hi"}, "mentions": ["a\nb"]}),
    ]:
        reply = await alice.request(frame_type, **fields)
        assert isinstance(reply, frames.Error) and reply.code == "invalid_frame", (frame_type, reply)
    await alice.close()


async def test_the_admin_api_refuses_user_ids_outside_the_charset(node: RunningNode) -> None:
    headers = {"authorization": f"Bearer {node.api_key}"}
    async with httpx.AsyncClient(base_url=node.http, headers=headers, timeout=10) as api:
        for method, path, body in [
            ("POST", "/v1/users", {"user": "a\nb"}),
            ("POST", "/v1/tokens", {"user": "b\nc"}),
            ("POST", "/v1/conversations", {"kind": "direct", "members": ["a", "b\nc"]}),
            ("POST", "/v1/conversations", {"kind": "group", "members": ["a"], "owner": "o\nx"}),
            ("POST", "/v1/users/b%0Ac/messages", {"body": {"text": "hi"}}),
            ("POST", "/v1/users/alice/messages", {"body": {"text": "hi"}, "sender": "s\nx"}),
            ("GET", "/v1/users/a%0Ab", None),
            ("GET", "/v1/users/a%0Ab/conversations", None),
            ("GET", "/v1/users/a%20b/profile", None),
            ("GET", "/v1/users/a%0Ab/status", None),
            ("POST", "/v1/users/a%0Ab/disable", {}),
            ("POST", "/v1/users/a%0Ab/revoke-tokens", {}),
            ("PUT", "/v1/conversations/c1/mutes/a%0Ab", {"seconds": 60}),
        ]:
            response = await api.request(method, path, json=body)
            assert response.status_code == 422, (path, body, response.text)
            assert response.json()["code"] == "invalid_request"


async def test_an_existing_direct_key_is_only_returned_to_its_members(node: RunningNode) -> None:
    """A row written before ids were restricted: its key is what mallory + carol produce today
    ("carol\\nmallory"), but its members are "carol\\nx" and "victim" (the issue's collision).
    Asking for a direct conversation with carol must not hand it to mallory."""
    store = node.node.store
    legacy = Conversation(
        app=node.app.app, conv="c_legacy", kind="direct", epoch="e", created=1,
        direct_key="carol\nmallory", created_by="x",
    )  # fmt: skip
    await store.create_conversation(
        legacy, [Member(node.app.app, "c_legacy", u, "member", 1) for u in ("carol\nx", "victim")]
    )
    mallory = await RawClient.connect(node.url, await node.token("mallory"))
    reply = await mallory.request(frames.ConvCreate, kind="direct", members=["carol"])
    assert isinstance(reply, frames.Error) and reply.code == "forbidden", reply
    history = await mallory.request(frames.History, conv="c_legacy")
    assert isinstance(history, frames.Error) and history.code == "forbidden"
    await mallory.close()


# --------------------------------------------------------------- item 12: reserved user ids
@pytest.mark.parametrize(
    ("sub", "role"),
    [
        ("system", None),
        ("system", "bot"),
        ("system", "agent"),
        ("parley-bot", None),
        ("parley-bot", "agent"),
    ],
)
async def test_reserved_user_ids_cannot_be_claimed(node: RunningNode, sub: str, role: str | None) -> None:
    assert await refused(node, claims_token(node.app, sub=sub, role=role)) == ("token_invalid", 4001)


async def test_the_support_bot_id_is_claimed_only_with_the_bot_role(tmp_path: Path) -> None:
    async with running_node(tmp_path, support_bot="helper") as node:
        assert await refused(node, claims_token(node.app, sub="helper")) == ("token_invalid", 4001)
        bot = await RawClient.connect(node.url, claims_token(node.app, sub="helper", role="bot"))
        assert bot.welcome.user == "helper"
        await bot.close()


async def test_a_user_token_named_parley_bot_reads_no_support_conversation(node: RunningNode) -> None:
    customer = await RawClient.connect(node.url, await node.token("customer"))
    conv = (await customer.request(frames.ConvCreate, kind="support")).conv.conv
    await customer.request(frames.Send, conv=conv, cmid="s", body={"text": "my order number is 42"})
    await customer.close()
    assert await refused(node, claims_token(node.app, sub="parley-bot")) == ("token_invalid", 4001)


async def test_the_admin_api_refuses_to_make_reserved_users(node: RunningNode) -> None:
    headers = {"authorization": f"Bearer {node.api_key}"}
    async with httpx.AsyncClient(base_url=node.http, headers=headers, timeout=10) as api:
        for path, body in [
            ("/v1/users", {"user": "system"}),
            ("/v1/users", {"user": "system", "role": "bot"}),
            ("/v1/users", {"user": "parley-bot", "role": "user"}),
            ("/v1/tokens", {"user": "system"}),
            ("/v1/tokens", {"user": "parley-bot"}),  # no bot user record: would be role "user"
        ]:
            response = await api.post(path, json=body)
            assert response.status_code == 422, (path, body, response.text)
        made = await api.post("/v1/users", json={"user": "parley-bot", "role": "bot"})
        assert made.status_code == 201
        issued = await api.post("/v1/tokens", json={"user": "parley-bot"})
        assert issued.status_code == 201
        bot = await RawClient.connect(node.url, issued.json()["token"])
        assert bot.welcome.user == "parley-bot"
        await bot.close()


async def test_only_the_sender_edits_and_moderators_only_recall(node: RunningNode) -> None:
    """A group's owner/admin may recall (never edit) a member's message; a direct
    conversation has no moderator; a back-end's message sent as "system" is nobody's to change."""
    alice = await RawClient.connect(node.url, await node.token("alice"))
    bob = await RawClient.connect(node.url, await node.token("bob"))
    group = (await alice.request(frames.ConvCreate, kind="group", members=["bob"])).conv.conv
    bob_msg = await bob.request(frames.Send, conv=group, cmid="b1", body={"text": "spam"})
    edit = await alice.request(frames.Edit, conv=group, seq=bob_msg.seq, body={"text": "put words"})
    assert isinstance(edit, frames.Error) and edit.code == "forbidden"
    assert isinstance(await alice.request(frames.Recall, conv=group, seq=bob_msg.seq), frames.Ack)
    alice_msg = await alice.request(frames.Send, conv=group, cmid="a1", body={"text": "owner"})
    recall = await bob.request(frames.Recall, conv=group, seq=alice_msg.seq)
    assert isinstance(recall, frames.Error) and recall.code == "forbidden"
    direct = (await alice.request(frames.ConvCreate, kind="direct", members=["bob"])).conv.conv
    sent = await alice.request(frames.Send, conv=direct, cmid="d1", body={"text": "mine"})
    for frame_type, fields in ((frames.Recall, {}), (frames.Edit, {"body": {"text": "x"}})):
        reply = await bob.request(frame_type, conv=direct, seq=sent.seq, **fields)
        assert isinstance(reply, frames.Error) and reply.code == "forbidden"
    await alice.close()
    await bob.close()
