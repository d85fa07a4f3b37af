"""Frames the server sends to a client: replies, pushed messages and events.

A reply carries the ``id`` of the request it answers; pushed frames (``msg``,
``receipt``, ``typing_event``, ``presence``, ``conv_event``, ``resync``, ``bye``)
carry none. Import these from :mod:`parley.proto.frames`, which re-exports every
name here and builds ``ServerFrame`` from them.
"""

from __future__ import annotations

from parley.proto.frames_base import Body, _Frame
from parley.proto.frames_records import ConvInfo, ConvSummary, MemberInfo, Message, ProfileInfo, SyncState

__all__ = [
    "Ack",
    "Bye",
    "ConvEvent",
    "ConvListResult",
    "ConvResult",
    "DraftEvent",
    "Error",
    "MemberPage",
    "Msg",
    "Ok",
    "Page",
    "Pong",
    "Presence",
    "ProfileResult",
    "Receipt",
    "Resync",
    "Synced",
    "SupportList",
    "TypingEvent",
    "Welcome",
]


class Welcome(_Frame, tag="welcome"):
    """Authentication succeeded. ``heartbeat_ms``: send ``ping`` at least this often (milliseconds);
    ``max_frame``: the largest frame (bytes) the server accepts."""

    v: int
    session: str
    app: str
    user: str
    node: str
    ts: int
    heartbeat_ms: int
    max_frame: int


class Pong(_Frame, tag="pong"):
    """Reply to ``ping``, echoing its ``ts``."""

    ts: int = 0


class Ack(_Frame, tag="ack"):
    """The message is persisted. ``dup`` marks a resend answered with the original ack."""

    id: int
    conv: str
    cmid: str
    mid: str
    seq: int
    ts: int
    dup: bool = False
    #: The stored body when the server changed it (the app's sensitive words masked); absent
    #: when it is the body that was sent.
    body: Body | None = None


class Msg(_Frame, tag="msg"):
    """A message pushed to a member (also used for ``sync`` catch-up).

    It carries no epoch: clients learn a conversation's epoch from ``synced``,
    ``conv_event`` and ``conv`` replies.
    """

    m: Message


class Receipt(_Frame, tag="receipt"):
    """``user``'s read position in ``conv`` moved to ``seq`` (sent to every member connection)."""

    conv: str
    user: str
    seq: int


class TypingEvent(_Frame, tag="typing_event"):
    """Another member started or stopped typing; ephemeral, expire it if not refreshed."""

    conv: str
    user: str
    on: bool = True


class DraftEvent(_Frame, tag="draft_event"):
    """Another member's draft grew (see :class:`Draft`)."""

    conv: str
    user: str
    draft: str
    body: Body
    done: bool = False


class Presence(_Frame, tag="presence"):
    """A watched user's presence: online, or offline and when last seen (ms)."""

    user: str
    online: bool
    last_seen: int = 0


class ConvEvent(_Frame, tag="conv_event"):
    """The user joined, left or saw a change to a conversation.

    On ``joined``, ``conv.last_seq`` is the join point: the member receives
    messages after it live; earlier ones (such as a new group's ``created``
    event) are history.
    """

    #: ``joined`` | ``left`` | ``updated`` — an open string, so new events never break old clients.
    event: str
    conv: ConvInfo


class Ok(_Frame, tag="ok"):
    """Request ``id`` succeeded and has nothing more to say."""

    id: int


class ConvResult(_Frame, tag="conv"):
    """Reply to ``conv_create``, ``conv_get`` and ``conv_update``: the conversation with its members."""

    id: int
    conv: ConvInfo


class ConvListResult(_Frame, tag="convs"):
    """Reply to ``conv_list``: one page in conversation id order; ``more`` asks for another."""

    id: int
    convs: list[ConvSummary]
    more: bool = False


class MemberPage(_Frame, tag="members"):
    """Reply to ``member_list``: one page of members in user id order; ``more`` asks for another."""

    id: int
    conv: str
    members: list[MemberInfo]
    more: bool = False


class Page(_Frame, tag="page"):
    """Reply to ``history``: messages in ascending seq, in their current state; ``more``: more lie beyond."""

    id: int
    conv: str
    messages: list[Message]
    more: bool = False


class Synced(_Frame, tag="synced"):
    """Ends a ``sync``: the outcome per conversation; a non-empty ``next`` means more pages follow."""

    id: int
    convs: list[SyncState]
    next: str = ""


class SupportList(_Frame, tag="support_list"):
    """Reply to ``support_queue``: ``waiting`` oldest first, and the agent's ``mine``."""

    id: int
    waiting: list[ConvInfo]
    mine: list[ConvInfo] = []


class SupportQueueEvent(_Frame, tag="support_queue_event"):
    """Pushed to every agent of the app when a ticket enters or leaves the waiting queue (no request).

    Agents are not members of a waiting conversation, so this is how the queue reaches them
    without polling: ``state`` is the ticket's state now (``waiting_for_agent``: it entered the
    queue; anything else: it left it). Ask ``support_queue`` for the queue itself.
    """

    conv: str
    state: str


class ProfileResult(_Frame, tag="profile"):
    """Reply to ``profile_get``: the customer's profile as it is now (expired tags left out)."""

    id: int
    profile: ProfileInfo


class Error(_Frame, tag="error"):
    """A refused request (``id`` set) or a connection-level problem (``id`` absent)."""

    code: str
    message: str
    action: str
    id: int | None = None


class Resync(_Frame, tag="resync"):
    """Live delivery may have missed messages (e.g. the broker had an outage):
    send ``sync`` for ``convs``, or for every conversation if ``convs`` is empty."""

    convs: list[str] = []


class Bye(_Frame, tag="bye"):
    """The server is closing this connection; reconnect after ``reconnect_ms``."""

    reason: str
    reconnect_ms: int = 0
