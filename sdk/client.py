"""The chat client: connect, send, receive, manage conversations.

Quick start::

    from parley.sdk import Client, MessageEvent

    async with Client("ws://localhost:8700/ws", token=token) as client:
        conv = await client.create_direct("bob")
        await client.send(conv.conv, "hello bob")
        async for event in client.events(MessageEvent):
            print(event.message.sender, event.message.text)

The client reconnects by itself (jittered backoff), re-authenticates (asking
``get_token`` for a fresh token when the old one expired), syncs what it
missed, and resends unacknowledged messages with their original ``cmid`` so
each is stored once. Events arrive exactly once per conversation, in ``seq``
order, both through :meth:`Client.events` and :meth:`Client.on` handlers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar, overload

from parley.proto import frames as f
from parley.proto.backoff import Backoff
from parley.proto.content import validate_body
from parley.proto.errors import Action, ErrorCode, ProtocolError
from parley.sdk.audience import ProfileOps
from parley.sdk.campaigns import CampaignOps
from parley.sdk.connection import Connection, TokenSource
from parley.sdk.conversations import ConversationOps
from parley.sdk.dispatch import EventHub, EventStream, Handler
from parley.sdk.errors import ClientClosed, ReplyError, RequestTimeout
from parley.sdk.events import ClientState, Event
from parley.sdk.invites import InviteOps
from parley.sdk.models import Message, Page
from parley.sdk.outbox import Outbox
from parley.sdk.requests import Reply
from parley.sdk.safety import SafetyOps
from parley.sdk.streams import Streams
from parley.sdk.support import SupportOps
from parley.sdk.tracking import TrackOps

__all__ = ["Client"]

E = TypeVar("E")
_F = TypeVar("_F", bound=Callable[..., Any])


class Client(ConversationOps, SupportOps, SafetyOps, InviteOps, CampaignOps, TrackOps, ProfileOps):
    """A Parley chat client for one user.

    ``token`` is a user token from your back-end; ``get_token`` (an async
    callable) is asked for a new one when it is missing or expired.
    ``request_timeout`` bounds each request (seconds); ``send_timeout`` bounds
    :meth:`send` including its retries and any reconnects in between;
    ``connect_timeout`` bounds :meth:`connect` (``None``: retry forever).
    ``positions`` restores per-conversation positions saved from
    :attr:`positions` so a restarted app resumes instead of starting fresh.
    """

    def __init__(
        self,
        url: str,
        *,
        token: str | None = None,
        get_token: TokenSource | None = None,
        device: str = "",
        client_name: str = "parley-python/0.1",
        min_reconnect_delay: float = 0.2,
        max_reconnect_delay: float = 20.0,
        request_timeout: float = 10.0,
        send_timeout: float = 60.0,
        connect_timeout: float | None = 30.0,
        positions: Mapping[str, tuple[int, str]] | None = None,
    ) -> None:
        if token is None and get_token is None:
            raise ValueError("give a token or a get_token callback")
        self._hub = EventHub()
        self._outbox = Outbox()
        self._backoff = Backoff(min_reconnect_delay, max_reconnect_delay)
        self.send_timeout = send_timeout
        self.connect_timeout = connect_timeout
        start = [f.Position(conv=c, seq=s, epoch=e) for c, (s, e) in (positions or {}).items()]
        self._conn = Connection(
            url,
            token=token,
            get_token=get_token,
            device=device,
            client_name=client_name,
            backoff=self._backoff,
            request_timeout=request_timeout,
            hub=self._hub,
            streams=Streams(start),
            outbox=self._outbox,
        )

    # ------------------------------------------------------------- lifecycle

    @property
    def state(self) -> ClientState:
        """The current :class:`ClientState`."""
        return self._conn.state

    @property
    def user(self) -> str:
        """The user id the server authenticated (empty before the first connection)."""
        return self._conn.welcome.user if self._conn.welcome else ""

    @property
    def welcome(self) -> f.Welcome | None:
        """The server's last ``welcome`` frame (session, node, limits)."""
        return self._conn.welcome

    @property
    def positions(self) -> dict[str, tuple[int, str]]:
        """Per conversation: the last seq delivered and the stream epoch (save to resume later)."""
        return {p.conv: (p.seq, p.epoch) for p in self._conn.streams.positions()}

    async def connect(self) -> None:
        """Connect and resume; return once connected.

        Transient failures are retried with backoff up to ``connect_timeout`` seconds;
        then, or on a fatal refusal (bad token...), the client is closed and
        :class:`RequestTimeout` or :class:`ClientClosed` is raised.
        """
        self._conn.start()
        try:
            async with asyncio.timeout(self.connect_timeout):
                await self._conn.wait_ready()
        except TimeoutError:
            await self.close()
            raise RequestTimeout(f"could not connect within {self.connect_timeout} s") from None

    async def close(self) -> None:
        """Close for good: pending calls raise :class:`ClientClosed`, event streams end."""
        await self._conn.close()
        self._hub.close()
        await self._hub.wait_handlers(grace=5.0)

    async def reconnect(self) -> None:
        """Drop the current connection and reconnect now (resuming as after any loss)."""
        await self._conn.reconnect()

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    # ---------------------------------------------------------------- events

    @overload
    def events(self, *, maxsize: int = 0) -> EventStream[Event]: ...
    @overload
    def events(self, kind: type[E], /, *kinds: type[E], maxsize: int = 0) -> EventStream[E]: ...
    def events(self, *kinds: type[Any], maxsize: int = 0) -> EventStream[Any]:
        """A stream of events (of the given classes only, if any), subscribed from this call.

        ``maxsize`` bounds the stream's queue: a consumer that falls further
        behind gets :class:`EventQueueOverflow` after the queued events. The
        stream ends when the client closes.
        """
        return self._hub.subscribe(kinds, maxsize)

    @overload
    def on(self, kind: type[E], handler: Handler[E], /) -> Handler[E]: ...
    @overload
    def on(self, kind: type[E], /) -> Callable[[_F], _F]: ...
    def on(self, kind: type[Any], handler: Handler[Any] | None = None, /) -> Any:
        """Call ``handler`` (sync or async) for every event of class ``kind``; usable as a decorator.

        Each handler runs in its own task, in event order; it never delays the
        socket or other consumers. Pass ``object`` to see every event.
        """
        kinds: tuple[type[Any], ...] = () if kind is object else (kind,)
        if handler is not None:
            self._hub.add_handler(kinds, handler)
            return handler

        def decorate(fn: _F) -> _F:
            self._hub.add_handler(kinds, fn)
            return fn

        return decorate

    def off(self, handler: Handler[Any]) -> None:
        """Stop calling ``handler``."""
        self._hub.remove_handler(handler)

    # -------------------------------------------------------------- messages

    async def send(
        self,
        conv: str,
        text: str | None = None,
        *,
        kind: str | None = None,
        body: dict[str, Any] | None = None,
        mentions: Iterable[str] = (),
        cmid: str | None = None,
    ) -> Message:
        """Send a message and return it as stored (``seq``, ``mid``, ``ts`` from the ack).

        Give ``text`` for a text message, or ``kind`` (``rich``/``custom``) and
        ``body``. The send survives reconnects and is stored exactly once (the
        ``cmid``, random by default, deduplicates resends). Temporary refusals
        (``rate_limited``, ``unavailable``) are retried with backoff until
        ``send_timeout``; then :class:`RequestTimeout` — the message may or may
        not be stored. Other refusals raise :class:`ReplyError`.
        """
        if text is not None:
            if body is not None:
                raise ValueError("give text or body, not both")
            kind, body = kind or "text", {"text": text}
        kind = kind or "text"
        body = body or {}
        welcome = self._conn.welcome  # the server's frame limit bounds a body too (once known)
        try:
            validate_body(kind, body, max_bytes=welcome.max_frame if welcome else 16 * 1024 * 1024)
        except ProtocolError as exc:
            raise ReplyError(exc.code.value, exc.message, Action.FATAL) from None
        if self._conn.state is ClientState.DISCONNECTED:
            raise ClientClosed("not connected: call connect() first")
        entry = self._outbox.add(conv, cmid or uuid.uuid4().hex, kind, body, list(mentions))
        attempt = 0
        try:
            async with asyncio.timeout(self.send_timeout):
                while True:
                    waiter = entry.arm()
                    await self._conn.transmit(entry)
                    try:
                        ack = await waiter
                    except ReplyError as exc:
                        if exc.action is Action.RECONNECT:
                            await self._conn.reconnect(refresh_token=exc.code == ErrorCode.TOKEN_EXPIRED)
                        elif not exc.temporary:
                            raise
                        else:
                            entry.backing_off = True
                            await asyncio.sleep(self._backoff.delay(attempt))
                            attempt += 1
                        continue
                    return Message(
                        conv=ack.conv, seq=ack.seq, mid=ack.mid, sender=self.user, kind=kind,
                        body=body if ack.body is None else ack.body,  # as stored (sensitive words masked)
                        ts=ack.ts, cmid=ack.cmid, mentions=tuple(entry.mentions),
                    )  # fmt: skip
        except TimeoutError:
            raise RequestTimeout(f"send not acknowledged within {self.send_timeout} s") from None
        finally:
            self._outbox.remove(entry)

    async def edit(
        self, conv: str, seq: int, text: str | None = None, *, body: dict[str, Any] | None = None
    ) -> Message | None:
        """Replace message ``seq``'s body (new ``text`` or ``body``); members get an ``EditEvent``.

        Returns the stored ``edit`` event when the server acknowledges it with a seq.
        """
        new_body = {"text": text} if text is not None else (body or {})
        reply = await self._request(lambda rid: f.Edit(id=rid, conv=conv, seq=seq, body=new_body), False)
        return self._event_message(reply, "edit", {"target": seq, "body": new_body})

    async def recall(self, conv: str, seq: int) -> Message | None:
        """Withdraw message ``seq``; members get a ``RecallEvent``. Returns the stored event if acked."""
        reply = await self._request(lambda rid: f.Recall(id=rid, conv=conv, seq=seq), False)
        return self._event_message(reply, "recall", {"target": seq})

    def _event_message(self, reply: Reply, kind: str, body: dict[str, Any]) -> Message | None:
        if not isinstance(reply, f.Ack):
            return None
        return Message(reply.conv, reply.seq, reply.mid, self.user, kind, body, reply.ts, reply.cmid)

    async def typing(self, conv: str, on: bool = True) -> None:
        """Tell members the user is (or stopped) typing. Best effort: dropped while disconnected."""
        await self._conn.write(f.Typing(conv=conv, on=on))

    async def draft(
        self,
        conv: str,
        draft: str,
        text: str | None = None,
        *,
        body: dict[str, Any] | None = None,
        done: bool = False,
    ) -> None:
        """Stream a message as it is written: send the whole text so far each time.

        Members get a :class:`DraftEvent`. Finish with ``send(conv, ..., cmid=draft)``;
        the stored message replaces the draft. Best effort: dropped while disconnected.
        """
        content = body if body is not None else {"text": text or ""}
        await self._conn.write(f.Draft(conv=conv, draft=draft, body=content, done=done))

    def _server_url(self) -> str:
        """The server's WebSocket URL (tracked links are resolved against it)."""
        return self._conn.url

    async def read(self, conv: str, seq: int) -> None:
        """Mark ``conv`` read up to ``seq``; members get a ``ReceiptEvent``."""
        await self._request(lambda rid: f.Read(id=rid, conv=conv, seq=seq))

    async def history(
        self, conv: str, *, before: int | None = None, after: int | None = None, limit: int = 50
    ) -> Page:
        """A page of stored messages: the latest, or those ``before``/``after`` a seq (ascending)."""
        reply = await self._request(
            lambda rid: f.History(id=rid, conv=conv, before=before, after=after, limit=limit)
        )
        assert isinstance(reply, f.Page)
        return Page(reply.conv, tuple(Message.from_wire(m) for m in reply.messages), reply.more)

    # --------------------------------------------------------------- presence

    async def subscribe_presence(self, users: Iterable[str]) -> None:
        """Receive ``PresenceEvent`` for ``users`` (current state first); kept across reconnects.

        Raises ``ReplyError`` ``forbidden`` for a user the app's presence policy hides (by
        default: anyone you share no conversation with) and ``limit_exceeded`` past the
        server's subscription caps; nothing is subscribed then.
        """
        wanted = sorted(set(users))
        await self._request(lambda rid: f.PresenceSub(id=rid, users=wanted))
        self._conn.presence.update(wanted)

    async def unsubscribe_presence(self, users: Iterable[str]) -> None:
        """Stop presence events for ``users``."""
        gone = sorted(set(users))
        self._conn.presence.difference_update(gone)
        await self._request(lambda rid: f.PresenceUnsub(id=rid, users=gone))

    # -------------------------------------------------------------- internals

    def _learn(self, info: f.ConvInfo) -> None:
        self._conn.streams.track(info.conv, info.last_seq, info.epoch)

    async def _request(self, build: Callable[[int], Any], idempotent: bool = True) -> Reply:
        if self._conn.state is ClientState.DISCONNECTED:
            raise ClientClosed("not connected: call connect() first")
        return await self._conn.request(build, idempotent=idempotent)
