"""Presence: online/offline with last seen, shared across nodes through the broker registry."""

from __future__ import annotations

from collections.abc import Collection

from parley.proto import encode, frames
from parley.server.channels import presence_channel
from parley.server.ids import now_ms
from parley.server.ports import Broker
from parley.server.store_ports import Directory

__all__ = ["PresenceService"]


def _key(app: str, user: str) -> str:
    return f"{app}:{user}"


class PresenceService:
    """Who is online, shared by every node through the broker's presence registry; ``last_seen``
    in the store. Presence frames go to each user's presence channel, one per real change.
    """

    def __init__(self, store: Directory, broker: Broker, *, ttl: float) -> None:
        self._store = store
        self._broker = broker
        self._ttl = ttl

    async def connected(self, app: str, user: str, conn: str) -> None:
        """Register connection ``conn``; publish ``online`` only if it is the user's first live one."""
        if await self._broker.presence_add(_key(app, user), conn, self._ttl):
            self._publish(app, frames.Presence(user=user, online=True, last_seen=now_ms()))

    async def disconnected(self, app: str, user: str, conn: str) -> None:
        """Drop connection ``conn``; if it was the user's last live one, store ``last_seen`` and
        publish ``offline`` (a second call for the same ``conn`` does neither).
        """
        if await self._broker.presence_remove(_key(app, user), conn):
            ts = now_ms()
            await self._store.set_last_seen(app, user, ts)
            self._publish(app, frames.Presence(user=user, online=False, last_seen=ts))

    async def refresh(self, entries: Collection[tuple[str, str, str]]) -> None:
        """Keep this node's live connections registered (called periodically)."""
        await self._broker.presence_refresh([(_key(a, u), c) for a, u, c in entries], self._ttl)

    async def current(self, app: str, users: Collection[str]) -> list[frames.Presence]:
        """Each user's state now: one registry call and at most one store round trip, for any number."""
        online = await self._broker.presence_online([_key(app, u) for u in users])
        offline = [u for u in users if _key(app, u) not in online]
        last_seen = await self._store.last_seen_of(app, offline) if offline else {}
        return [
            frames.Presence(user=u, online=True)
            if _key(app, u) in online
            else frames.Presence(user=u, online=False, last_seen=last_seen.get(u, 0))
            for u in users
        ]

    def _publish(self, app: str, presence: frames.Presence) -> None:
        self._broker.publish(presence_channel(app, presence.user), encode(presence))
