"""Port wrappers that time every async call of a store or broker (composition, not inheritance)."""

from __future__ import annotations

import inspect
from typing import Any

from prometheus_client import Histogram

from parley.server.metrics import timed

__all__ = ["Instrumented"]


class Instrumented:
    """Delegates to ``target``; coroutine methods are timed into ``histogram`` by method name."""

    def __init__(self, target: Any, histogram: Histogram) -> None:
        self._target = target
        for name, member in inspect.getmembers(type(target)):
            if name.startswith("_") or not inspect.iscoroutinefunction(member):
                continue
            setattr(self, name, timed(histogram, name, getattr(target, name)))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._target, name)
