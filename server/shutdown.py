"""Shutdown steps that always end: a node must stop even when its store or broker is gone.

Two hazards make a plain ``task.cancel(); await task`` or ``await drain()`` unsafe at shutdown:
a step that waits on an unreachable server (each retry bounded, the sum not), and a cancellation
that is swallowed — on Python 3.11 ``asyncio.wait_for`` returns the inner result instead of
raising ``CancelledError`` when both happen in the same loop turn (CPython gh-86296), so a
``while True`` loop around such a call survives one ``cancel()``. These helpers bound every step
and re-deliver the cancellation until the task really ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable

__all__ = ["bounded", "stop_task"]

log = logging.getLogger("parley.node")

#: How often a cancelled task that is still running is cancelled again.
RECANCEL_INTERVAL = 0.2


async def stop_task(task: asyncio.Task[object] | None, what: str, timeout: float = 5.0) -> bool:
    """Cancel ``task`` and wait until it ends, cancelling it again while it keeps running,
    for at most ``timeout`` seconds. True when it ended; False (logged) when it did not."""
    if task is None:
        return True
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not task.done():
        task.cancel()
        remaining = deadline - loop.time()
        if remaining <= 0:
            log.warning("shutdown: %s did not stop within %.1f s; left behind", what, timeout)
            return False
        await asyncio.wait({task}, timeout=min(RECANCEL_INTERVAL, remaining))
    if not task.cancelled() and task.exception() is not None:
        log.warning("shutdown: %s had failed: %r", what, task.exception())
    return True


async def bounded(step: Awaitable[object], what: str, timeout: float = 5.0) -> bool:
    """Run one shutdown ``step`` for at most ``timeout`` seconds (then stop it with
    :func:`stop_task`). True when it finished in time; a failure is logged, never raised,
    so the steps after it (closing the store and the broker) still run."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        log.warning("shutdown: %s took longer than %.1f s; abandoned", what, timeout)
        await stop_task(task, what, timeout=1.0)
        return False
    if task.cancelled():
        return False
    if task.exception() is not None:
        log.warning("shutdown: %s failed: %r", what, task.exception())
        return False
    return True
