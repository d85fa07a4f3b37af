"""Broker adapters behind :class:`parley.server.ports.Broker`.

``memory`` (one process, the single-node default) and ``redis`` (many nodes).
"""

from __future__ import annotations

from parley.server.broker.memory import MemoryBroker, MemoryHub
from parley.server.ports import Broker

__all__ = ["MemoryBroker", "MemoryHub", "make_broker"]


def make_broker(redis_url: str | None) -> Broker:
    """A :class:`RedisBroker` for ``redis_url``, or an in-process broker when it is None."""
    if redis_url is None:
        return MemoryBroker()
    # Imported here so a single-node install never imports redis-py.
    from parley.server.broker.redis import RedisBroker

    return RedisBroker(redis_url)
