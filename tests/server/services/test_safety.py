"""SafetyService: blocks between users, and the checks every add and write passes (blocked, muted)."""

from __future__ import annotations

import pytest

from parley.proto.errors import ErrorCode
from parley.server.ids import now_ms
from parley.server.models import Conversation, Member
from parley.server.safety_models import Mute
from parley.server.services.safety import SafetyService
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import Wire, refused

A = "app1"


@pytest.fixture
def safety(store: SQLiteStore, wire: Wire) -> SafetyService:
    return SafetyService(store, wire.broker)


async def _conv(store: SQLiteStore, conv: str, kind: str, users: tuple[str, ...]) -> None:
    await store.create_conversation(
        Conversation(app=A, conv=conv, kind=kind, epoch="e", created=1),
        [Member(A, conv, u, "member", 1) for u in users],
    )


async def test_a_block_is_idempotent_and_tells_both_users_connections_every_time(
    safety: SafetyService, wire: Wire
) -> None:
    with refused(ErrorCode.INVALID_REQUEST, "cannot block themselves"):
        await safety.block(A, "alice", "alice")
    await wire.watch("m:app1:alice", "m:app1:bob")
    await safety.block(A, "alice", "bob")
    await safety.block(A, "alice", "bob")
    assert [b.user for b in await safety.blocked(A, "alice")] == ["bob"]
    assert await safety.blocked(A, "bob") == []
    for user, peer in (("alice", "bob"), ("bob", "alice")):
        controls = await wire.control(A, user)
        assert [(c.op, c.peer) for c in controls] == [("recheck", peer)] * 2
    await safety.unblock(A, "alice", "bob")
    await safety.unblock(A, "alice", "bob")
    assert await safety.blocked(A, "alice") == []
    assert len(await wire.control(A, "alice")) == 2, "an unblock forbids nothing: no recheck"


async def test_hidden_is_symmetric(safety: SafetyService) -> None:
    await safety.block(A, "alice", "bob")
    await safety.block(A, "carol", "alice")
    assert await safety.hidden(A, "alice", ["bob", "carol", "dan"]) == {"bob", "carol"}
    assert await safety.hidden(A, "bob", ["alice"]) == {"alice"}
    assert await safety.hidden(A, "alice", []) == set()
    assert await safety.hidden("app2", "alice", ["bob"]) == set(), "blocks are per app"


async def test_adding_is_refused_by_whoever_blocks_the_actor_and_a_direct_pair_by_either(
    safety: SafetyService,
) -> None:
    await safety.block(A, "bob", "alice")  # bob does not accept alice
    await safety.block(A, "alice", "carol")  # alice blocks carol
    with refused(ErrorCode.BLOCKED, "bob does not accept you"):
        await safety.check_add(A, "alice", "group", ["dan", "bob"])
    with refused(ErrorCode.BLOCKED, "bob does not accept you"):
        await safety.check_add(A, "alice", "direct", ["bob"])
    await safety.check_add(
        A, "alice", "group", ["carol", "dan", "alice"]
    )  # her own block: allowed in a group
    with refused(ErrorCode.BLOCKED, "you block carol: unblock them first"):
        await safety.check_add(A, "alice", "direct", ["carol"])


async def test_writes_are_refused_while_muted_and_in_a_direct_conversation_with_a_block(
    safety: SafetyService, store: SQLiteStore
) -> None:
    await _conv(store, "g", "group", ("alice", "bob"))
    await _conv(store, "d", "direct", ("alice", "bob"))
    await safety.check_send(A, "alice", "g")
    await safety.check_send(A, "alice", "d")
    now = now_ms()
    await store.save_mute(Mute(A, "g", "alice", until=now + 60_000, reason="spam", created=now))
    await store.save_mute(Mute(A, "d", "alice", until=now - 1, reason="over", created=now - 10))
    with refused(ErrorCode.MUTED, ": spam"):
        await safety.check_send(A, "alice", "g")
    await safety.check_send(A, "bob", "g")
    await safety.check_send(A, "alice", "d")  # that mute has ended
    await safety.block(A, "bob", "alice")
    with refused(ErrorCode.BLOCKED, "bob blocks you: no direct messages"):
        await safety.check_send(A, "alice", "d")
    with refused(ErrorCode.BLOCKED, "you block alice"):
        await safety.check_send(A, "bob", "d")
    await safety.check_send(A, "bob", "g")  # a block does not silence a group
