"""Typed events the client emits.

Consume them with ``async for event in client.events()`` or register handlers
with ``client.on(EventType, handler)``. Every event is a frozen dataclass;
``match`` on the class or use ``isinstance``.

Messages arrive exactly once per conversation, in ``seq`` order: a
``MessageEvent`` for ordinary kinds, an ``EditEvent`` or ``RecallEvent`` when a
message is changed (those are messages too and carry their own ``seq``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from parley.proto.campaign import CampaignMarker
from parley.sdk.invites import Invitation
from parley.sdk.models import Conversation, Message

__all__ = [
    "CampaignEvent",
    "ClientState",
    "ConnectionStateEvent",
    "ConversationEvent",
    "EditEvent",
    "Event",
    "MessageEvent",
    "PresenceEvent",
    "RecallEvent",
    "ReceiptEvent",
    "ResetEvent",
    "TypingEvent",
    "DraftEvent",
    "DecodeErrorEvent",
]


class ClientState(enum.StrEnum):
    """Where the client stands.

    ``disconnected`` → ``connecting`` → ``connected``; a lost connection goes
    back to ``connecting`` (the client reconnects by itself); ``closed`` is
    final (``close()`` was called or the server refused the client for good).
    """

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class MessageEvent:
    """A new message (text, rich, custom or system) in ``message.conv``."""

    message: Message


@dataclass(frozen=True, slots=True)
class CampaignEvent:
    """A marketing message from the app's official account: published right after its
    :class:`MessageEvent`, with the typed marker (campaign, variant, topic, card, buttons, quick
    replies). Tap a button with :meth:`~parley.sdk.client.Client.click`."""

    message: Message
    campaign: CampaignMarker


@dataclass(frozen=True, slots=True)
class EditEvent:
    """Message ``target`` in ``conv`` was edited; ``body`` is its new body."""

    conv: str
    target: int
    body: dict[str, object]
    message: Message


@dataclass(frozen=True, slots=True)
class RecallEvent:
    """Message ``target`` in ``conv`` was recalled (withdrawn) by ``message.sender``."""

    conv: str
    target: int
    message: Message


@dataclass(frozen=True, slots=True)
class ReceiptEvent:
    """``user`` has read ``conv`` up to and including ``seq``."""

    conv: str
    user: str
    seq: int


@dataclass(frozen=True, slots=True)
class TypingEvent:
    """``user`` started (``on``) or stopped typing in ``conv``."""

    conv: str
    user: str
    on: bool


@dataclass(frozen=True, slots=True)
class DraftEvent:
    """``user`` is writing message ``draft`` in ``conv``; ``body`` is the whole content so far.

    The finished message arrives as a :class:`MessageEvent` whose
    ``message.cmid`` equals ``draft``: replace the draft with it. ``done``
    without such a message means the draft was abandoned.
    """

    conv: str
    user: str
    draft: str
    body: dict[str, object]
    done: bool = False


@dataclass(frozen=True, slots=True)
class PresenceEvent:
    """A subscribed ``user`` went online or offline (``last_seen`` in ms, 0 if unknown)."""

    user: str
    online: bool
    last_seen: int = 0


@dataclass(frozen=True, slots=True)
class ConversationEvent:
    """The user ``joined`` or ``left`` a conversation, or it was ``updated``."""

    event: str
    conversation: Conversation


@dataclass(frozen=True, slots=True)
class InvitationEvent:
    """Someone invited this user to a group (the app's ``invite`` add policy): accept with
    :meth:`~parley.sdk.client.Client.accept_invitation`, or decline."""

    invitation: Invitation


@dataclass(frozen=True, slots=True)
class SupportQueueEvent:
    """Agents only: the support ticket of ``conv`` entered (``state`` ``waiting_for_agent``) or left
    (any other ``state``) the waiting queue. A hint: call
    :meth:`~parley.sdk.client.Client.support_queue` for the queue itself."""

    conv: str
    state: str


@dataclass(frozen=True, slots=True)
class ResetEvent:
    """The stream of ``conv`` could not be resumed: drop local state and refetch history.

    The client continues from ``last_seq`` in stream ``epoch``; messages up to
    ``last_seq`` that were not delivered are only available through ``history``.
    """

    conv: str
    last_seq: int
    epoch: str


@dataclass(frozen=True, slots=True)
class ConnectionStateEvent:
    """The client moved from ``previous`` to ``state``.

    ``code`` is the WebSocket close code and ``reason`` the cause when a
    connection was lost or refused; ``error`` holds the exception for a fatal stop.
    """

    state: ClientState
    previous: ClientState
    code: int | None = None
    reason: str = ""
    error: BaseException | None = None


@dataclass(frozen=True, slots=True)
class DecodeErrorEvent:
    """A frame from the server could not be decoded and was skipped.

    ``code`` is the :class:`~parley.proto.errors.ErrorCode` value (``bad_frame``,
    ``invalid_frame``, ``frame_too_large``), ``frame_type`` the frame's ``t``
    (``"?"`` if unreadable) and ``size`` its length in bytes. A reply that cannot
    be decoded also fails its request with a :class:`~parley.sdk.errors.ReplyError`
    of the same code; a skipped ``msg`` is refetched by the next sync if later
    messages follow. Frames of types this SDK does not know (a newer server) are
    skipped without this event.
    """

    code: str
    message: str
    frame_type: str
    size: int
    request_id: int | None = None


Event = (
    MessageEvent
    | CampaignEvent
    | EditEvent
    | RecallEvent
    | ReceiptEvent
    | TypingEvent
    | DraftEvent
    | PresenceEvent
    | ConversationEvent
    | InvitationEvent
    | SupportQueueEvent
    | ResetEvent
    | ConnectionStateEvent
    | DecodeErrorEvent
)
"""Any event the client emits."""
