"""Frame handlers for customer service (support hand-off, agents, profiles).

Kept apart from :mod:`router` so each stays readable; the router merges these
handlers into its table. Roles come from the connection's token.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from parley.proto import frames
from parley.proto.errors import ErrorCode
from parley.proto.vocabulary import UserRole
from parley.server.errors import ServiceError
from parley.server.gateway.connection import Connection
from parley.server.gateway.route_services import RouteServices

__all__ = ["CONTENT_WRITES", "CONVERSATION_CHANGES", "NOT_WRITES", "SupportHandlers"]

Reply = Callable[[Connection, msgspec.Struct], None]
Handler = Callable[[Connection, Any], Awaitable[None]]

SERVICE_ROLES = frozenset({UserRole.AGENT, UserRole.BOT})
#: What a bot may record as the source of its tags (a model's prediction, a rule, or itself).
BOT_SOURCES = frozenset({UserRole.BOT.value, "model", "rule"})


AGENTS = frozenset({UserRole.AGENT})

# The bot-silence rule (``SupportService.write_refusal``, over ``BOT_SILENT_STATES``) is
# applied in one place, :meth:`SupportHandlers.check_may_write`, to every client frame that
# changes what a conversation's members see. Each frame carrying a ``conv`` is in exactly one
# of these sets (``tests/server/gateway/test_bot_silence.py`` checks it, so a new frame needs
# a decision):
#: Content: refused through ``Router._require_writer`` (membership, this gate, blocks and mutes).
CONTENT_WRITES: frozenset[type] = frozenset(
    {frames.Send, frames.Edit, frames.Recall, frames.Typing, frames.Draft}
)
#: Changes to the conversation itself (name, meta, members): refused by this gate too.
CONVERSATION_CHANGES: frozenset[type] = frozenset(
    {frames.ConvUpdate, frames.MemberAdd, frames.MemberRemove, frames.MemberRole}
)
#: Reads, one's own membership (leave, invitations), reports, and the support frames (whose
#: service checks role and state).
NOT_WRITES: frozenset[type] = frozenset(
    {
        frames.Read,
        frames.History,
        frames.ConvGet,
        frames.MemberList,
        frames.Leave,
        frames.InviteAccept,
        frames.InviteDecline,
        frames.Report,
        frames.SupportHandoff,
        frames.SupportClaim,
        frames.SupportTransfer,
        frames.SupportRelease,
        frames.SupportResolve,
        frames.SupportRate,
        frames.SupportNote,
    }
)


def _require_role(conn: Connection, roles: frozenset[UserRole], what: str) -> None:
    if conn.role not in roles:
        raise ServiceError(ErrorCode.FORBIDDEN, f"{what} needs the role {' or '.join(sorted(roles))}")


class SupportHandlers:
    """Support frames (hand-off, claim, transfer, release, resolve, rate, queue, notes, profiles)
    and the one write gate of support conversations (:meth:`check_may_write`)."""

    def __init__(self, services: RouteServices, reply: Reply) -> None:
        self._s = services
        self._reply = reply

    def table(self) -> dict[type, Handler]:
        """Frame type → handler, for the router's table."""
        return {
            frames.SupportHandoff: self._handoff,
            frames.SupportClaim: self._claim,
            frames.SupportTransfer: self._transfer,
            frames.SupportRelease: self._release,
            frames.SupportResolve: self._resolve,
            frames.SupportRate: self._rate,
            frames.SupportQueue: self._queue,
            frames.SupportNote: self._note,
            frames.ProfileGet: self._profile_get,
            frames.ProfileTag: self._profile_tag,
        }

    @staticmethod
    def gated(conn: Connection) -> bool:
        """Whether :meth:`check_may_write` can refuse ``conn`` (a service role); the send
        fast path skips the check (and its store read) for everyone else."""
        return conn.role in SERVICE_ROLES

    def gate(self, handler: Handler) -> Handler:
        """``handler`` behind :meth:`check_may_write` (for :data:`CONVERSATION_CHANGES`)."""

        async def gated(conn: Connection, frame: Any) -> None:
            await self.check_may_write(conn, frame.conv)
            await handler(conn, frame)

        return gated

    async def check_may_write(self, conn: Connection, conv: str) -> None:
        """The one gate for every frame that writes into a conversation (:data:`CONTENT_WRITES`,
        :data:`CONVERSATION_CHANGES`): in a support conversation the bot is silent in
        ``BOT_SILENT_STATES`` (from the hand-off on), and an agent writes only while it owns the
        ticket."""
        if not self.gated(conn):
            return
        ticket = await self._s.support.find_ticket(conn.app, conv)
        if ticket is None:
            return
        refusal = self._s.support.write_refusal(ticket, conn.user, conn.role)
        if refusal:
            raise ServiceError(ErrorCode.FORBIDDEN, refusal)

    async def _handoff(self, conn: Connection, f: frames.SupportHandoff) -> None:
        await self._s.support.handoff(conn.app, conn.user, conn.role, f.conv, f.reason, f.summary)
        self._reply(conn, frames.Ok(id=f.id))

    async def _claim(self, conn: Connection, f: frames.SupportClaim) -> None:
        _require_role(conn, AGENTS, "claiming")
        view = await self._s.support.claim(conn.app, conn.user, f.conv)
        self._reply(conn, frames.ConvResult(id=f.id, conv=view.info()))

    async def _transfer(self, conn: Connection, f: frames.SupportTransfer) -> None:
        _require_role(conn, AGENTS, "transferring")
        await self._s.support.transfer(conn.app, conn.user, f.conv, f.agent)
        self._reply(conn, frames.Ok(id=f.id))

    async def _release(self, conn: Connection, f: frames.SupportRelease) -> None:
        _require_role(conn, AGENTS, "releasing")
        await self._s.support.release(conn.app, conn.user, f.conv)
        self._reply(conn, frames.Ok(id=f.id))

    async def _resolve(self, conn: Connection, f: frames.SupportResolve) -> None:
        _require_role(conn, SERVICE_ROLES, "resolving")
        await self._s.support.resolve(conn.app, conn.user, conn.role, f.conv)
        self._reply(conn, frames.Ok(id=f.id))

    async def _rate(self, conn: Connection, f: frames.SupportRate) -> None:
        await self._s.support.rate(conn.app, conn.user, f.conv, f.score)
        self._reply(conn, frames.Ok(id=f.id))

    async def _queue(self, conn: Connection, f: frames.SupportQueue) -> None:
        _require_role(conn, AGENTS, "the support queue")
        waiting, mine = await self._s.support.queue(conn.app, conn.user)
        self._reply(conn, frames.SupportList(id=f.id, waiting=waiting, mine=mine))

    async def _note(self, conn: Connection, f: frames.SupportNote) -> None:
        _require_role(conn, AGENTS, "internal notes")
        ack = await self._s.support.note(conn.app, conn.user, f.conv, f.text)
        ack.id = f.id
        self._reply(conn, ack)

    async def _profile_get(self, conn: Connection, f: frames.ProfileGet) -> None:
        _require_role(conn, SERVICE_ROLES, "reading profiles")
        profile = await self._s.profiles.get(conn.app, f.user)
        self._reply(conn, frames.ProfileResult(id=f.id, profile=profile))

    async def _profile_tag(self, conn: Connection, f: frames.ProfileTag) -> None:
        _require_role(conn, SERVICE_ROLES, "tagging profiles")
        source = conn.role
        if conn.role == UserRole.BOT and f.source:
            if f.source not in BOT_SOURCES:
                raise ServiceError(
                    ErrorCode.INVALID_REQUEST, f"a bot's tag source is one of {sorted(BOT_SOURCES)}"
                )
            source = f.source
        await self._s.profiles.tag(conn.app, f.user, source, f.add, f.remove, f.attributes)
        self._reply(conn, frames.Ok(id=f.id))
