"""Fan events out to consumers without ever awaiting them.

The read loop calls :meth:`EventHub.publish`, which only does ``put_nowait``
on per-consumer queues: a slow ``async for`` consumer or a slow handler delays
nobody but itself. Each handler registration runs in its own task and sees its
events in order; an exception in a handler is logged and does not stop it.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

from parley.sdk.errors import EventQueueOverflow
from parley.sdk.events import Event

__all__ = ["EventHub", "EventStream", "Handler"]

log = logging.getLogger("parley.sdk")

E = TypeVar("E")
E_co = TypeVar("E_co", covariant=True)

#: A callback for events: a plain function or a coroutine function.
Handler = Callable[[E], Awaitable[None] | None]

_CLOSED = object()


class _Inbox:
    """A consumer's queue: events, then possibly an end marker."""

    def __init__(self, types: tuple[type[Any], ...], maxsize: int) -> None:
        self.types = types
        self.maxsize = maxsize
        self.items: deque[object] = deque()
        self.overflowed = False
        self.closed = False
        self._waiter: asyncio.Future[None] | None = None

    def wants(self, event: object) -> bool:
        return not self.types or isinstance(event, self.types)

    def put(self, item: object) -> None:
        if self.closed or self.overflowed:
            return
        if self.maxsize and len(self.items) >= self.maxsize:
            self.overflowed = True
        else:
            self.items.append(item)
        self._wake()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._wake()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> object:
        """Next event; ``_CLOSED`` at the end; raises on overflow once drained."""
        while not self.items:
            if self.overflowed:
                raise EventQueueOverflow("event consumer fell behind; events were dropped")
            if self.closed:
                return _CLOSED
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self.items.popleft()


class EventStream(Generic[E_co]):
    """An async iterator of events for one consumer, subscribed from creation.

    Iteration ends when the client closes. Leaving an ``async for`` early is
    fine (the stream unsubscribes when dropped); ``async with`` or
    :meth:`aclose` unsubscribe deterministically.
    """

    def __init__(self, hub: EventHub, inbox: _Inbox) -> None:
        self._inbox = inbox
        self._finalizer = weakref.finalize(self, hub._unsubscribe, inbox)

    def __aiter__(self) -> EventStream[E_co]:
        return self

    async def __anext__(self) -> E_co:
        item = await self._inbox.get()
        if item is _CLOSED:
            self._finalizer()
            raise StopAsyncIteration
        return item  # type: ignore[return-value]

    async def aclose(self) -> None:
        """Stop receiving events."""
        self._inbox.close()
        self._finalizer()

    async def __aenter__(self) -> EventStream[E_co]:
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


class _HandlerRunner:
    """Runs one handler in its own task, one event at a time."""

    def __init__(self, types: tuple[type[Any], ...], handler: Handler[Any]) -> None:
        self.handler = handler
        self.inbox = _Inbox(types, 0)
        self.task: asyncio.Task[None] | None = None

    def put(self, item: object) -> None:
        self.inbox.put(item)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            event = await self.inbox.get()
            if event is _CLOSED:
                return
            try:
                result = self.handler(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:  # a handler's bug must not stop the others
                log.exception("event handler %r failed on %r", self.handler, event)


class EventHub:
    """The client's event fan-out: streams for ``events()`` and handler tasks for ``on()``.

    Events published while nobody listens at all (typically the catch-up of
    ``connect()`` inside ``async with Client(...)``, before the first
    ``events()`` call) are kept, up to ``backlog`` of them, and handed to the
    first consumer, so that no message is lost for want of a listener.
    """

    def __init__(self, backlog: int = 10_000) -> None:
        self._inboxes: list[_Inbox] = []
        self._runners: list[_HandlerRunner] = []
        self._closed = False
        self._backlog: deque[Event] | None = deque(maxlen=backlog)

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every interested consumer. Never blocks, never awaits."""
        if self._backlog is not None:
            self._backlog.append(event)
            return
        for inbox in self._inboxes:
            if inbox.wants(event):
                inbox.put(event)
        for runner in self._runners:
            if runner.inbox.wants(event):
                runner.put(event)

    def subscribe(self, types: tuple[type[Any], ...], maxsize: int = 0) -> EventStream[Any]:
        """A new stream of events of ``types`` (all when empty); bounded if ``maxsize``."""
        inbox = _Inbox(types, maxsize)
        self._inboxes.append(inbox)
        self._flush_backlog()
        if self._closed:
            self._unsubscribe(inbox)
        return EventStream(self, inbox)

    def _flush_backlog(self) -> None:
        backlog, self._backlog = self._backlog, None
        for event in backlog or ():
            self.publish(event)

    def _unsubscribe(self, inbox: _Inbox) -> None:
        inbox.close()
        if inbox in self._inboxes:
            self._inboxes.remove(inbox)

    def add_handler(self, types: tuple[type[Any], ...], handler: Handler[Any]) -> None:
        """Run ``handler`` for every event of ``types`` (all when empty)."""
        self._runners.append(_HandlerRunner(types, handler))
        self._flush_backlog()

    def remove_handler(self, handler: Handler[Any]) -> None:
        """Stop calling ``handler`` (events already queued for it are still delivered)."""
        for runner in [r for r in self._runners if r.handler == handler]:
            runner.inbox.close()
            self._runners.remove(runner)

    def close(self) -> None:
        """End every stream (after its queued events) and let handlers drain and stop."""
        self._closed = True
        for inbox in self._inboxes:
            inbox.close()
        for runner in self._runners:
            runner.inbox.close()
        self._inboxes.clear()

    async def wait_handlers(self, grace: float) -> None:
        """Wait up to ``grace`` seconds for handler tasks to finish their queued events."""
        current = asyncio.current_task()
        tasks = [r.task for r in self._runners if r.task is not None and r.task is not current]
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=grace)
        for task in pending:
            task.cancel()
