"""Catching up with ``sync``: the rounds that fill a session's missed messages.

One :meth:`CatchUp.run` sends ``sync`` pages until every conversation asked for
is complete: each ``synced`` page is merged through
:class:`~parley.sdk.streams.Streams`, resets are published as
:class:`~parley.sdk.events.ResetEvent`, and messages now in order are delivered.
A conversation whose gap the server does not fill in :data:`MAX_FRUITLESS`
rounds is given up on (its held messages are delivered past the gap), and the
whole catch-up is bounded by :data:`MAX_SYNC_ROUNDS`, so a confused server can
never keep a client syncing forever.

Gaps noticed while the session is live are collected by :meth:`CatchUp.want` and
filled by one background worker at a time; a gap noticed while the session is
down waits for the resume, which syncs everything.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.asyncio.client import ClientConnection

from parley.proto import frames as f
from parley.sdk.dispatch import EventHub
from parley.sdk.errors import ConnectionClosed, ReplyError, RequestTimeout
from parley.sdk.events import ResetEvent
from parley.sdk.requests import Reply
from parley.sdk.streams import Streams

__all__ = ["MAX_FRUITLESS", "MAX_SYNC_ROUNDS", "CatchUp", "RequestOn"]

log = logging.getLogger("parley.sdk")

#: Most sync rounds one catch-up sends before it stops.
MAX_SYNC_ROUNDS = 1000
#: Rounds in a row a conversation's position may stay put before its gap is skipped.
MAX_FRUITLESS = 3

#: Sends one request on a WebSocket and returns its reply (the connection's ``request_on``).
RequestOn = Callable[[ClientConnection, Callable[[int], Any], "float | None"], Awaitable[Reply]]


class CatchUp:
    """Runs sync rounds for a session and hands what they bring to the streams and the app."""

    def __init__(
        self,
        *,
        streams: Streams,
        hub: EventHub,
        deliver: Callable[[list[f.Message]], None],
        request_on: RequestOn,
        timeout: Callable[[], float],
        live: Callable[[], ClientConnection | None],
    ) -> None:
        self._streams = streams
        self._hub = hub
        self._deliver = deliver
        self._request_on = request_on
        self._timeout = timeout
        self._live = live
        self._wanted: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    def want(self, conv: str) -> None:
        """Sync ``conv`` to fill a gap: now if the session is live, else in the next resume."""
        self._wanted.add(conv)
        ws = self._live()
        if ws is None:
            return  # the resume after reconnect syncs everything
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._worker(ws))

    def want_if_still_held(self, conv: str, grace: float) -> None:
        """After ``grace`` seconds, sync ``conv`` if messages there still wait behind a gap."""

        def check() -> None:
            if self._streams.held(conv):
                self.want(conv)

        asyncio.get_running_loop().call_later(grace, check)

    def forget_wanted(self) -> None:
        """Drop the gaps collected so far (a resume is about to sync everything)."""
        self._wanted.clear()

    def cancel(self) -> None:
        """Stop the background worker, if one runs (the session is closing for good)."""
        if self._task is not None:
            self._task.cancel()

    async def _worker(self, ws: ClientConnection) -> None:
        while self._wanted:
            convs, self._wanted = self._wanted, set()
            try:
                await self.run(ws, convs)
            except (ConnectionClosed, RequestTimeout, ReplyError) as exc:
                log.info("parley: gap sync failed: %r", exc)
                return

    async def run(self, ws: ClientConnection, convs: set[str] | None) -> None:
        """Sync ``convs`` (all known when None) on ``ws`` until no conversation needs more."""
        streams = self._streams
        fruitless: dict[str, int] = {}
        for _ in range(MAX_SYNC_ROUNDS):
            positions = streams.positions(convs)
            if convs is not None and not positions:
                return
            before = {p.conv: p.seq for p in positions}
            again: set[str] = set()
            after = ""
            while True:  # one page of conversations per reply (``next``: where the next starts)
                build = functools.partial(_sync_frame, [p for p in positions if p.conv > after], after)
                synced = await self._request_on(ws, build, self._timeout())
                assert isinstance(synced, f.Synced)
                outcome = streams.on_synced(synced, before)
                for state in outcome.resets:
                    self._hub.publish(ResetEvent(state.conv, state.last_seq, state.epoch))
                self._deliver(outcome.deliver)
                again |= outcome.again
                if not synced.next or synced.next <= after:
                    break
                after = synced.next
            outcome.again = again
            streams.baseline = True
            for conv in list(outcome.again):
                if conv in before and streams.position(conv) == before[conv]:
                    fruitless[conv] = fruitless.get(conv, 0) + 1
                    if fruitless[conv] >= MAX_FRUITLESS:
                        log.warning("parley: giving up on a gap in %s the server did not fill", conv)
                        self._deliver(streams.skip_gap(conv))
                        outcome.again.discard(conv)
            if not outcome.again:
                return
            convs = outcome.again


def _sync_frame(positions: list[f.Position], after: str, rid: int) -> f.Sync:
    return f.Sync(id=rid, positions=positions, after=after)
