"""Sends that the server has not acknowledged yet.

An entry lives from ``send()`` until its ``ack`` (or a fatal error, or the
caller's deadline). If the connection drops in between, the client resends
every entry on the next connection, in the order they were first sent, with
the SAME ``cmid``: the server stores a message once per ``(conv, sender,
cmid)`` and answers a resend with the original ack (``dup=True``), so a send
survives reconnects and is stored exactly once.

Pure bookkeeping over futures: the client drives the transmissions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from parley.proto import frames as f
from parley.sdk.errors import ReplyError

__all__ = ["Outbox", "OutboxEntry"]


@dataclass(slots=True, eq=False)
class OutboxEntry:
    """One unacknowledged send."""

    conv: str
    cmid: str
    kind: str
    body: dict[str, Any]
    mentions: list[str] = field(default_factory=list)
    #: Id of the latest transmission, ``None`` while not on the wire.
    request_id: int | None = None
    #: True while ``send()`` waits out a backoff after a temporary error (not resent meanwhile).
    backing_off: bool = False
    #: Completes with the ack, or a :class:`ReplyError`; re-armed for a retry.
    waiter: asyncio.Future[f.Ack] | None = None

    def frame(self, request_id: int) -> f.Send:
        """The ``send`` frame for one transmission."""
        return f.Send(
            id=request_id,
            conv=self.conv,
            cmid=self.cmid,
            body=self.body,
            kind=self.kind,  # type: ignore[arg-type]
            mentions=list(self.mentions),
        )

    def arm(self) -> asyncio.Future[f.Ack]:
        """A fresh waiter for the next attempt."""
        self.waiter = asyncio.get_running_loop().create_future()
        self.backing_off = False
        return self.waiter


class Outbox:
    """Unacked sends in first-send order, indexed by cmid and by request id."""

    def __init__(self) -> None:
        self._entries: dict[str, OutboxEntry] = {}
        self._by_request: dict[int, OutboxEntry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, cmid: object) -> bool:
        return cmid in self._entries

    def add(
        self, conv: str, cmid: str, kind: str, body: dict[str, Any], mentions: list[str] | None = None
    ) -> OutboxEntry:
        """Queue a send. A cmid may be pending only once."""
        if cmid in self._entries:
            raise ValueError(f"a send with cmid {cmid!r} is already pending")
        entry = OutboxEntry(conv, cmid, kind, body, list(mentions or []))
        self._entries[cmid] = entry
        return entry

    def transmitted(self, entry: OutboxEntry, request_id: int) -> None:
        """Record that ``entry`` went out as request ``request_id``."""
        if entry.request_id is not None:
            self._by_request.pop(entry.request_id, None)
        entry.request_id = request_id
        self._by_request[request_id] = entry

    def owns(self, request_id: int | None) -> bool:
        """Whether ``request_id`` is a transmission of a pending send."""
        return request_id in self._by_request

    def resolve_ack(self, ack: f.Ack) -> OutboxEntry | None:
        """Complete the send ``ack`` answers (matched by cmid): that send, or None if unknown."""
        entry = self._entries.get(ack.cmid)
        if entry is None or entry.conv != ack.conv:
            entry = self._by_request.get(ack.id)
        if entry is None:
            return None
        self._detach(entry)
        if entry.waiter is not None and not entry.waiter.done():
            entry.waiter.set_result(ack)
        return entry

    def resolve_error(self, error: f.Error) -> bool:
        """Fail the attempt ``error`` answers (matched by request id); False if unknown."""
        entry = self._by_request.get(error.id) if error.id is not None else None
        if entry is None:
            return False
        self._detach(entry)
        if entry.waiter is not None and not entry.waiter.done():
            entry.waiter.set_exception(ReplyError(error.code, error.message, error.action))
        return True

    def remove(self, entry: OutboxEntry) -> None:
        """Drop ``entry`` (acked, failed for good, or abandoned by its caller)."""
        self._detach(entry)
        if self._entries.get(entry.cmid) is entry:
            del self._entries[entry.cmid]

    def connection_lost(self) -> None:
        """Mark every entry as off the wire; they stay pending for the next connection."""
        for entry in self._by_request.values():
            entry.request_id = None
        self._by_request.clear()

    def fail_all(self, exc: BaseException) -> None:
        """Fail every waiting send with ``exc`` (the client is closing)."""
        for entry in self._entries.values():
            if entry.waiter is not None and not entry.waiter.done():
                entry.waiter.set_exception(exc)

    def resendable(self) -> list[OutboxEntry]:
        """Entries to (re)send on a fresh connection, in first-send order."""
        return [
            e
            for e in self._entries.values()
            if not e.backing_off and e.request_id is None and e.waiter is not None and not e.waiter.done()
        ]

    def _detach(self, entry: OutboxEntry) -> None:
        if entry.request_id is not None and self._by_request.get(entry.request_id) is entry:
            del self._by_request[entry.request_id]
        entry.request_id = None
