"""ReachPolicy: who may watch whose presence, whom one may add, and the creation and
being-added quotas — the node's defaults, overridden per app."""

from __future__ import annotations

import pytest

from parley.proto.errors import ErrorCode
from parley.server.broker.memory import MemoryBroker
from parley.server.models import AppPolicy, Conversation, Member
from parley.server.services.conversations import ConversationService
from parley.server.services.messages import MessageService
from parley.server.services.reach import ReachPolicy
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import refused

A = "app1"


async def _share(store: SQLiteStore, conv: str, *users: str, created_by: str = "", created: int = 1) -> None:
    await store.create_conversation(
        Conversation(app=A, conv=conv, kind="group", epoch="e", created=created, created_by=created_by),
        [Member(A, conv, u, "member", created) for u in users],
    )


def test_unknown_node_policies_are_a_configuration_error(store: SQLiteStore) -> None:
    with pytest.raises(ValueError, match="presence policy"):
        ReachPolicy(store, presence="friends")
    with pytest.raises(ValueError, match="add policy"):
        ReachPolicy(store, add="nobody")


async def test_an_app_policy_overrides_the_node_defaults_field_by_field(store: SQLiteStore) -> None:
    reach = ReachPolicy(store, presence="all", add="contacts")
    assert await reach.policy(A) == AppPolicy(A, "all", "contacts")
    with refused(ErrorCode.INVALID_REQUEST, "presence must be one of"):
        await reach.set_policy(A, presence="friends")
    with refused(ErrorCode.INVALID_REQUEST, "add must be one of"):
        await reach.set_policy(A, add="nobody")
    assert await reach.set_policy(A, presence="shared") == AppPolicy(A, "shared", "contacts")
    assert await reach.set_policy(A, add="anyone") == AppPolicy(A, "shared", "anyone")
    assert await reach.policy("app2") == AppPolicy("app2", "all", "contacts"), "per app"


async def test_presence_is_visible_between_users_who_share_a_conversation(store: SQLiteStore) -> None:
    reach = ReachPolicy(store)
    await _share(store, "c1", "alice", "bob")
    await reach.require_watchable(A, "alice", ["alice", "bob"])
    with refused(ErrorCode.FORBIDDEN, "presence of carol is not visible"):
        await reach.require_watchable(A, "alice", ["bob", "carol"])
    await reach.set_policy(A, presence="all")
    await reach.require_watchable(A, "alice", ["bob", "carol"])


async def test_with_the_contacts_policy_only_contacts_are_added(store: SQLiteStore) -> None:
    reach = ReachPolicy(store)
    await _share(store, "c1", "alice", "bob")
    await reach.require_addable(A, "alice", ["carol"])  # anyone, by default
    await reach.set_policy(A, add="contacts")
    await reach.require_addable(A, "alice", ["bob", "alice"])
    with refused(ErrorCode.FORBIDDEN, "carol cannot be added by you"):
        await reach.require_addable(A, "alice", ["bob", "carol"])
    with refused(ErrorCode.FORBIDDEN, "carol cannot be added"):
        await reach.check_create(A, "alice", "group", ["carol"])
    await reach.check_create(
        A, "alice", "direct", ["carol"]
    )  # a direct conversation is for blocking to govern


async def test_the_creation_quota_counts_groups_and_support_not_direct_conversations(
    store: SQLiteStore,
) -> None:
    reach = ReachPolicy(store, create_quota=2, window=3600)
    convs = ConversationService(store, MemoryBroker(), MessageService(store, MemoryBroker()), max_members=10)
    for other in ("bob", "carol", "dan"):
        await reach.check_create(A, "alice", "direct", [other])
        await convs.create(A, "alice", "direct", [other])
    await reach.check_create(A, "alice", "group", [])  # direct conversations are not counted
    await convs.create(A, "alice", "group", [])
    await convs.create(A, "alice", "support", [])
    with refused(ErrorCode.LIMIT_EXCEEDED, "at most 2 conversations per 3600 s"):
        await reach.check_create(A, "alice", "group", [])
    await reach.check_create(A, "alice", "direct", ["erin"])  # not limited by it either
    await reach.check_create(A, "bob", "group", [])  # per user


async def test_the_being_added_quota_counts_recent_joins_only(store: SQLiteStore) -> None:
    reach = ReachPolicy(store, join_quota=2, window=3600)
    await _share(store, "old", "bob", created=1)  # long before the window
    await _share(store, "c1", "bob", created=10**13)
    await reach.check_add(A, "alice", ["bob", "carol"])
    await _share(store, "c2", "bob", created=10**13)
    with refused(ErrorCode.LIMIT_EXCEEDED, "bob joined 2 conversations within 3600 s"):
        await reach.check_add(A, "alice", ["carol", "bob"])
    await reach.check_add(A, "bob", ["bob"])  # nobody else to add: nothing to check
