"""Frame handler of audience events: ``track`` (the connection's own user did something).

Kept apart from :mod:`router` like :mod:`invite_routes`; the router merges this handler into
its table. The event service validates, stores (group-committed) and applies the event; a
refusal (``event_unknown``, ``event_invalid``, ...) reaches the client as an error frame
through the router, like any ``ServiceError``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from parley.proto import frames
from parley.server.gateway.connection import Connection
from parley.server.gateway.route_services import RouteServices
from parley.server.services.events import EventInput

__all__ = ["EventHandlers"]

Reply = Callable[[Connection, msgspec.Struct], None]
Handler = Callable[[Connection, Any], Awaitable[None]]


class EventHandlers:
    """``track`` for the connection's own user."""

    def __init__(self, services: RouteServices, reply: Reply) -> None:
        self._s = services
        self._reply = reply

    def table(self) -> dict[type, Handler]:
        """Frame type → handler, for the router's table."""
        return {frames.Track: self._track}

    async def _track(self, conn: Connection, frame: frames.Track) -> None:
        item = EventInput(frame.event, frame.props, frame.ts or None, frame.eid)
        done = await self._s.events.track(conn.app, conn.user, item)
        self._reply(conn, frames.TrackResult(id=frame.id, eid=done.eid, dup=not done.stored))
