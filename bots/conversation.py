"""What the bot knows about each conversation it serves (:class:`~parley.bots.runner.SupportBot`)."""

from __future__ import annotations

import asyncio
from collections import deque
from dataclasses import dataclass, field

from parley.bots.answer import Citation, Turn
from parley.proto.vocabulary import SupportState
from parley.sdk import Message

__all__ = ["ConversationState"]


@dataclass
class ConversationState:
    """What the bot knows about one support conversation."""

    conv: str
    support: bool = True
    state: str = SupportState.BOT
    agent: str = ""
    customers: set[str] = field(default_factory=set)
    low_streak: int = 0
    negative_streak: int = 0
    turns: deque[Turn] = field(default_factory=lambda: deque(maxlen=20))
    #: seq of each bot answer → the chunk ids it cited (for feedback).
    answers: dict[int, list[str]] = field(default_factory=dict)
    #: The passages of the bot's last answers, for the agent's hand-over summary.
    cited: deque[Citation] = field(default_factory=lambda: deque(maxlen=3))
    #: The last seq handled (answered, or deliberately left alone).
    handled: int = 0
    pending: deque[Message] = field(default_factory=deque)
    #: Standing by: customer messages (by mid) the active bot process has not answered yet.
    unanswered: dict[str, Message] = field(default_factory=dict)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    worker: asyncio.Task[None] | None = None
