"""The words the server, the SDK and the bots must agree on, typed once.

Each is a :class:`enum.StrEnum`: a member *is* its wire string (``UserRole.BOT == "bot"``),
so stored rows, tokens and frames keep carrying plain strings while the code names
them. The frame and admin-schema ``Literal`` types that spell the same values are
checked against these enums by ``tests/proto/test_vocabulary.py``. Error codes are
:class:`parley.proto.errors.ErrorCode`.
"""

from __future__ import annotations

import enum

__all__ = ["BOT_SILENT_STATES", "MemberRole", "ReviewState", "SupportState", "UserRole"]


class UserRole(enum.StrEnum):
    """A user's role in an app, carried in its token (``role`` claim)."""

    #: An ordinary user (a customer in a support conversation).
    USER = "user"
    #: A human support agent: claims, transfers, resolves tickets; reads profiles.
    AGENT = "agent"
    #: A bot (an SDK client): answers in support conversations until an agent takes over.
    BOT = "bot"


class MemberRole(enum.StrEnum):
    """A member's role in one conversation."""

    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class SupportState(enum.StrEnum):
    """Where a support conversation's hand-off stands (the ticket's ``state``).

    ``BOT`` → (hand-off) ``WAITING_FOR_AGENT`` → (claim) ``AGENT`` → (resolve) ``RESOLVED``;
    an agent may also claim straight from ``BOT``, and a release returns it to ``BOT``."""

    BOT = "bot"
    WAITING_FOR_AGENT = "waiting_for_agent"
    AGENT = "agent"
    RESOLVED = "resolved"


#: States in which the server refuses every frame a bot writes into the conversation
#: (send, edit, recall, typing, draft, and changes to the conversation): from the hand-off on
#: — the customer waits for an agent, an agent owns it, or it is closed. The bot says that an
#: agent is coming *before* it hands off; after that, the customer hears people, not the bot.
#: ``bots/runner.py`` keeps quiet in exactly these states: one rule, enforced by the server.
BOT_SILENT_STATES: frozenset[SupportState] = frozenset(
    {SupportState.WAITING_FOR_AGENT, SupportState.AGENT, SupportState.RESOLVED}
)


class ReviewState(enum.StrEnum):
    """Where an item of the moderation review queue stands."""

    OPEN = "open"
    RESOLVED = "resolved"
