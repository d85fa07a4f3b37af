"""Frame handlers of group invitations the invitee drives: invite_list, invite_accept, invite_decline.

Kept apart from :mod:`router` like :mod:`safety_routes`; the router merges these
handlers into its table. Inviting itself happens inside ``member_add`` and
``conv_create`` (see :mod:`parley.server.services.invites`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from parley.proto import frames
from parley.server.gateway.connection import Connection
from parley.server.gateway.route_services import RouteServices

__all__ = ["InviteHandlers"]

Reply = Callable[[Connection, msgspec.Struct], None]
Handler = Callable[[Connection, Any], Awaitable[None]]


class InviteHandlers:
    """``invite_list`` / ``invite_accept`` / ``invite_decline`` for the connection's own user."""

    def __init__(self, services: RouteServices, reply: Reply) -> None:
        self._s = services
        self._reply = reply

    def table(self) -> dict[type, Handler]:
        """Frame type → handler, for the router's table."""
        return {
            frames.InviteList: self._list,
            frames.InviteAccept: self._accept,
            frames.InviteDecline: self._decline,
        }

    async def _list(self, conn: Connection, frame: frames.InviteList) -> None:
        page, more = await self._s.invites.pending(conn.app, conn.user, after=frame.after, limit=frame.limit)
        self._reply(conn, frames.Invitations(id=frame.id, invitations=page, more=more))

    async def _accept(self, conn: Connection, frame: frames.InviteAccept) -> None:
        view = await self._s.invites.accept(conn.app, conn.user, frame.conv)
        self._reply(conn, frames.ConvResult(id=frame.id, conv=view.info()))

    async def _decline(self, conn: Connection, frame: frames.InviteDecline) -> None:
        await self._s.invites.decline(conn.app, conn.user, frame.conv)
        self._reply(conn, frames.Ok(id=frame.id))
