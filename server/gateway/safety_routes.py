"""Frame handlers of the abuse controls a user drives: block, unblock, block_list, report.

Kept apart from :mod:`router` like :mod:`support_routes`; the router merges
these handlers into its table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from parley.proto import frames
from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.gateway.connection import Connection
from parley.server.gateway.route_services import RouteServices

__all__ = ["SafetyHandlers"]

Reply = Callable[[Connection, msgspec.Struct], None]
Handler = Callable[[Connection, Any], Awaitable[None]]


class SafetyHandlers:
    """``block`` / ``unblock`` / ``block_list`` / ``report`` for the connection's own user."""

    def __init__(self, services: RouteServices, reply: Reply) -> None:
        self._s = services
        self._reply = reply

    def table(self) -> dict[type, Handler]:
        """Frame type → handler, for the router's table."""
        return {
            frames.Block: self._block,
            frames.Unblock: self._unblock,
            frames.BlockList: self._block_list,
            frames.Report: self._report,
        }

    async def _block(self, conn: Connection, frame: frames.Block) -> None:
        await self._s.safety.block(conn.app, conn.user, frame.user)
        self._reply(conn, frames.Ok(id=frame.id))

    async def _unblock(self, conn: Connection, frame: frames.Unblock) -> None:
        await self._s.safety.unblock(conn.app, conn.user, frame.user)
        self._reply(conn, frames.Ok(id=frame.id))

    async def _report(self, conn: Connection, frame: frames.Report) -> None:
        if not await self._s.conversations.is_member(conn.app, frame.conv, conn.user):
            raise ServiceError(ErrorCode.FORBIDDEN, f"not a member of conversation {frame.conv}")
        await self._s.words.report(conn.app, conn.user, frame.conv, frame.seq, frame.reason)
        self._reply(conn, frames.Ok(id=frame.id))

    async def _block_list(self, conn: Connection, frame: frames.BlockList) -> None:
        self._reply(conn, frames.Blocks(id=frame.id, users=await self._s.safety.blocked(conn.app, conn.user)))
