"""The one interface between the send path and delivery: where a stored message goes out.

The message service encodes each stored message's ``msg`` frame once and hands it to a
:class:`FanOut`. The gateway's (``gateway/fanout.py``) publishes it, skips the sending
connection when the bytes come back (echo suppression) and counts batches; the
services know nothing of connections or metrics — ``origin`` is an opaque token
they pass along. Without a gateway (the admin API alone, unit tests)
:class:`BrokerFanOut` just publishes.

Every method runs on the send path: it must not await, start a task or copy the bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from parley.server.models import Appended
from parley.server.ports import Broker

__all__ = ["BrokerFanOut", "FanOut"]


class FanOut(Protocol):
    """Where stored messages are published (see the module doc)."""

    def expect(self, mid: str, origin: object) -> None:
        """The message ``mid`` was queued on behalf of ``origin`` (the caller's opaque token)."""

    def stored(self, results: Sequence[Appended]) -> None:
        """A batch was stored (duplicates included, which are not published)."""

    def publish(self, channel: str, data: bytes, mid: str) -> None:
        """Publish the stored message ``mid``'s encoded frame on ``channel`` (at most once)."""


class BrokerFanOut:
    """Publishes on the broker; no origins, no counters."""

    __slots__ = ("_broker",)

    def __init__(self, broker: Broker) -> None:
        self._broker = broker

    def expect(self, mid: str, origin: object) -> None:
        """Nothing to skip: no local connections here."""

    def stored(self, results: Sequence[Appended]) -> None:
        """Nothing to count."""

    def publish(self, channel: str, data: bytes, mid: str) -> None:
        """Publish ``data`` as is."""
        self._broker.publish(channel, data)
