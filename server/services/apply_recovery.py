"""The recovery of event application: stored events still pending after a grace period are
applied again, on any node.

A ``track`` or ingest is answered once its events are stored (*pending*); the
:class:`~parley.server.services.applier.ProfileApplier` of the node that took them applies them
in the background and marks them applied. If that node crashed (or its profile change failed)
they stay pending. Every node runs :meth:`ApplyRecovery.loop`: at start and every ``interval``
seconds it takes, per app, the app's ``apply`` lease (``lease_pass``: one node at a time per
app) and re-queues on its own applier the events received more than ``grace`` ago and still
pending, oldest first, a page at a time, waiting until each page was applied.

Why this is exact: the profile change names its events and the store makes it at most once per
event (``ProfileChange.events``): an event whose change was made before the crash, but not yet
marked, is refused by its profile and only marked now; a node that was slow rather than dead
and applies the same events meanwhile loses the race the same way. The MongoDB window is
stated in :mod:`.applier`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from parley.server.events_port import EventLog
from parley.server.ids import new_id, now_ms
from parley.server.services.app_passes import each_app
from parley.server.services.applier import ProfileApplier
from parley.server.store_ports import Directory

__all__ = ["PAGE", "ApplyRecovery", "RecoveryStore"]

log = logging.getLogger("parley.events")

#: Pending events re-queued per step (then applied before the next page is read).
PAGE = 1000
#: Pages per app and pass: a bound on one pass (the rest waits for the next interval).
_PAGES_MAX = 50


class RecoveryStore(EventLog, Directory, Protocol):
    """The roles the recovery uses: the event log (pending events, leases) and the app list."""


class ApplyRecovery:
    """Re-applies events left pending (see the module docstring)."""

    def __init__(self, store: RecoveryStore, applier: ProfileApplier) -> None:
        self._store = store
        self._applier = applier
        #: This node's name as a lease owner (a restarted node is a new owner).
        self._owner = new_id("apply")
        #: Events re-queued by this node (observability and tests).
        self.recovered = 0

    async def run(self, app: str, now: int, *, grace_ms: int) -> int:
        """Apply ``app``'s events received before ``now - grace_ms`` and still pending; returns
        how many were re-queued. Stops at a page that made no progress (its events could not
        be applied now: the next pass tries again)."""
        total = 0
        for _ in range(_PAGES_MAX):
            page = await self._store.pending_events(app, before=now - grace_ms, limit=PAGE)
            if not page:
                break
            before = self._applier.applied
            await self._applier.submit(page)
            await self._applier.flush()
            total += len(page)
            if len(page) < PAGE or self._applier.applied == before:
                break
        self.recovered += total
        if total:
            log.warning(
                "app %s: applied %d events left pending (a node stopped before applying them)", app, total
            )
        return total

    async def run_leased(self, app: str, now: int, *, grace_ms: int, lease_ms: int) -> int | None:
        """:meth:`run` if this node takes or renews the app's ``apply`` lease; None when another
        node holds it."""
        if not await self._store.lease_pass(app, "apply", owner=self._owner, now=now, lease_ms=lease_ms):
            return None
        return await self.run(app, now, grace_ms=grace_ms)

    async def loop(self, interval: float) -> None:
        """Run over every app at once, then every ``interval`` seconds, until cancelled; the
        grace and the lease are one interval. A failing app is logged and skipped."""
        period = max(1, int(interval * 1000))
        while True:
            await each_app(
                self._store.list_apps,
                lambda app: self.run_leased(app, now_ms(), grace_ms=period, lease_ms=period),
                "apply recovery",
                log,
            )
            await asyncio.sleep(interval)
