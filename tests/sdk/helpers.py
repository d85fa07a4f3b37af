"""Small helpers for SDK tests: wait for events with a bound, never with timing assertions."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from parley.sdk import EventStream

E = TypeVar("E")


async def take(stream: EventStream[E], n: int, timeout: float = 5.0) -> list[E]:
    """The next ``n`` events of ``stream``."""
    out: list[E] = []
    async with asyncio.timeout(timeout):
        async for event in stream:
            out.append(event)
            if len(out) == n:
                break
    return out


async def first(stream: EventStream[E], pred: Callable[[E], bool], timeout: float = 5.0) -> E:
    """The first event of ``stream`` matching ``pred``."""
    async with asyncio.timeout(timeout):
        async for event in stream:
            if pred(event):
                return event
    raise AssertionError("stream ended")


async def until(cond: Callable[[], Any], timeout: float = 5.0) -> None:
    """Poll ``cond`` until it is truthy."""
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


def quiet(stream: EventStream[Any]) -> list[Any]:
    """Events already queued on ``stream`` (without waiting)."""
    inbox = stream._inbox
    items = list(inbox.items)
    inbox.items.clear()
    return items
