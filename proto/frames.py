"""Every frame of the Parley wire protocol, defined once.

A frame is a MessagePack map whose ``"t"`` key names its type; the other keys
are the frame's fields. Fields with defaults may be omitted on the wire (and are
omitted by the encoder when they hold their default). Unknown keys are ignored
so that newer peers can add optional fields without breaking older ones.

Requests from the client carry an ``id`` (a client-chosen integer); the
server's reply — a typed result or an ``error`` frame — carries the same ``id``.
Timestamps are integer milliseconds since the Unix epoch.

The frames are defined by role in sibling modules — :mod:`~parley.proto.frames_base`
(bases and bounded field types), :mod:`~parley.proto.frames_records` (maps nested in
frames), :mod:`~parley.proto.frames_client`, :mod:`~parley.proto.frames_server`,
:mod:`~parley.proto.frames_safety`, :mod:`~parley.proto.frames_invites` and
:mod:`~parley.proto.frames_audience` — and all are imported from here: this module
re-exports every one of them and builds the two unions the decoders use.
"""

from __future__ import annotations

from parley.proto.frames_audience import ConsentSet, Identified, IdentifierInput, Identify, ProfileSet
from parley.proto.frames_base import Body as Body
from parley.proto.frames_base import ClientMsgId as ClientMsgId
from parley.proto.frames_base import ConvKind as ConvKind
from parley.proto.frames_base import Id as Id
from parley.proto.frames_base import Limit as Limit
from parley.proto.frames_base import Name as Name
from parley.proto.frames_base import RequestId as RequestId
from parley.proto.frames_base import Role as Role
from parley.proto.frames_base import SendKind as SendKind
from parley.proto.frames_base import Seq as Seq
from parley.proto.frames_base import Summary as Summary
from parley.proto.frames_base import SupportReason as SupportReason
from parley.proto.frames_base import TagName as TagName
from parley.proto.frames_base import UserList as UserList
from parley.proto.frames_base import _Frame as _Frame
from parley.proto.frames_base import _Record as _Record
from parley.proto.frames_client import (
    ConvCreate,
    ConvGet,
    ConvList,
    ConvUpdate,
    Draft,
    Edit,
    Hello,
    History,
    Leave,
    MemberAdd,
    MemberList,
    MemberRemove,
    MemberRole,
    Ping,
    PresenceSub,
    PresenceUnsub,
    ProfileGet,
    ProfileTag,
    Read,
    Recall,
    Send,
    SupportClaim,
    SupportHandoff,
    SupportNote,
    SupportQueue,
    SupportRate,
    SupportRelease,
    SupportResolve,
    SupportTransfer,
    Sync,
    Typing,
)
from parley.proto.frames_events import Track, TrackResult
from parley.proto.frames_invites import (
    InvitationInfo,
    Invitations,
    InviteAccept,
    Invited,
    InviteDecline,
    InviteList,
)
from parley.proto.frames_records import (
    ConvInfo,
    ConvSummary,
    MemberInfo,
    Message,
    Position,
    ProfileInfo,
    SyncState,
    Tag,
    TagInput,
)
from parley.proto.frames_safety import Block, BlockInfo, BlockList, Blocks, Report, Unblock
from parley.proto.frames_server import (
    Ack,
    Bye,
    ConvEvent,
    ConvListResult,
    ConvResult,
    DraftEvent,
    Error,
    MemberPage,
    Msg,
    Ok,
    Page,
    Pong,
    Presence,
    ProfileResult,
    Receipt,
    Resync,
    SupportList,
    SupportQueueEvent,
    Synced,
    TypingEvent,
    Welcome,
)

__all__ = [
    "ProfileResult",
    "ProfileInfo",
    "ProfileTag",
    "ProfileGet",
    "Tag",
    "TagInput",
    "SupportList",
    "SupportQueueEvent",
    "SupportNote",
    "SupportQueue",
    "SupportRate",
    "SupportResolve",
    "SupportRelease",
    "SupportTransfer",
    "SupportClaim",
    "SupportHandoff",
    "PROTOCOL_VERSION",
    "SUPPORTED_VERSIONS",
    "Ack",
    "Bye",
    "ClientFrame",
    "ConvCreate",
    "ConvEvent",
    "ConvGet",
    "ConvInfo",
    "ConvList",
    "ConvListResult",
    "ConvResult",
    "ConvSummary",
    "ConvUpdate",
    "Draft",
    "DraftEvent",
    "Edit",
    "Error",
    "Hello",
    "History",
    "Leave",
    "MemberAdd",
    "MemberInfo",
    "MemberList",
    "MemberPage",
    "MemberRemove",
    "MemberRole",
    "Message",
    "Msg",
    "Ok",
    "Page",
    "Ping",
    "Pong",
    "Position",
    "Presence",
    "PresenceSub",
    "PresenceUnsub",
    "Read",
    "Receipt",
    "Recall",
    "Resync",
    "Send",
    "ServerFrame",
    "Sync",
    "SyncState",
    "Synced",
    "Typing",
    "TypingEvent",
    "Welcome",
    # proto/frames_safety.py
    "Block",
    "BlockInfo",
    "BlockList",
    "Blocks",
    "Unblock",
    "Report",
    # proto/frames_audience.py
    "ConsentSet",
    "IdentifierInput",
    "Identified",
    "Identify",
    "ProfileSet",
    # proto/frames_invites.py
    "InvitationInfo",
    "Invitations",
    "InviteAccept",
    "InviteDecline",
    "InviteList",
    "Invited",
    # proto/frames_events.py
    "Track",
    "TrackResult",
]

#: The protocol version this code speaks.
PROTOCOL_VERSION = 1
#: Versions the server accepts in ``hello``.
SUPPORTED_VERSIONS = frozenset({1})

# The order of each union is the order it always had: msgspec dispatches on the tag, so the
# order does not change decoding, but keeping it keeps the decoders built exactly as before.
ClientFrame = (
    Hello
    | Ping
    | Send
    | Edit
    | Recall
    | Typing
    | Draft
    | Read
    | Sync
    | History
    | ConvCreate
    | ConvGet
    | ConvList
    | ConvUpdate
    | MemberAdd
    | MemberRemove
    | MemberRole
    | Leave
    | MemberList
    | PresenceSub
    | PresenceUnsub
    | SupportHandoff
    | SupportClaim
    | SupportTransfer
    | SupportRelease
    | SupportResolve
    | SupportRate
    | SupportQueue
    | SupportNote
    | ProfileGet
    | ProfileTag
    | Block
    | Unblock
    | BlockList
    | Report
    | InviteList
    | InviteAccept
    | InviteDecline
    | Track
    | Identify
    | ProfileSet
    | ConsentSet
)

ServerFrame = (
    Welcome
    | Pong
    | Ack
    | Msg
    | Receipt
    | TypingEvent
    | DraftEvent
    | Presence
    | ConvEvent
    | Ok
    | ConvResult
    | ConvListResult
    | Page
    | MemberPage
    | Synced
    | SupportList
    | SupportQueueEvent
    | ProfileResult
    | Error
    | Resync
    | Bye
    | Blocks
    | Invitations
    | Invited
    | TrackResult
    | Identified
)
