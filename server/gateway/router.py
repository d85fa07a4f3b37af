"""Routes decoded frames of an authenticated connection to the services.

Every reply goes through the connection's queue (so it is ordered with pushed
messages) and every failure becomes an ``error`` frame carrying the request id;
the connection keeps serving.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from parley.proto import encode, frames
from parley.proto.errors import ErrorCode, action_for
from parley.server.auth.policy import MANAGER_ROLES
from parley.server.channels import presence_channel
from parley.server.errors import ServerError, ServiceError, refusal
from parley.server.gateway.audience_routes import AudienceHandlers
from parley.server.gateway.connection import Connection
from parley.server.gateway.conversation_routes import ConversationHandlers
from parley.server.gateway.event_routes import EventHandlers
from parley.server.gateway.hub import Hub
from parley.server.gateway.invite_routes import InviteHandlers
from parley.server.gateway.route_services import RouteServices
from parley.server.gateway.safety_routes import SafetyHandlers
from parley.server.gateway.support_routes import CONVERSATION_CHANGES, SupportHandlers
from parley.server.metrics import Metrics
from parley.server.models import Appended
from parley.server.services.wire import wire_message

__all__ = ["Router", "error_frame"]

log = logging.getLogger("parley.router")

Handler = Callable[[Connection, Any], Awaitable[None]]


def error_frame(code: ErrorCode, message: str, request_id: int | None = None) -> bytes:
    """An encoded ``error`` frame; its ``action`` (retry, reconnect, ...) is proto/errors.py's."""
    return encode(
        frames.Error(code=code.value, message=message, action=action_for(code.value).value, id=request_id)
    )


class Router:
    """Routes an authenticated connection's frames to the services and answers each: a reply
    or an ``error`` frame with the request's id (mapped by ``server/errors.py``); it never
    closes the connection. Sends are started without a task when membership is cached."""

    def __init__(
        self,
        services: RouteServices,
        hub: Hub,
        metrics: Metrics,
        *,
        sync_budget: int,
        presence_caps: tuple[int, int] = (1000, 2000),
        sync_page: int = 1000,
    ) -> None:
        self._s = services
        #: Users one connection, and one user on this node, may watch.
        self._presence_caps = presence_caps
        #: Conversations one ``synced`` lists (the reply stays far below the frame limit).
        self._sync_page = sync_page
        self._hub = hub
        self._metrics = metrics
        #: Most messages one ``sync`` replays: half a connection's queue, so the
        #: replay itself can never make the client a slow consumer.
        self._sync_budget = sync_budget
        self._tasks: set[asyncio.Task[None]] = set()
        self._out_by_tag: dict[Any, Any] = {}
        self._handlers: dict[type, Handler] = {
            frames.Ping: self._ping,
            frames.Hello: self._hello_again,
            frames.Edit: self._edit,
            frames.Recall: self._recall,
            frames.Typing: self._typing,
            frames.Draft: self._draft,
            frames.Read: self._read,
            frames.Sync: self._sync,
            frames.History: self._history,
            frames.PresenceSub: self._presence_sub,
            frames.PresenceUnsub: self._presence_unsub,
        }
        self._support = SupportHandlers(services, self._reply)
        self._handlers.update(self._support.table())
        self._handlers.update(ConversationHandlers(services, hub, self._reply).table())
        for kind in CONVERSATION_CHANGES:  # the bot-silence gate, like content (_require_writer)
            self._handlers[kind] = self._support.gate(self._handlers[kind])
        self._handlers.update(SafetyHandlers(services, self._reply).table())
        self._handlers.update(InviteHandlers(services, self._reply).table())
        self._handlers.update(EventHandlers(services, self._reply).table())
        self._handlers.update(AudienceHandlers(services, self._reply).table())

    async def route(self, conn: Connection, frame: Any) -> None:
        """Handle one frame. Sends run as tasks so a client can pipeline them into one group commit."""
        if isinstance(frame, frames.Send):
            self.start_send(conn, frame)
            return
        await self._guarded(self._handlers[type(frame)], conn, frame)

    def start_send(self, conn: Connection, frame: frames.Send) -> None:
        """Start a ``send``; it is acked (or answered with an error) once stored.

        The common case (a member whose membership is cached, not a bot or agent) needs no
        task: the stored-message future acks through a callback. Anything that must
        ask the store first (membership, blocks or mutes not checked yet) runs as a task.
        """
        if (
            frame.conv in conn.convs
            and conn.convs_trusted
            and frame.conv in conn.cleared
            and not self._support.gated(conn)
        ):
            try:
                stored = self._submit(conn, frame)
            except ServiceError as exc:
                self.refuse(conn, exc, frame)
                return
            stored.add_done_callback(functools.partial(self._stored, conn, frame))
            return
        task = asyncio.get_running_loop().create_task(self._guarded(self._send, conn, frame))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _stored(self, conn: Connection, frame: frames.Send, stored: asyncio.Future[Appended]) -> None:
        if stored.cancelled():
            return  # the node is stopping
        exc = stored.exception()
        if exc is None:
            self._acknowledge(conn, frame, stored.result())
        else:
            self.refuse(conn, exc, frame)

    def _reply(self, conn: Connection, frame: msgspec.Struct) -> None:
        conn.push(encode(frame))
        tag = frame.__struct_config__.tag
        counter = self._out_by_tag.get(tag)
        if counter is None:
            counter = self._out_by_tag[tag] = self._metrics.frames_out.labels(str(tag))
        counter.inc()

    def error(self, conn: Connection, code: ErrorCode, message: str, request_id: int | None = None) -> None:
        """Send an ``error`` frame (counted by code)."""
        conn.push(error_frame(code, message, request_id))
        self._metrics.errors.labels(code.value).inc()

    def refuse(self, conn: Connection, exc: BaseException, frame: Any) -> None:
        """Answer ``frame`` with the error frame ``exc`` maps to (server/errors.py); log a bug."""
        if not isinstance(exc, ServerError):
            name = type(frame).__name__
            log.error("internal error handling %s", name, exc_info=exc, extra={"conn": conn.id})
        refused = refusal(exc)
        self.error(conn, refused.code, refused.message, getattr(frame, "id", None))

    async def _guarded(self, handler: Handler, conn: Connection, frame: Any) -> None:
        try:
            await handler(conn, frame)
        except Exception as exc:
            self.refuse(conn, exc, frame)

    async def _require_member(self, conn: Connection, conv: str) -> None:
        # The cache is kept current by control events; a miss (a join racing
        # its control event) is settled by the store, and so is everything while
        # the cache is being repaired after a broker gap (control events may be lost).
        if conv in conn.convs and conn.convs_trusted:
            return
        if not await self._s.conversations.is_member(conn.app, conv, conn.user):
            raise ServiceError(ErrorCode.FORBIDDEN, f"not a member of conversation {conv}")
        await self._hub.join(conn, conv)

    async def _require_unblocked(self, conn: Connection, conv: str) -> None:
        """Not kept from writing into ``conv`` by a block or mute (checked once per conversation
        until a ``recheck`` control event replaces ``conn.cleared``)."""
        cleared = conn.cleared
        if conv not in cleared:
            await self._s.safety.check_send(conn.app, conn.user, conv)
            await self._s.words.ensure(conn.app)  # the fast path screens with the cached lists
            cleared.add(conv)  # into the set the check started from: a recheck meanwhile wins

    # ---------------------------------------------------------------- frames
    async def _ping(self, conn: Connection, frame: frames.Ping) -> None:
        self._reply(conn, frames.Pong(ts=frame.ts))

    async def _hello_again(self, conn: Connection, frame: frames.Hello) -> None:
        raise ServiceError(ErrorCode.ALREADY_AUTHENTICATED, "this connection is already authenticated")

    async def _require_writer(self, conn: Connection, conv: str) -> None:
        """Every frame that writes into ``conv`` passes here: a member, allowed by the support gate,
        not blocked or muted."""
        await self._require_member(conn, conv)
        await self._support.check_may_write(conn, conv)
        await self._require_unblocked(conn, conv)

    async def _send(self, conn: Connection, frame: frames.Send) -> None:
        await self._require_writer(conn, frame.conv)
        self._acknowledge(conn, frame, await self._submit(conn, frame))

    def _submit(self, conn: Connection, frame: frames.Send) -> asyncio.Future[Appended]:
        """Both send paths: screened for sensitive words, stored, then fanned out to everyone
        but ``conn`` (its ack has it)."""
        screened = self._s.words.screen(conn.app, frame.body)
        stored = self._s.messages.submit(
            conn.app,
            conn.user,
            frame.conv,
            kind=frame.kind,
            body=screened.value,
            cmid=frame.cmid,
            mentions=frame.mentions,
            origin=conn,
        )
        if screened.flags:
            stored.add_done_callback(functools.partial(self._flag, conn, screened.flags))
        return stored

    def _flag(self, conn: Connection, flags: tuple[str, ...], stored: asyncio.Future[Appended]) -> None:
        if stored.cancelled() or stored.exception() is not None or stored.result().duplicate:
            return
        m = stored.result().message
        self._s.words.flag_later(conn.app, m.conv, m.seq, conn.user, flags, m.body)

    def _acknowledge(self, conn: Connection, frame: frames.Send, result: Appended) -> None:
        m = result.message
        # The stored body goes back only when it differs (sensitive words masked).
        body = None if m.body is frame.body or m.body == frame.body else m.body
        ack = frames.Ack(
            id=frame.id,
            conv=m.conv,
            cmid=m.cmid,
            mid=m.mid,
            seq=m.seq,
            ts=m.ts,
            dup=result.duplicate,
            body=body,
        )
        self._reply(conn, ack)
        self._s.receipts.mark_sent(conn.app, conn.user, m.conv, m.seq)

    async def _edit(self, conn: Connection, frame: frames.Edit) -> None:
        await self._require_writer(conn, frame.conv)
        screened = await self._s.words.screen_now(conn.app, frame.body)
        result = await self._s.messages.edit(conn.app, conn.user, frame.conv, frame.seq, screened.value)
        if screened.flags:
            self._s.words.flag_later(
                conn.app, frame.conv, frame.seq, conn.user, screened.flags, screened.value
            )
        m = result.message
        self._reply(conn, frames.Ack(id=frame.id, conv=m.conv, cmid=m.cmid, mid=m.mid, seq=m.seq, ts=m.ts))

    async def _recall(self, conn: Connection, frame: frames.Recall) -> None:
        await self._require_writer(conn, frame.conv)
        member = await self._s.conversations.member(conn.app, frame.conv, conn.user)
        moderator = member is not None and member.role in MANAGER_ROLES
        result = await self._s.messages.recall(
            conn.app, conn.user, frame.conv, frame.seq, may_moderate=moderator
        )
        m = result.message
        self._reply(conn, frames.Ack(id=frame.id, conv=m.conv, cmid=m.cmid, mid=m.mid, seq=m.seq, ts=m.ts))

    async def _typing(self, conn: Connection, frame: frames.Typing) -> None:
        await self._require_writer(conn, frame.conv)
        self._s.receipts.typing(conn.app, conn.user, frame.conv, frame.on)

    async def _draft(self, conn: Connection, frame: frames.Draft) -> None:
        try:
            await self._require_writer(conn, frame.conv)
        except ServiceError as exc:
            if not (frame.done and exc.code is ErrorCode.FORBIDDEN):
                raise
            # A silenced writer may still withdraw a draft it had started (viewers drop it),
            # but the withdrawal carries no content.
            await self._require_member(conn, frame.conv)
            frame = frames.Draft(conv=frame.conv, draft=frame.draft, body={}, done=True)
        self._s.receipts.draft(conn.app, conn.user, frame)

    async def _read(self, conn: Connection, frame: frames.Read) -> None:
        await self._require_member(conn, frame.conv)
        await self._s.receipts.read(conn.app, conn.user, frame.conv, frame.seq)
        self._reply(conn, frames.Ok(id=frame.id))

    async def _sync(self, conn: Connection, frame: frames.Sync) -> None:
        result = await self._s.history.sync(
            conn.app,
            conn.user,
            frame.positions,
            frame.limit,
            self._sync_budget,
            after=frame.after,
            page=self._sync_page,
        )
        for state in result.states:
            if not state.reset or state.last_seq:
                await self._hub.join(conn, state.conv)
        for m in result.messages:
            self._reply(conn, frames.Msg(m=wire_message(m)))
        self._reply(conn, frames.Synced(id=frame.id, convs=result.states, next=result.next))

    async def _history(self, conn: Connection, frame: frames.History) -> None:
        await self._require_member(conn, frame.conv)
        messages, more = await self._s.history.page(
            conn.app, frame.conv, before=frame.before, after=frame.after, limit=frame.limit, reader=conn.user
        )
        page = frames.Page(
            id=frame.id, conv=frame.conv, messages=[wire_message(m) for m in messages], more=more
        )
        self._reply(conn, page)

    async def _presence_sub(self, conn: Connection, frame: frames.PresenceSub) -> None:
        users = [u for u in dict.fromkeys(frame.users) if u not in conn.presence_subs]
        hidden = await self._s.safety.hidden(conn.app, conn.user, users)
        users = [u for u in users if u not in hidden]
        if users:  # refused whole (nothing sent) past a cap or the presence policy
            self._check_presence_caps(conn, len(users))
            await self._s.reach.require_watchable(conn.app, conn.user, users)
        for u in sorted(hidden):  # blocked either way: shown as never seen, and not subscribed
            self._reply(conn, frames.Presence(user=u, online=False))
        conn.presence_subs.update(users)
        await self._hub.attach(conn, [presence_channel(conn.app, u) for u in users])
        for state in await self._s.presence.current(conn.app, users) if users else ():
            self._reply(conn, state)
        self._reply(conn, frames.Ok(id=frame.id))

    def _check_presence_caps(self, conn: Connection, adding: int) -> None:
        """Each watched user is a broker channel: bounded per connection and per user."""
        per_conn, per_user = self._presence_caps
        if len(conn.presence_subs) + adding > per_conn:
            raise ServiceError(
                ErrorCode.LIMIT_EXCEEDED, f"a connection watches at most {per_conn} users' presence"
            )
        watched = sum(len(c.presence_subs) for c in self._hub.devices(conn.app, conn.user))
        if watched + adding > per_user:
            raise ServiceError(ErrorCode.LIMIT_EXCEEDED, f"a user watches at most {per_user} users' presence")

    async def _presence_unsub(self, conn: Connection, frame: frames.PresenceUnsub) -> None:
        users = [u for u in frame.users if u in conn.presence_subs]
        conn.presence_subs.difference_update(users)
        self._hub.detach(conn, [presence_channel(conn.app, u) for u in users])
        self._reply(conn, frames.Ok(id=frame.id))
