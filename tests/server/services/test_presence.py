"""PresenceService: a user is online while any connection is; transitions (not connections) are
announced; last seen is stored when the last connection goes; ``current`` answers for many."""

from __future__ import annotations

from parley.server.services.presence import PresenceService
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import Wire

A = "app1"


async def test_only_transitions_are_announced_and_the_last_disconnect_stores_last_seen(
    store: SQLiteStore, wire: Wire
) -> None:
    await wire.watch("p:app1:alice")
    presence = PresenceService(store, wire.broker, ttl=60)
    await presence.connected(A, "alice", "n1:1")
    await presence.connected(A, "alice", "n2:7")  # a second device: already online
    await presence.disconnected(A, "alice", "n1:1")  # one device left: still online
    assert [f.get("online", False) for f in await wire.frames("p:app1:alice")] == [True]
    assert await store.last_seen_of(A, ["alice"]) == {}
    await presence.disconnected(A, "alice", "n2:7")
    await presence.disconnected(A, "alice", "n2:7")  # reported twice: announced once
    published = await wire.frames("p:app1:alice")
    assert [f.get("online", False) for f in published] == [True, False]
    seen = await store.last_seen_of(A, ["alice"])
    assert seen["alice"] == published[-1]["last_seen"] > 0


async def test_current_answers_for_every_user_asked(store: SQLiteStore, wire: Wire) -> None:
    presence = PresenceService(store, wire.broker, ttl=60)
    await presence.connected(A, "alice", "n1:1")
    await presence.connected(A, "bob", "n1:2")
    await presence.disconnected(A, "bob", "n1:2")
    await presence.connected("app2", "carol", "n1:3")  # another app's carol
    states = await presence.current(A, ["alice", "bob", "carol"])
    assert [(p.user, p.online) for p in states] == [("alice", True), ("bob", False), ("carol", False)]
    assert states[1].last_seen > 0 and states[2].last_seen == 0
    assert await presence.current(A, []) == []


async def test_an_entry_not_refreshed_within_the_ttl_expires(store: SQLiteStore, wire: Wire) -> None:
    gone = PresenceService(store, wire.broker, ttl=0)  # expires at once: a node that stopped refreshing
    await gone.connected(A, "alice", "n1:1")
    assert [p.online for p in await gone.current(A, ["alice"])] == [False]
    kept = PresenceService(store, wire.broker, ttl=3600)
    await kept.connected(A, "bob", "n1:2")
    await kept.refresh([(A, "bob", "n1:2"), (A, "dave", "n1:9")])  # dave never connected
    assert [p.online for p in await kept.current(A, ["bob", "dave"])] == [True, False]
