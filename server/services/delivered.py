"""The ``delivered`` count of marketing messages: which recipients had a campaign message on a device.

**Definition.** A recipient counts as *delivered* for a touch source (``campaign:<id>``, one row
per recipient, :class:`~parley.server.services.measurement.Measurement` kind ``delivered``) once a
message of that source from the app's official account was

1. handed to one of the recipient's live connections when it was fanned out — accepted into that
   connection's outbound queue by a node's hub (:meth:`DeliveredCounter.pushed`; the socket writer
   sends it next: a connection that dies in between is the one case counted but never shown), or
2. returned to the recipient later by a ``sync`` or a ``history`` page
   (:meth:`DeliveredCounter.returned`), or
3. read, clicked or replied to (:meth:`Measurement.record` counts ``delivered`` first: each of
   these implies the recipient had it).

The protocol has no per-device acknowledgement, so "delivered" means "on its way to a device of
theirs over a live connection", never "displayed".

**Cost.** The hub looks for :data:`~parley.proto.campaign.MARKER_BYTES` in each fanned-out frame
(a byte search, no decode); only a frame carrying them is decoded, and only a brand's campaign
message costs a store write — once per recipient and source (a claim in the delivery ledger;
this node remembers the recent ones so a re-sync costs nothing). A chat message costs no write
and no decode unless its encoding contains those bytes.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import msgspec

from parley.proto import frames
from parley.proto.campaign import MARKER_BYTES, CampaignMarker, read_marker
from parley.server.ids import now_ms
from parley.server.models import StoredMessage
from parley.server.services.measurement import Measurement, touch_source
from parley.server.shutdown import bounded, stop_task

__all__ = ["DeliveredCounter"]

log = logging.getLogger("parley.marketing")

_msg_decoder = msgspec.msgpack.Decoder(frames.Msg)


class _Officials(Protocol):
    async def official_user(self, app: str) -> str: ...


class _Pids(Protocol):
    async def pid_for_user(self, app: str, user: str) -> str: ...


class DeliveredCounter:
    """Counts ``delivered`` from the hub's pushes and from sync/history replies (module docstring)."""

    def __init__(
        self, measure: Measurement, pids: _Pids, officials: _Officials, *, cache: int = 100_000
    ) -> None:
        self._measure = measure
        self._pids = pids
        self._officials = officials
        #: (app, source, user) recently counted (or being counted) here: a re-sync costs nothing.
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._cache = cache
        self._tasks: set[asyncio.Task[None]] = set()
        #: Frames decoded because they held the marker bytes; recipients handed to the ledger.
        self.decoded = 0
        self.counted = 0

    def pushed(self, data: bytes, users: Sequence[tuple[str, str]]) -> None:
        """The hub accepted frame ``data`` into live connections of ``users`` (``(app, user)``)."""
        if not users or MARKER_BYTES not in data:
            return
        self.decoded += 1
        try:
            m = _msg_decoder.decode(data).m
        except (msgspec.DecodeError, msgspec.ValidationError):
            return  # another frame type that happens to hold the bytes
        marker = read_marker(m.body)
        if marker is None:
            return
        now = now_ms()
        for app, user in users:
            self._note(app, user, m.sender, marker, m.mid, now)

    def returned(self, app: str, reader: str, messages: Sequence[StoredMessage]) -> None:
        """A sync or history page gave ``messages`` to ``reader``."""
        now = 0
        for m in messages:
            if m.sender == reader or "campaign" not in m.body:
                continue
            marker = read_marker(m.body)
            if marker is not None:
                now = now or now_ms()
                self._note(app, reader, m.sender, marker, m.mid, now)

    def _note(self, app: str, user: str, sender: str, marker: CampaignMarker, mid: str, now: int) -> None:
        if user == sender:
            return
        key = (app, touch_source(marker.id, marker.variant), user)
        if key in self._seen:
            self._seen.move_to_end(key)
            return
        self._seen[key] = None
        if len(self._seen) > self._cache:
            self._seen.popitem(last=False)
        task = asyncio.get_running_loop().create_task(self._count(key, sender, marker.variant, mid, now))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _count(self, key: tuple[str, str, str], sender: str, arm: str, mid: str, now: int) -> None:
        app, source, user = key
        try:
            if sender != await self._officials.official_user(app):
                self._seen.pop(key, None)  # a customer's look-alike body: not a marketing message
                return
            pid = await self._pids.pid_for_user(app, user)
            self.counted += 1
            await self._measure.record(app, source, pid, "delivered", arm=arm, evidence=mid, now=now)
        except Exception:  # a lost count is logged, never the chat's failure; a later sync retries it
            self._seen.pop(key, None)
            log.exception("delivery of %s to %s could not be counted", source, user)

    async def drain(self) -> None:
        """Wait for the counts in flight (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self, timeout: float = 5.0) -> None:
        """Shutdown: let the counts in flight finish for at most ``timeout`` s, then stop them (even with
        the store gone; a count stopped so is lost unless the recipient syncs or reads it later)."""
        if not await bounded(self.drain(), "counting deliveries", timeout):
            for task in list(self._tasks):
                await stop_task(task, "counting a delivery", timeout=0.2)
