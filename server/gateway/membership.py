"""Repair the membership cache of local connections after a broker gap.

Each connection caches the conversations it receives (``Connection.convs``); control
events on the user's control channel keep it current, and the send fast path and
``_require_member`` trust it, so that a send costs no store read. But ``publish`` is
at-most-once: a control event lost in a gap (this node's subscription dropped, or the
publishing node's publishes were dropped) would leave a removed member able to send and
read history for as long as it stays connected.

While the broker's subscription is down (:data:`~parley.server.ports.DownHandler`) no
control event can arrive, so no cached membership is trusted: every check asks the store
(:meth:`MembershipRepair.suspend`). Whenever the broker reports a gap (see
:data:`~parley.server.ports.GapHandler`):

1. the affected connections are marked untrusted at once (``convs_trusted = False``):
   from then on every membership check of theirs asks the store, so nothing is
   authorised from a cache that may be stale; their block/mute checks (``cleared``)
   are forgotten too, as a lost ``recheck`` would have done;
2. each affected user's conversations are re-read from the store (a few users at a
   time), the difference applied (unsubscribed / subscribed) and announced to the
   user as ``conv_event`` ``left`` / ``joined`` — the events the gap swallowed;
3. then the cache is trusted again.

A control event that arrives while a user's conversations are being read may be newer
than what was read, so the read is repeated until none arrived in between (bounded).

The fan-out hot path is untouched: deliveries never read the store, only the checks of
untrusted connections do, and only until their repair is done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Literal

from parley.proto import encode, frames
from parley.server.channels import conv_channel
from parley.server.errors import ServiceError
from parley.server.gateway.connection import Connection
from parley.server.gateway.hub import Hub
from parley.server.services import Services

__all__ = ["MembershipRepair"]

log = logging.getLogger("parley.membership")

#: Users repaired concurrently (each is one store read, more when memberships changed).
CONCURRENCY = 16
#: Store reads per user before a snapshot is applied even though control events keep
#: arriving (the checks stay on the store until it is applied, so this bounds work only).
ATTEMPTS = 3


class MembershipRepair:
    """Re-reads local connections' memberships from the store (see the module doc)."""

    def __init__(self, hub: Hub, services: Services) -> None:
        self._hub = hub
        self._s = services
        self._pending: set[tuple[str, str]] = set()
        self._task: asyncio.Task[None] | None = None
        #: Users repaired since start (for tests and logs).
        self.repaired = 0

    def suspend(self) -> None:
        """The subscription is lost: trust no cached membership (of connections registered
        meanwhile either) until it is back and :meth:`all_users` has repaired them."""
        self._hub.trust_convs = False
        for conn in self._hub.connections:
            conn.convs_trusted = False

    def all_users(self) -> None:
        """This node may have missed anything (its subscription was interrupted)."""
        self._hub.trust_convs = True
        self.users(list({(c.app, c.user) for c in self._hub.connections}))

    def users(self, keys: Iterable[tuple[str, str]]) -> None:
        """Distrust these users' cached memberships now and repair them in the background."""
        for key in keys:
            devices = self._hub.devices(*key)
            if not devices:
                continue
            for conn in devices:
                conn.convs_trusted = False
                conn.cleared = set()  # a lost ``recheck`` (block, mute) is redone the same way
            self._pending.add(key)
        if self._pending and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            while self._pending:
                batch = [self._pending.pop() for _ in range(min(CONCURRENCY, len(self._pending)))]
                await asyncio.gather(*(self._repair(app, user) for app, user in batch))
        finally:
            self._task = None

    async def _repair(self, app: str, user: str) -> None:
        try:
            await self._reload(app, user)
        except Exception:
            # The connections stay untrusted (checked against the store), which is safe;
            # a later gap or sync retries.
            log.warning("membership repair of %s/%s failed", app, user, exc_info=True)

    async def _reload(self, app: str, user: str) -> None:
        key = (app, user)
        for _ in range(ATTEMPTS):
            seen = self._hub.control_seen.get(key, 0)
            rows = await self._s.conversations.memberships(app, user)
            if self._hub.control_seen.get(key, 0) == seen:
                break
        current = {conversation.conv for conversation, _ in rows}
        events: dict[tuple[str, str], bytes] = {}
        for conn in list(self._hub.devices(app, user)):
            await self._apply(conn, current, events)
            conn.convs_trusted = self._hub.trust_convs  # stays untrusted if the subscription dropped again
        self.repaired += 1

    async def _apply(self, conn: Connection, current: set[str], events: dict[tuple[str, str], bytes]) -> None:
        for conv in conn.convs - current:
            conn.convs.discard(conv)
            conn.cleared.discard(conv)
            self._hub.detach(conn, [conv_channel(conn.app, conv)])
            conn.push(await self._event(conn.app, conv, "left", events))
        for conv in current - conn.convs:
            await self._hub.join(conn, conv)
            conn.push(await self._event(conn.app, conv, "joined", events))

    async def _event(
        self, app: str, conv: str, event: Literal["joined", "left"], cache: dict[tuple[str, str], bytes]
    ) -> bytes:
        """The ``conv_event`` the lost control event carried (encoded once per user)."""
        found = cache.get((conv, event))
        if found is None:
            try:
                info = (await self._s.conversations.view(app, conv)).event_info()
            except ServiceError:  # the conversation is gone
                info = frames.ConvInfo(conv=conv, kind="")
            found = cache[(conv, event)] = encode(frames.ConvEvent(event=event, conv=info))
        return found
