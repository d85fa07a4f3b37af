"""Frame handlers for conversations and their members (create, get, list, update, members, leave).

Kept apart from :mod:`router` so each stays readable; the router merges these handlers
into its table (and puts the changes among them behind the support gate, see
:data:`~parley.server.gateway.support_routes.CONVERSATION_CHANGES`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from parley.proto import frames
from parley.server.gateway.connection import Connection
from parley.server.gateway.hub import Hub
from parley.server.gateway.route_services import RouteServices

__all__ = ["ConversationHandlers"]

Reply = Callable[[Connection, msgspec.Struct], None]
Handler = Callable[[Connection, Any], Awaitable[None]]


class ConversationHandlers:
    """``conv_*``, ``member_*`` and ``leave`` for the connection's own user; the services decide."""

    def __init__(self, services: RouteServices, hub: Hub, reply: Reply) -> None:
        self._s = services
        self._hub = hub
        self._reply = reply

    def table(self) -> dict[type, Handler]:
        """Frame type → handler, for the router's table."""
        return {
            frames.ConvCreate: self._conv_create,
            frames.ConvGet: self._conv_get,
            frames.ConvList: self._conv_list,
            frames.ConvUpdate: self._conv_update,
            frames.MemberAdd: self._member_add,
            frames.MemberRemove: self._member_remove,
            frames.MemberRole: self._member_role,
            frames.Leave: self._leave,
            frames.MemberList: self._member_list,
        }

    async def _conv_create(self, conn: Connection, frame: frames.ConvCreate) -> None:
        await self._s.safety.check_add(conn.app, conn.user, frame.kind, frame.members)
        named = await self._s.words.screen_now(conn.app, {"name": frame.name, "meta": frame.meta})
        name, meta = named.value["name"], named.value["meta"]
        await self._s.reach.check_create(conn.app, conn.user, frame.kind, frame.members)
        view = await self._s.invites.create(
            conn.app, conn.user, frame.kind, frame.members, name=name, meta=meta
        )
        if named.flags:
            self._s.words.flag_later(conn.app, view.conversation.conv, 0, conn.user, named.flags, named.value)
        await self._hub.join(conn, view.conversation.conv)
        self._reply(conn, frames.ConvResult(id=frame.id, conv=view.info()))

    async def _conv_get(self, conn: Connection, frame: frames.ConvGet) -> None:
        view = await self._s.conversations.get(conn.app, conn.user, frame.conv)
        self._reply(conn, frames.ConvResult(id=frame.id, conv=view.info()))

    async def _conv_list(self, conn: Connection, frame: frames.ConvList) -> None:
        convs, more = await self._s.conversations.list_for_user(
            conn.app, conn.user, after=frame.after, limit=frame.limit
        )
        self._reply(conn, frames.ConvListResult(id=frame.id, convs=convs, more=more))

    async def _conv_update(self, conn: Connection, frame: frames.ConvUpdate) -> None:
        named = await self._s.words.screen_now(conn.app, {"name": frame.name, "meta": frame.meta})
        view = await self._s.conversations.update(
            conn.app, conn.user, frame.conv, name=named.value["name"], meta=named.value["meta"]
        )
        if named.flags:
            self._s.words.flag_later(conn.app, frame.conv, 0, conn.user, named.flags, named.value)
        self._reply(conn, frames.ConvResult(id=frame.id, conv=view.info()))

    async def _member_add(self, conn: Connection, frame: frames.MemberAdd) -> None:
        await self._s.safety.check_add(conn.app, conn.user, "group", frame.users)
        await self._s.reach.check_add(conn.app, conn.user, frame.users)
        await self._s.invites.add_members(conn.app, conn.user, frame.conv, frame.users, frame.role)
        self._reply(conn, frames.Ok(id=frame.id))

    async def _member_remove(self, conn: Connection, frame: frames.MemberRemove) -> None:
        await self._s.conversations.remove_members(conn.app, conn.user, frame.conv, frame.users)
        self._reply(conn, frames.Ok(id=frame.id))

    async def _member_role(self, conn: Connection, frame: frames.MemberRole) -> None:
        await self._s.conversations.set_role(conn.app, conn.user, frame.conv, frame.user, frame.role)
        self._reply(conn, frames.Ok(id=frame.id))

    async def _leave(self, conn: Connection, frame: frames.Leave) -> None:
        await self._s.conversations.leave(conn.app, conn.user, frame.conv)
        self._reply(conn, frames.Ok(id=frame.id))

    async def _member_list(self, conn: Connection, frame: frames.MemberList) -> None:
        members, more = await self._s.conversations.member_page(
            conn.app, conn.user, frame.conv, after=frame.after, limit=frame.limit
        )
        infos = [frames.MemberInfo(user=m.user, role=m.role, read=m.read_seq) for m in members]
        self._reply(conn, frames.MemberPage(id=frame.id, conv=frame.conv, members=infos, more=more))
