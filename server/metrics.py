"""Prometheus metrics of one node, in a registry of its own (two nodes may share a process)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

__all__ = ["Metrics", "timed"]

T = TypeVar("T")

_LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.connections = Gauge("parley_connections", "Authenticated connections on this node", registry=r)
        self.pending = Gauge(
            "parley_connections_pending", "Connections that have not sent hello yet", registry=r
        )
        self.frames_in = Counter("parley_frames_in_total", "Frames received, by type", ["type"], registry=r)
        self.frames_out = Counter(
            "parley_frames_out_total", "Frames queued to sockets, by type", ["type"], registry=r
        )
        self.persisted = Counter(
            "parley_messages_persisted_total", "Messages stored by this node", registry=r
        )
        self.deliveries = Counter(
            "parley_fanout_deliveries_total", "Frames pushed to local connections by fan-out", registry=r
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

    def render(self) -> bytes:
        return generate_latest(self.registry)


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
