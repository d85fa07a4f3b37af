"""Echo suppression: a message is not pushed back to the connection that sent it.

That connection already has everything the ``msg`` frame would carry — its own
``send`` and the ``ack`` (seq, mid, ts) — and the SDK turns the ack into the
message event. Skipping the echo saves a frame per message on the sender's
socket. The sender's other devices, and everyone else, still get the ``msg``.

The gateway's fan-out (:mod:`parley.server.gateway.fanout`) records, just before it
publishes, which local connection a message came from; the hub looks the published bytes up when they come back from
the broker (they are unique: they carry the conversation and seq). A publish
that never comes back (the broker lost it) leaves an entry behind; entries are
bounded and the oldest go first. Skipping is an optimisation, not a guarantee:
clients drop an echo that does arrive as a duplicate by seq.
"""

from __future__ import annotations

from collections.abc import Hashable

__all__ = ["EchoFilter"]

#: Publishes awaiting their return from the broker, at most.
MAX_PENDING = 65_536


class EchoFilter:
    """Which local connection a message came from, bounded (the oldest entries go first).

    The hub's is keyed by the published bytes; the fan-out keeps one keyed by mid
    for messages submitted but not yet stored."""

    __slots__ = ("_origins",)

    def __init__(self) -> None:
        self._origins: dict[Hashable, object] = {}

    def expect(self, data: Hashable, origin: object) -> None:
        """``data`` is about to be published on behalf of the local connection ``origin``."""
        origins = self._origins
        origins[data] = origin
        if len(origins) > MAX_PENDING:
            del origins[next(iter(origins))]

    def take(self, data: Hashable) -> object | None:
        """The connection not to push ``data`` to, if it came from one of ours."""
        return self._origins.pop(data, None) if self._origins else None

    def __len__(self) -> int:
        return len(self._origins)
