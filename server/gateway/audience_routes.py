"""Frame handlers of the audience profile the app's client drives for its signed-in user:
``identify``, ``profile_set`` and ``consent``.

Kept apart from :mod:`router` like :mod:`invite_routes`; the router merges these handlers into
its table. The connection's user is the profile's ``user`` identifier: a client can only ever
change its own user's profile. Refusals are ``ServiceError`` codes (the router's guard turns
them into ``error`` frames): nothing of a refused request is stored.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from parley.proto import frames
from parley.proto.errors import ErrorCode
from parley.server.audience_models import USER_KIND
from parley.server.errors import ServiceError
from parley.server.gateway.connection import Connection
from parley.server.gateway.route_services import RouteServices

__all__ = ["AudienceHandlers"]

Reply = Callable[[Connection, msgspec.Struct], None]
Handler = Callable[[Connection, Any], Awaitable[None]]


class AudienceHandlers:
    """``identify`` / ``profile_set`` / ``consent`` for the connection's own user."""

    def __init__(self, services: RouteServices, reply: Reply) -> None:
        self._s = services
        self._reply = reply

    def table(self) -> dict[type, Handler]:
        """Frame type → handler, for the router's table."""
        return {
            frames.Identify: self._identify,
            frames.ProfileSet: self._profile_set,
            frames.ConsentSet: self._consent,
        }

    async def _identify(self, conn: Connection, frame: frames.Identify) -> None:
        if any(i.kind == USER_KIND for i in frame.identifiers):
            # The user id is the token's: a client naming another would take over their profile.
            raise ServiceError(
                ErrorCode.IDENTIFIER_INVALID, "user: the user id comes from the token, not the frame"
            )
        pairs: list[tuple[str, object]] = [(i.kind, i.value) for i in frame.identifiers]
        result = await self._s.identity.identify(
            conn.app, pairs, actor=f"sdk:{conn.user}", anchor=(USER_KIND, conn.user)
        )
        self._reply(conn, frames.Identified(id=frame.id, pid=result["pid"], merged=len(result["merged"])))

    async def _profile_set(self, conn: Connection, frame: frames.ProfileSet) -> None:
        pid = await self._s.audience.pid_for_user(conn.app, conn.user)
        await self._s.audience.update(
            conn.app, pid, actor=f"sdk:{conn.user}", attributes=frame.attributes,
            timezone=frame.timezone, language=frame.language,
        )  # fmt: skip
        self._reply(conn, frames.Ok(id=frame.id))

    async def _consent(self, conn: Connection, frame: frames.ConsentSet) -> None:
        pid = await self._s.audience.pid_for_user(conn.app, conn.user)
        await self._s.audience.decide_consent(
            conn.app, pid, frame.topic, frame.granted, via=("sdk", conn.user)
        )
        self._reply(conn, frames.Ok(id=frame.id))
