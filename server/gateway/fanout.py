"""The gateway's side of the one fan-out interface (:class:`parley.server.services.messages.FanOut`).

The message service hands each stored message's encoded ``msg`` frame here; this
publishes it on the broker and keeps the two gateway concerns of the send path
out of the services:

* **echo suppression** (:mod:`parley.server.gateway.echo`): the local connection a
  message came from is noted by mid when it is queued, and by the published bytes
  just before publishing, so the hub skips that connection when the bytes come back;
* **hot-path counters**: batch sizes and messages persisted (``LoopCounter``, a plain
  int, no lock per message).

Cost on the send path: the same dictionary operations and broker call as when the
service did them itself, one method call deeper; no await, task or copy.
"""

from __future__ import annotations

from collections.abc import Sequence

from parley.server.gateway.echo import EchoFilter
from parley.server.metrics import Metrics
from parley.server.models import Appended
from parley.server.ports import Broker

__all__ = ["GatewayFanOut"]


class GatewayFanOut:
    """Publishes stored messages for one node, noting their origin and counting them."""

    __slots__ = ("_broker", "_echoes", "_metrics", "_origins")

    def __init__(self, broker: Broker, metrics: Metrics, echoes: EchoFilter) -> None:
        self._broker = broker
        self._metrics = metrics
        #: Published bytes → sending connection; the hub takes from it (shared with the hub).
        self._echoes = echoes
        #: mid → sending connection, for messages queued but not stored yet (bounded: a batch
        #: that fails leaves its entries, and the oldest go first).
        self._origins = EchoFilter()

    def expect(self, mid: str, origin: object) -> None:
        """The message ``mid`` was queued by the local connection ``origin``."""
        self._origins.expect(mid, origin)

    def publish(self, channel: str, data: bytes, mid: str) -> None:
        """Publish the stored message ``mid``'s frame; its sending connection will not get it back."""
        origin = self._origins.take(mid)
        if origin is not None:
            self._echoes.expect(data, origin)
        self._broker.publish(channel, data)

    def stored(self, results: Sequence[Appended]) -> None:
        """Count the batch. A duplicate is not published: the entry of the mid it resolved to is
        dropped now (the resubmission's own entry ages out with the bound, as before)."""
        persisted = 0
        for result in results:
            if result.duplicate:
                self._origins.take(result.message.mid)
            else:
                persisted += 1
        self._metrics.append_batch.observe(len(results))
        self._metrics.persisted.inc(persisted)
