"""One active bot per app: a lease on the server decides which bot process answers.

Two bot processes may serve one app (a spare, or a restart overlapping the old process). Each
:class:`Standby` asks the admin API for the app's lease ``name`` (``PUT /v1/leases/{name}``,
docs/ADMIN_API.md "Leases"): the holder renews it every ``ttl_s / 3`` seconds and answers, the
others stand by — they follow every conversation (history, state) but neither answer nor write
the profile — and ask every ``standby_poll_s`` (1 s), so the first to ask after the holder gives
the lease back (a planned stop) or stops renewing (a crash: ``ttl_s`` later) takes over.

Why the holder can trust its lease: the server sets ``until`` to *its* now + ttl, and its now is
later than the moment this process sent the request, so the lease lasts at least until
``sent + ttl`` on this process's clock. :attr:`Standby.active` counts from there, less a
``margin`` for an answer already under way, and turns false on its own when renewals fail (the
server is unreachable): a process cut off from the server stops answering before another can
take over, so two never answer at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable

from parley.sdk import AdminClient

__all__ = ["Standby"]

log = logging.getLogger("parley.bots")


class Standby:
    """Hold (or wait for) the app's lease ``name`` for this process (see the module docstring).

    ``on_active`` is awaited each time this process becomes the holder (e.g. to answer what the
    previous holder left unanswered). ``clock`` is monotonic seconds.
    """

    def __init__(
        self,
        admin: AdminClient,
        *,
        name: str = "support-bot",
        holder: str = "",
        ttl_s: int = 15,
        margin_s: float = 2.0,
        standby_poll_s: float = 1.0,
        on_active: Callable[[], Awaitable[None]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_s < 3:
            raise ValueError("ttl_s must be at least 3 seconds")
        self.admin = admin
        self.name = name
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.ttl_s = ttl_s
        self.margin_s = min(margin_s, ttl_s / 3)
        self.standby_poll_s = min(standby_poll_s, ttl_s / 3)
        self.on_active = on_active
        self.clock = clock
        #: The current holder as last seen ("" before the first answer).
        self.seen_holder = ""
        self._valid_until = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def active(self) -> bool:
        """Whether this process holds the lease now (and may answer)."""
        return self.clock() < self._valid_until

    async def step(self) -> bool:
        """Ask for the lease once; True if this process holds it afterwards."""
        was = self.active
        sent = self.clock()
        lease = await self.admin.acquire_lease(self.name, self.holder, ttl_s=self.ttl_s)
        self.seen_holder = lease.holder
        if lease.held:
            self._valid_until = sent + self.ttl_s - self.margin_s
        else:
            self._valid_until = 0.0
        if lease.held and not was:
            log.info("parley bot: %s holds the lease %r: answering", self.holder, self.name)
            if self.on_active is not None:
                await self.on_active()
        elif not lease.held and was:
            log.warning("parley bot: lease %r taken by %s: standing by", self.name, lease.holder)
        return lease.held

    async def run(self) -> None:
        """Keep asking — every ``ttl_s / 3`` seconds as the holder, every ``standby_poll_s``
        standing by — until cancelled; a failed call is logged and retried (the lease, if held,
        simply runs out)."""
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("parley bot: lease %r: the admin API did not answer", self.name, exc_info=True)
            await asyncio.sleep(self.ttl_s / 3 if self.active else self.standby_poll_s)

    def start(self) -> None:
        """Run :meth:`run` in a background task."""
        self._task = asyncio.create_task(self.run(), name="parley-bot-lease")

    async def stop(self) -> None:
        """Stop asking and give the lease back, so a standby takes over at its next ask."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self.active:
            self._valid_until = 0.0
            try:
                await self.admin.release_lease(self.name, self.holder)
            except Exception:
                log.warning("parley bot: could not release the lease %r", self.name, exc_info=True)
