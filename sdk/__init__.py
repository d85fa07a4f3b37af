"""Parley's Python SDK: embed chat in an app, or drive Parley from a back-end.

* :class:`Client` — a user's real-time connection (send, receive, typing,
  receipts, presence, conversations), with reconnect, resume and dedupe built in.
* Blocking (:meth:`Client.block`, :meth:`Client.unblock`, :meth:`Client.blocked_users`
  with :class:`BlockedUser` results).
* Group invitations (:meth:`Client.invitations`, :meth:`Client.accept_invitation`,
  :meth:`Client.decline_invitation`; :class:`InvitationEvent` with an :class:`Invitation`).
* Audience events (:meth:`Client.track` with a :class:`TrackedEvent` result).
* Customer service (:meth:`Client.handoff`, :meth:`Client.claim`, ...,
  :meth:`Client.profile`, :meth:`Client.tag`) with :class:`Profile`, :class:`Tag`
  and :class:`SupportQueue` results.
* :class:`AdminClient` — the HTTP admin API for back-ends (users, tokens,
  conversations, server-side sends, export; moderation: disable, revoke, mute,
  secret rotation, API keys, with :class:`UserStatus`, :class:`Mute` and
  :class:`AuditRecord` results; named leases with :class:`LeaseInfo`: which of several
  processes of an app is active).
"""

from parley.sdk.admin import AdminClient, MessagePage, Token, User
from parley.sdk.admin_audience import AudienceProfile, AudienceTag, IdentifyResult, MergeInfo
from parley.sdk.admin_leases import LeaseInfo
from parley.sdk.admin_moderation import AuditRecord, Mute, UserStatus
from parley.sdk.admin_policy import AppPolicy
from parley.sdk.client import Client
from parley.sdk.dispatch import EventStream, Handler
from parley.sdk.errors import (
    AdminError,
    BodyTooLarge,
    ClientClosed,
    ConnectionClosed,
    EventQueueOverflow,
    ParleyError,
    RateLimited,
    ReplyError,
    RequestTimeout,
)
from parley.sdk.events import (
    CampaignEvent,
    ClientState,
    ConnectionStateEvent,
    ConversationEvent,
    DecodeErrorEvent,
    DraftEvent,
    EditEvent,
    Event,
    InvitationEvent,
    MessageEvent,
    PresenceEvent,
    RecallEvent,
    ReceiptEvent,
    ResetEvent,
    SupportQueueEvent,
    TypingEvent,
)
from parley.sdk.invites import Invitation
from parley.sdk.models import Conversation, ConversationSummary, Member, Message, Page
from parley.sdk.safety import BlockedUser
from parley.sdk.support import Profile, SupportQueue, Tag, support_state
from parley.sdk.tracking import TrackedEvent

__all__ = [
    "AdminClient",
    "CampaignEvent",
    "AdminError",
    "AppPolicy",
    "AudienceProfile",
    "AudienceTag",
    "IdentifyResult",
    "LeaseInfo",
    "MergeInfo",
    "AuditRecord",
    "BodyTooLarge",
    "BlockedUser",
    "Client",
    "ClientClosed",
    "ClientState",
    "ConnectionClosed",
    "ConnectionStateEvent",
    "Conversation",
    "ConversationEvent",
    "ConversationSummary",
    "DecodeErrorEvent",
    "DraftEvent",
    "EditEvent",
    "Event",
    "EventQueueOverflow",
    "EventStream",
    "Handler",
    "Invitation",
    "InvitationEvent",
    "SupportQueueEvent",
    "Member",
    "Mute",
    "Message",
    "MessageEvent",
    "MessagePage",
    "Page",
    "Profile",
    "ParleyError",
    "PresenceEvent",
    "RecallEvent",
    "ReceiptEvent",
    "RateLimited",
    "ReplyError",
    "RequestTimeout",
    "ResetEvent",
    "SupportQueue",
    "Tag",
    "TrackedEvent",
    "Token",
    "TypingEvent",
    "User",
    "UserStatus",
    "support_state",
]
