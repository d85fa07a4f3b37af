"""Route decoded server frames: replies to waiting requests, messages and events to the hub.

Called by the read loop for every frame; it only updates in-memory state and
calls ``put_nowait`` on consumer queues — it never awaits.
"""

from __future__ import annotations

import logging
from typing import Protocol

from parley.proto import frames as f
from parley.proto.codec import peek_type
from parley.proto.errors import ErrorCode, FrameError
from parley.sdk.campaigns import campaign_of
from parley.sdk.dispatch import EventHub
from parley.sdk.events import (
    CampaignEvent,
    ConversationEvent,
    DecodeErrorEvent,
    DraftEvent,
    EditEvent,
    InvitationEvent,
    MessageEvent,
    PresenceEvent,
    RecallEvent,
    ReceiptEvent,
    SupportQueueEvent,
    TypingEvent,
)
from parley.sdk.invites import Invitation
from parley.sdk.models import Conversation, Message
from parley.sdk.outbox import Outbox, OutboxEntry
from parley.sdk.requests import REPLY_FRAMES, PendingRequests
from parley.sdk.streams import Streams

__all__ = ["FrameRouter", "SessionHooks"]

log = logging.getLogger("parley.sdk")


class SessionHooks(Protocol):
    """What the router asks of the connection."""

    @property
    def user(self) -> str:
        """The authenticated user id (the sender of this client's own messages)."""

    def sync_if_still_held(self, conv: str) -> None:
        """Soon, sync ``conv`` if messages are still held back there waiting for a gap."""

    def want_sync(self, conv: str) -> None:
        """A gap appeared in ``conv``: sync it."""

    def on_bye(self, bye: f.Bye) -> None:
        """The server announced a graceful close."""

    def on_connection_error(self, error: f.Error) -> None:
        """An ``error`` frame without a request id (the connection is about to close)."""


class FrameRouter:
    """Turns server frames into resolved requests and published events."""

    def __init__(
        self, hub: EventHub, streams: Streams, outbox: Outbox, requests: PendingRequests, hooks: SessionHooks
    ) -> None:
        self._hub = hub
        self._streams = streams
        self._outbox = outbox
        self._requests = requests
        self._hooks = hooks

    def undecodable(self, error: FrameError, data: bytes) -> None:
        """A frame failed to decode: publish a :class:`DecodeErrorEvent` and fail its request."""
        if error.code is ErrorCode.UNKNOWN_FRAME:  # a newer server's frame type: skipped by design
            log.debug("parley: skipped a frame of an unknown type: %s", error)
            return
        log.warning("parley: an undecodable frame: %s", error)
        code = error.code.value
        self._hub.publish(DecodeErrorEvent(code, error.message, peek_type(data), len(data), error.request_id))
        if error.request_id is not None:  # action "fatal": the same reply would fail again
            self._requests.resolve(
                f.Error(code=code, message=error.message, action="fatal", id=error.request_id)
            )

    def dispatch(self, frame: f.ServerFrame) -> None:
        """Handle one frame from the server."""
        hub = self._hub
        if isinstance(frame, f.Msg):
            deliver, gap = self._streams.on_message(frame.m)
            self.deliver(deliver)
            if gap:
                self._hooks.want_sync(frame.m.conv)
        elif isinstance(frame, f.Ack):
            entry = self._outbox.resolve_ack(frame)
            if entry is None:
                self._requests.resolve(frame)
            else:
                self._own_message(entry, frame)
        elif isinstance(frame, REPLY_FRAMES):
            self._requests.resolve(frame)
        elif isinstance(frame, f.Error):
            if frame.id is None:
                log.warning("parley: connection error %s: %s", frame.code, frame.message)
                self._hooks.on_connection_error(frame)
            elif not self._outbox.resolve_error(frame):
                self._requests.resolve(frame)
        elif isinstance(frame, f.Receipt):
            hub.publish(ReceiptEvent(frame.conv, frame.user, frame.seq))
        elif isinstance(frame, f.TypingEvent):
            hub.publish(TypingEvent(frame.conv, frame.user, frame.on))
        elif isinstance(frame, f.DraftEvent):
            hub.publish(DraftEvent(frame.conv, frame.user, frame.draft, frame.body, frame.done))
        elif isinstance(frame, f.Presence):
            hub.publish(PresenceEvent(frame.user, frame.online, frame.last_seen))
        elif isinstance(frame, f.ConvEvent):
            if frame.event == "left":
                self._streams.forget(frame.conv.conv)
            else:
                self._streams.track(frame.conv.conv, frame.conv.last_seq, frame.conv.epoch)
            hub.publish(ConversationEvent(frame.event, Conversation.from_wire(frame.conv)))
        elif isinstance(frame, f.Invited):
            hub.publish(InvitationEvent(Invitation.from_wire(frame.invitation)))
        elif isinstance(frame, f.SupportQueueEvent):
            hub.publish(SupportQueueEvent(frame.conv, frame.state))
        elif isinstance(frame, f.Resync):
            for conv in frame.convs or [p.conv for p in self._streams.positions()]:
                self._hooks.want_sync(conv)
        elif isinstance(frame, f.Bye):
            self._hooks.on_bye(frame)

    def _own_message(self, entry: OutboxEntry, ack: f.Ack) -> None:
        """The server does not echo a send to the connection that sent it: the ack completes
        the message, which then takes its place in the conversation's stream like any other.

        It may overtake others' messages sent just before it (they come through the
        broker); it then waits for them like a message after a gap, but the sync for the
        gap is only asked for if they do not show up soon.
        """
        wire = f.Message(
            conv=ack.conv,
            seq=ack.seq,
            mid=ack.mid,
            sender=self._hooks.user,
            kind=entry.kind,
            body=entry.body if ack.body is None else ack.body,  # as stored (sensitive words masked)
            ts=ack.ts,
            cmid=ack.cmid,
            mentions=list(entry.mentions),
        )
        deliver, gap = self._streams.on_message(wire)
        self.deliver(deliver)
        if gap:
            self._hooks.sync_if_still_held(ack.conv)

    def deliver(self, messages: list[f.Message]) -> None:
        """Publish in-order messages as ``MessageEvent``/``EditEvent``/``RecallEvent``."""
        for wire in messages:
            m = Message.from_wire(wire)
            target = m.target
            if m.kind == "edit" and target is not None:
                if m.recalled:
                    continue  # the target was recalled since: the recall record follows
                body = m.body.get("body")
                self._hub.publish(EditEvent(m.conv, target, body if isinstance(body, dict) else {}, m))
            elif m.kind == "recall" and target is not None:
                self._hub.publish(RecallEvent(m.conv, target, m))
            else:
                self._hub.publish(MessageEvent(m))
                marker = campaign_of(m)
                if marker is not None:
                    self._hub.publish(CampaignEvent(m, marker))
