"""The services a connection's frames are routed to: what the :class:`~parley.server.gateway.router.Router`
and its handler tables get, instead of the node's whole :class:`~parley.server.services.Services`.

The composition root (``node.py``) builds one per node with :meth:`RouteServices.of`. A
frame handler reaches only the fields below, so what the WebSocket API can touch is written
here: not the token verifier, the app directory, moderation, knowledge, the console,
campaigns, segments or the audience passes (the admin API's and the node's own business).
A new handler that needs another service adds the field here, in sight of review.
"""

from __future__ import annotations

from dataclasses import dataclass

from parley.server.services import Services
from parley.server.services.audience import AudienceService
from parley.server.services.conversations import ConversationService
from parley.server.services.events import EventService
from parley.server.services.history import HistoryService
from parley.server.services.identity import IdentityService
from parley.server.services.invites import InvitationService
from parley.server.services.messages import MessageService
from parley.server.services.presence import PresenceService
from parley.server.services.profiles import ProfileService
from parley.server.services.reach import ReachPolicy
from parley.server.services.receipts import ReceiptService
from parley.server.services.safety import SafetyService
from parley.server.services.support import SupportService
from parley.server.services.words import WordFilter

__all__ = ["RouteServices"]


@dataclass(frozen=True, slots=True)
class RouteServices:
    """The services that client frames are routed to (see the module doc)."""

    messages: MessageService
    conversations: ConversationService
    receipts: ReceiptService
    presence: PresenceService
    history: HistoryService
    support: SupportService
    profiles: ProfileService
    safety: SafetyService
    reach: ReachPolicy
    words: WordFilter
    invites: InvitationService
    events: EventService
    audience: AudienceService
    identity: IdentityService

    @classmethod
    def of(cls, s: Services) -> RouteServices:
        """The routed part of a node's services (the same objects, not copies)."""
        return cls(
            messages=s.messages,
            conversations=s.conversations,
            receipts=s.receipts,
            presence=s.presence,
            history=s.history,
            support=s.support,
            profiles=s.profiles,
            safety=s.safety,
            reach=s.reach,
            words=s.words,
            invites=s.invites,
            events=s.events,
            audience=s.audience,
            identity=s.identity,
        )
