"""Bad input gets a clear error frame; the connection keeps serving and nothing stored changes."""

from __future__ import annotations

import time

import jwt
import msgpack
import pytest
from websockets.exceptions import ConnectionClosed

from parley.proto import frames
from tests.harness import RunningNode
from tests.wsclient import RawClient


async def chat(node: RunningNode) -> tuple[RawClient, str]:
    alice = await RawClient.connect(node.url, await node.token("alice"))
    conv = (await alice.request(frames.ConvCreate, kind="group", members=["bob"], name="g")).conv.conv
    return alice, conv


async def assert_still_serving(client: RawClient) -> None:
    await client.send(frames.Ping(ts=42))
    assert (await client.expect(frames.Pong)).ts == 42


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"\xc1\xc1", "bad_frame"),
        (msgpack.packb([1, 2, 3]), "bad_frame"),
        (msgpack.packb({"t": "nonsense"}), "unknown_frame"),
        (msgpack.packb({"id": 1}), "unknown_frame"),
        (msgpack.packb({"t": "send", "id": 1, "conv": "c"}), "invalid_frame"),
        (msgpack.packb({"t": "send", "id": "x", "conv": "c", "cmid": "a", "body": {}}), "invalid_frame"),
        (b"\x81\xa1t" + b"\xda\xff\xff" + b"a" * 65535, "frame_too_large"),
    ],
)
async def test_malformed_frames_get_an_error_and_the_connection_survives(
    node: RunningNode, payload: bytes, code: str
) -> None:
    alice, conv = await chat(node)
    await alice.send_raw(payload)
    error = await alice.expect(frames.Error)
    assert error.code == code and error.message and error.action == "fatal"
    await assert_still_serving(alice)
    ack = await alice.request(frames.Send, conv=conv, cmid="after", body={"text": "still here"})
    assert isinstance(ack, frames.Ack)
    await alice.close()


async def test_text_frames_are_refused(node: RunningNode) -> None:
    alice, _ = await chat(node)
    await alice.ws.send("hello")
    assert (await alice.expect(frames.Error)).code == "bad_frame"
    await assert_still_serving(alice)
    await alice.close()


async def test_frame_before_hello_is_refused_then_hello_works(node: RunningNode) -> None:
    client = await RawClient.connect(node.url)
    await client.send(frames.ConvList(id=5))
    error = await client.expect(frames.Error)
    assert (error.code, error.id) == ("not_authenticated", 5)
    await client.send(frames.Hello(v=1, token=await node.token("alice")))
    assert (await client.expect(frames.Welcome)).user == "alice"
    await client.close()


async def test_unsupported_version_is_refused_and_closed(node: RunningNode) -> None:
    client = await RawClient.connect(node.url)
    await client.send(frames.Hello(v=99, token=await node.token("alice")))
    assert (await client.expect(frames.Error)).code == "unsupported_version"
    with pytest.raises(ConnectionClosed) as closed:
        await client.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4002


def _token(secret: str, **claims: object) -> str:
    base: dict[str, object] = {"sub": "alice", "aud": "parley", "exp": int(time.time()) + 60}
    base.update(claims)
    return jwt.encode(base, secret, algorithm="HS256")


@pytest.mark.parametrize(
    ("make", "code", "close_code"),
    [
        (lambda app: "not-a-jwt", "token_invalid", 4001),
        (lambda app: _token("wrong-secret-wrong-secret-wrong-secret", iss=app.app), "token_invalid", 4001),
        (lambda app: _token(app.secret, iss=app.app, exp=int(time.time()) - 3600), "token_expired", 4004),
        (lambda app: _token(app.secret, iss="app_unknown"), "token_invalid", 4001),
        (lambda app: _token(app.secret, iss=app.app, aud="other"), "token_invalid", 4001),
        (lambda app: "a.!!!.b", "token_invalid", 4001),
        (lambda app: "a.WzFd.b", "token_invalid", 4001),  # payload is [1], not an object
        (lambda app: "gICA.e30.AAAA", "token_invalid", 4001),  # header is not UTF-8
        (lambda app: _token(app.secret, sub="alice"), "token_invalid", 4001),  # no iss
    ],
    ids=[
        "garbage",
        "bad-signature",
        "expired",
        "wrong-app",
        "wrong-audience",
        "bad-base64",
        "not-object",
        "not-utf8",
        "no-iss",
    ],
)
async def test_bad_tokens_are_refused_with_a_code(
    node: RunningNode, make, code: str, close_code: int
) -> None:  # type: ignore[no-untyped-def]
    client = await RawClient.connect(node.url)
    await client.send(frames.Hello(v=1, token=make(node.app)))
    assert (await client.expect(frames.Error)).code == code
    with pytest.raises(ConnectionClosed) as closed:
        await client.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == close_code


async def test_second_hello_is_refused(node: RunningNode) -> None:
    alice, _ = await chat(node)
    await alice.send(frames.Hello(v=1, token=await node.token("alice")))
    assert (await alice.expect(frames.Error)).code == "already_authenticated"
    await assert_still_serving(alice)
    await alice.close()


async def test_non_member_cannot_send_read_or_page_history(node: RunningNode) -> None:
    alice, conv = await chat(node)
    await alice.request(frames.Send, conv=conv, cmid="x", body={"text": "members only"})
    mallory = await RawClient.connect(node.url, await node.token("mallory"))
    for frame_type, fields in [
        (frames.Send, {"conv": conv, "cmid": "m", "body": {"text": "let me in"}}),
        (frames.History, {"conv": conv}),
        (frames.Read, {"conv": conv, "seq": 1}),
        (frames.ConvGet, {"conv": conv}),
        (frames.MemberAdd, {"conv": conv, "users": ["mallory"]}),
    ]:
        reply = await mallory.request(frame_type, **fields)
        assert isinstance(reply, frames.Error) and reply.code == "forbidden", (frame_type, reply)
    page = await alice.request(frames.History, conv=conv)
    assert [m.body.get("text") for m in page.messages if m.kind == "text"] == ["members only"]
    await assert_still_serving(mallory)
    await alice.close()
    await mallory.close()


async def test_group_operations_need_the_role(node: RunningNode) -> None:
    alice, conv = await chat(node)
    bob = await RawClient.connect(node.url, await node.token("bob"))
    for frame_type, fields in [
        (frames.MemberAdd, {"conv": conv, "users": ["carol"]}),
        (frames.MemberRemove, {"conv": conv, "users": ["alice"]}),
        (frames.ConvUpdate, {"conv": conv, "name": "mine now"}),
        (frames.MemberRole, {"conv": conv, "user": "bob", "role": "owner"}),
    ]:
        reply = await bob.request(frame_type, **fields)
        assert isinstance(reply, frames.Error) and reply.code == "forbidden", (frame_type, reply)
    view = (await alice.request(frames.ConvGet, conv=conv)).conv
    assert view.name == "g" and {m.user: m.role for m in view.members} == {"alice": "owner", "bob": "member"}
    await alice.close()
    await bob.close()


async def test_duplicate_client_id_never_stores_twice(node: RunningNode) -> None:
    alice, conv = await chat(node)
    acks = [await alice.request(frames.Send, conv=conv, cmid="dup", body={"text": "x"}) for _ in range(3)]
    assert [a.dup for a in acks] == [False, True, True] and len({a.seq for a in acks}) == 1
    page = await alice.request(frames.History, conv=conv)
    assert sum(1 for m in page.messages if m.cmid == "dup") == 1
    await alice.close()


async def test_history_out_of_range(node: RunningNode) -> None:
    alice, conv = await chat(node)
    for fields in ({"after": 50}, {"before": 50}, {"before": 0}):
        reply = await alice.request(frames.History, conv=conv, **fields)
        assert isinstance(reply, frames.Error) and reply.code == "out_of_range", fields
    await assert_still_serving(alice)
    await alice.close()


async def test_invalid_message_bodies(node: RunningNode) -> None:
    alice, conv = await chat(node)
    for kind, body in [("text", {"text": ""}), ("text", {}), ("rich", {"type": "image"}), ("custom", {})]:
        reply = await alice.request(
            frames.Send, conv=conv, cmid=f"bad-{kind}-{len(body)}", kind=kind, body=body
        )
        assert isinstance(reply, frames.Error) and reply.code == "invalid_request", (kind, body)
    ok = await alice.request(
        frames.Send,
        conv=conv,
        cmid="rich",
        kind="rich",
        body={"type": "image", "url": "https://cdn.example/cat.png", "width": 10},
    )
    assert isinstance(ok, frames.Ack) and ok.seq == 2  # seq 1 is the "created" system event
    await alice.close()


async def test_apps_never_see_each_other(node: RunningNode) -> None:
    alice, conv = await chat(node)
    other = await node.node.services.apps.create_app("other")
    intruder_token, _ = await node.node.services.apps.token(other.app.app, "alice")
    intruder = await RawClient.connect(node.url, intruder_token)
    reply = await intruder.request(frames.History, conv=conv)
    assert isinstance(reply, frames.Error) and reply.code == "forbidden"
    assert (await intruder.request(frames.ConvList)).convs == []
    await alice.close()
    await intruder.close()


async def test_an_invalid_frame_with_an_id_answers_that_request(node: RunningNode) -> None:
    alice, conv = await chat(node)
    await alice.send_raw(
        msgpack.packb({"t": "send", "id": 77, "conv": conv, "cmid": "x", "body": "not a map"})
    )
    error = await alice.expect(frames.Error)
    assert (error.code, error.id) == ("invalid_frame", 77)
    await alice.close()


@pytest.mark.parametrize(
    ("failure", "code"), [(RuntimeError("disk on fire"), "internal"), (None, "unavailable")]
)
async def test_a_failed_store_write_is_an_error_frame_and_the_next_send_works(
    node: RunningNode, failure: Exception | None, code: str
) -> None:
    from parley.server.ports import StoreUnavailable

    alice, conv = await chat(node)
    store = node.node.services.messages._batcher._store
    real_append = store.append
    exc = failure or StoreUnavailable("store down")

    async def failing_append(messages: object) -> object:
        store.append = real_append  # fail once
        raise exc

    store.append = failing_append
    await alice.send(frames.Send(id=7, conv=conv, cmid="lost", body={"text": "x"}))
    error = await alice.expect(frames.Error)
    assert (error.code, error.id) == (code, 7) and error.action == "retry"
    ack = await alice.request(frames.Send, conv=conv, cmid="lost", body={"text": "x"})
    assert isinstance(ack, frames.Ack) and not ack.dup, "nothing was stored by the failed write"
    await alice.close()
