"""Prometheus metrics of one node, in a registry of its own (two nodes may share a process)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from functools import wraps
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from parley.server.gateway.outbound import OutboundLedger

__all__ = ["LoopCounter", "Metrics", "timed"]

T = TypeVar("T")

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _LoopChild:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0

    def inc(self, amount: int = 1) -> None:
        self.value += amount


class LoopCounter(Collector):
    """A counter for the event-loop thread: plain ints, read when ``/metrics`` is scraped.

    prometheus_client's ``Counter`` takes a lock on every ``inc()``; the send path counts
    several times per message (frames in and out, deliveries, persisted), and those locks
    were ~3 % of a saturated node's CPU. Same ``labels(...).inc(n)`` use; one thread only.
    """

    def __init__(
        self, name: str, documentation: str, labelnames: tuple[str, ...] = (), *, registry: CollectorRegistry
    ) -> None:
        self._name = name
        self._documentation = documentation
        self._labelnames = labelnames
        self._children: dict[tuple[str, ...], _LoopChild] = {}
        self._unlabelled = _LoopChild()
        registry.register(self)

    def labels(self, *values: str) -> _LoopChild:
        """The child counter for these label values, created at 0 on first use (then the same object)."""
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = _LoopChild()
        return child

    def inc(self, amount: int = 1) -> None:
        """Add ``amount`` to the unlabelled value (a counter without label names)."""
        self._unlabelled.value += amount

    def collect(self) -> Iterator[Metric]:
        """One counter family with the current values, for the registry's scrape.

        Reads the plain ints without a lock: correct because the scrape (``Metrics.render`` from
        the ``/metrics`` handler) runs on the event-loop thread that does every ``inc``.
        """
        family = CounterMetricFamily(self._name, self._documentation, labels=self._labelnames)
        if self._labelnames:
            for values, child in list(self._children.items()):
                family.add_metric(list(values), child.value)
        else:
            family.add_metric([], self._unlabelled.value)
        yield family


class Metrics:
    """The Prometheus metrics of one node, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.connections = Gauge("parley_connections", "Authenticated connections on this node", registry=r)
        self.pending = Gauge(
            "parley_connections_pending", "Connections that have not sent hello yet", registry=r
        )
        self.frames_in = LoopCounter("parley_frames_in", "Frames received, by type", ("type",), registry=r)
        self.frames_out = LoopCounter(
            "parley_frames_out", "Frames queued to sockets, by type", ("type",), registry=r
        )
        self.persisted = LoopCounter("parley_messages_persisted", "Messages stored by this node", registry=r)
        self.deliveries = LoopCounter(
            "parley_fanout_deliveries", "Frames pushed to local connections by fan-out", registry=r
        )
        self.slow_consumers = Counter(
            "parley_slow_consumer_closes_total",
            "Connections closed because their queue overflowed",
            registry=r,
        )
        self.rate_limited = Counter(
            "parley_rate_limited_total", "Frames refused by rate limits", ["scope"], registry=r
        )
        self.errors = Counter("parley_error_frames_total", "Error frames sent, by code", ["code"], registry=r)
        self.store_latency = Histogram(
            "parley_store_seconds", "Store call latency", ["op"], buckets=_LATENCY_BUCKETS, registry=r
        )
        self.broker_latency = Histogram(
            "parley_broker_seconds", "Broker call latency", ["op"], buckets=_LATENCY_BUCKETS, registry=r
        )
        self.append_batch = Histogram(
            "parley_append_batch_size",
            "Messages per store append (group commit)",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
            registry=r,
        )
        self.send_to_deliver = Histogram(
            "parley_send_to_deliver_seconds",
            "Time from a message being accepted to its fan-out on a node (sampled 1 in 8)",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def watch_outbound(self, ledger: OutboundLedger) -> None:
        """Expose what the outbound queues hold (read at scrape time from ``ledger``)."""
        r = self.registry
        gauges = {
            "parley_outbound_queued_bytes": (
                "Bytes in outbound queues, summed per connection",
                "queued_bytes",
            ),
            "parley_outbound_held_bytes": ("Bytes of the distinct frames in outbound queues", "held_bytes"),
            "parley_outbound_queued_bytes_peak": (
                "Peak of parley_outbound_queued_bytes",
                "peak_queued_bytes",
            ),
            "parley_outbound_held_bytes_peak": ("Peak of parley_outbound_held_bytes", "peak_held_bytes"),
        }
        for name, (doc, attr) in gauges.items():
            Gauge(name, doc, registry=r).set_function(_reader(ledger, attr))
        Gauge(
            "parley_outbound_shared_frames",
            "Frames queued while another queue already held the same bytes (fan-out sharing)",
            registry=r,
        ).set_function(lambda: float(ledger.shared_frames))

    def render(self) -> bytes:
        """Every metric of this node in the Prometheus text exposition format (the ``/metrics`` body)."""
        return generate_latest(self.registry)


def _reader(source: object, attr: str) -> Callable[[], float]:
    """A gauge function reading ``source.attr`` at scrape time."""
    return lambda: float(getattr(source, attr))


def timed(histogram: Histogram, op: str, call: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Wrap an async callable so each call is observed in ``histogram{op=...}``."""
    child = histogram.labels(op)

    @wraps(call)
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        start = time.perf_counter()
        try:
            return await call(*args, **kwargs)
        finally:
            child.observe(time.perf_counter() - start)

    return wrapper
