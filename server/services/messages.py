"""Sending, editing and recalling messages.

The send path: validate → append (group commit; assigns seq, dedupes by
cmid) → encode the ``msg`` frame once → publish its bytes on the conversation
channel → return to the caller, who acks. Authorisation of the sender happens
before (the gateway checks its cached membership; the admin API asks the store).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any

from parley.proto import encode, frames
from parley.proto.content import MAX_BODY_BYTES, validate_body
from parley.proto.errors import ErrorCode, ProtocolError
from parley.proto.plain import problem
from parley.server.channels import conv_channel
from parley.server.errors import ServiceError
from parley.server.ids import IdSequence, now_ms
from parley.server.models import Appended, NewMessage, StoredMessage
from parley.server.ports import Broker
from parley.server.services.batching import AppendBatcher
from parley.server.services.fanout import BrokerFanOut, FanOut
from parley.server.services.wire import wire_message
from parley.server.store_ports import MessageLog

__all__ = ["MessageService"]

log = logging.getLogger("parley.messages")

EDITABLE_KINDS = frozenset({"text", "rich", "custom"})


class MessageService:
    """Sends, edits and recalls messages over the :class:`MessageLog` port (see the module docstring).

    Sends are group-committed by an :class:`AppendBatcher`; a stored message is encoded once and
    published once through the :class:`FanOut` before its future resolves, and a duplicate
    (same sender and cmid) is returned with ``duplicate=True`` and not published again.
    """

    def __init__(
        self,
        store: MessageLog,
        broker: Broker,
        *,
        max_batch: int = 256,
        fanout: FanOut | None = None,
        max_body: int = MAX_BODY_BYTES,
    ) -> None:
        self._store = store
        #: Largest encoded body accepted, in bytes (the gateway's frame limit, so every path agrees).
        self._max_body = max_body
        self._broker = broker
        #: Where stored messages go out (the gateway's skips the sender and counts).
        self._fanout: FanOut = fanout if fanout is not None else BrokerFanOut(broker)
        self._batcher = AppendBatcher(store, self._publish_stored, max_batch=max_batch)
        self._mids = IdSequence("m")
        #: Messages persisted by this node (metrics).
        self.persisted = 0
        #: Called with every stored batch after it is published (see :meth:`observe`).
        self._observers: list[Callable[[Sequence[Appended]], None]] = []

    def observe(self, observer: Callable[[Sequence[Appended]], None]) -> None:
        """Call ``observer`` with every stored batch, after its fan-out (the official account's opt-out
        listener). It runs on the send path: it must only look and schedule, never await or block."""
        self._observers.append(observer)

    @property
    def batches(self) -> int:
        """Successful store appends so far: one per group commit (or per message re-appended alone
        after its batch failed)."""
        return self._batcher.batches

    def _publish_stored(self, results: Sequence[Appended]) -> None:
        fanout = self._fanout
        fanout.stored(results)
        for result in results:
            if result.duplicate:
                continue
            m = result.message
            self.persisted += 1
            fanout.publish(conv_channel(m.app, m.conv), encode(frames.Msg(m=wire_message(m))), m.mid)
        for observer in self._observers:
            try:
                observer(results)
            except Exception:  # an observer's bug must not fail the senders' acks
                log.exception("message observer failed")

    async def send(
        self,
        app: str,
        sender: str,
        conv: str,
        *,
        kind: str,
        body: dict[str, Any],
        cmid: str | None = None,
        mentions: Sequence[str] = (),
    ) -> Appended:
        """Persist and fan out one message. The caller has checked membership."""
        return await self.submit(app, sender, conv, kind=kind, body=body, cmid=cmid, mentions=mentions)

    def submit(
        self,
        app: str,
        sender: str,
        conv: str,
        *,
        kind: str,
        body: dict[str, Any],
        cmid: str | None = None,
        mentions: Sequence[str] = (),
        origin: object | None = None,
    ) -> asyncio.Future[Appended]:
        """:meth:`send` without a coroutine: validates now (raises ``ServiceError``) and returns
        a future that resolves once the message is stored and published.

        ``origin``: an opaque token of the caller's (the gateway's sending connection), handed
        to the :class:`~parley.server.services.fanout.FanOut` with the message's mid."""
        self._validate(kind, body)
        return self._enqueue(app, sender, conv, kind, body, cmid, mentions, origin)

    def _enqueue(
        self,
        app: str,
        sender: str,
        conv: str,
        kind: str,
        body: dict[str, Any],
        cmid: str | None,
        mentions: Sequence[str],
        origin: object | None,
    ) -> asyncio.Future[Appended]:
        mid = self._mids.next()
        if origin is not None:
            self._fanout.expect(mid, origin)
        message = NewMessage(
            app=app,
            conv=conv,
            mid=mid,
            sender=sender,
            cmid=cmid or mid,
            kind=kind,
            body=body,
            ts=now_ms(),
            mentions=tuple(dict.fromkeys(mentions)),
        )
        return self._batcher.submit(message)

    def _validate(self, kind: str, body: dict[str, Any]) -> None:
        """The one body check of every path (gateway and admin API): see :func:`validate_body`."""
        try:
            validate_body(kind, body, max_bytes=self._max_body)
        except ProtocolError as exc:
            raise ServiceError(exc.code, exc.message) from None

    async def system_event(self, app: str, conv: str, actor: str, event: str, **fields: Any) -> Appended:
        """Append a ``system`` message recording a conversation event (members, name...).

        Written by the server, so not held to the client's size bound (adding 1 000
        members names them all); its values were validated where they came in."""
        body = {"event": event, **fields}
        why = problem(body)
        if why:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"invalid body: {why}")
        return await self._enqueue(app, actor, conv, "system", body, None, (), None)

    async def _own_message(
        self, app: str, conv: str, seq: int, actor: str, may_moderate: bool
    ) -> StoredMessage:
        found = await self._store.get_messages(app, conv, seq, seq)
        if not found:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no message {seq} in {conv}")
        original = found[0]
        if original.recalled:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "the message was recalled")
        if original.kind not in EDITABLE_KINDS:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"{original.kind} messages cannot change")
        if original.sender != actor and not may_moderate:
            raise ServiceError(ErrorCode.FORBIDDEN, "only the sender may change this message")
        return original

    async def edit(self, app: str, actor: str, conv: str, seq: int, body: dict[str, Any]) -> Appended:
        """Replace a message's body and append an ``edit`` event that syncs to every member."""
        original = await self._own_message(app, conv, seq, actor, may_moderate=False)
        self._validate(original.kind, body)
        if problem({"body": body}, keys=False):  # the edit record nests the body one level deeper
            raise ServiceError(ErrorCode.INVALID_REQUEST, "invalid body: nested too deeply for an edit")
        edited = await self._store.edit_message(app, conv, seq, body, now_ms())
        if edited is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no message {seq} in {conv}")
        if edited.recalled:  # recalled since the check above: the tombstone stays as it is
            raise ServiceError(ErrorCode.INVALID_REQUEST, "the message was recalled")
        appended = await self._event(app, actor, conv, "edit", {"target": seq, "body": body})
        # A recall between our edit and this record's append scrubbed the records before it,
        # not this one: recall again (idempotent) so the edited text never outlives a recall.
        current = await self._store.get_messages(app, conv, seq, seq)
        if current and current[0].recalled:
            await self._store.recall_message(app, conv, seq)
        return appended

    async def recall(self, app: str, actor: str, conv: str, seq: int, *, may_moderate: bool) -> Appended:
        """Tombstone a message and append a ``recall`` event."""
        await self._own_message(app, conv, seq, actor, may_moderate=may_moderate)
        if await self._store.recall_message(app, conv, seq) is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no message {seq} in {conv}")
        return await self._event(app, actor, conv, "recall", {"target": seq})

    async def _event(self, app: str, actor: str, conv: str, kind: str, body: dict[str, Any]) -> Appended:
        mid = self._mids.next()
        message = NewMessage(
            app=app,
            conv=conv,
            mid=mid,
            sender=actor,
            cmid=f"{kind}:{mid}",
            kind=kind,
            body=body,
            ts=now_ms(),
        )
        return await self._batcher.append(message)
