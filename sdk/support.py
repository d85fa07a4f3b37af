"""Customer service requests, mixed into :class:`~parley.sdk.client.Client`.

A ``support`` conversation moves through ``bot`` → ``waiting_for_agent`` →
``agent`` → ``resolved`` (an agent may also hand it back to the ``bot``). Every
transition is a ``system`` message in the conversation with body
``{"event": "support", "state": ..., "by": ..., "agent": ...}``,
so every member sees it as a :class:`~parley.sdk.events.MessageEvent`; the
current state is in the conversation's ``meta["support"]`` (see
:func:`support_state`). The hand-over ``reason`` and ``summary`` are for agents
only: in ``meta["support"]`` of what :meth:`SupportOps.support_queue` and
:meth:`SupportOps.claim` return, and in the ticket's notes conversation.

Who may call what: the customer or the bot hands over; agents claim, transfer,
release, resolve, list the queue and write notes (the bot may resolve too);
agents and bots read profiles and tag customers; the customer rates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from parley.proto import frames as f
from parley.proto.vocabulary import SupportState
from parley.sdk.models import Conversation, Message
from parley.sdk.requests import Reply

__all__ = [
    "Profile",
    "SupportOps",
    "SupportQueue",
    "SupportState",
    "Tag",
    "support_state",
]

#: The state of a support conversation.


def support_state(conversation: Conversation) -> tuple[str, str]:
    """``(state, agent)`` of a support conversation from its meta (``("bot", "")`` when unset)."""
    info = conversation.meta.get("support")
    if not isinstance(info, dict):
        return SupportState.BOT, ""
    return str(info.get("state") or SupportState.BOT), str(info.get("agent") or "")


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag on a customer's profile.

    ``source`` says who set it (``rule``, ``model``, ``agent``, ``customer``,
    ``bot``); ``evidence`` is the message it was derived from; ``ts`` and
    ``expires`` are ms since the epoch (``expires`` 0 = never).
    """

    name: str
    source: str = ""
    confidence: float = 1.0
    evidence: str = ""
    ts: int = 0
    expires: int = 0

    @property
    def expired(self) -> bool:
        """True once ``expires`` has passed."""
        return bool(self.expires) and self.expires <= time.time() * 1000

    @classmethod
    def from_wire(cls, t: f.Tag) -> Tag:
        """Build from the wire record."""
        return cls(t.name, t.source, t.confidence, t.evidence, t.ts, t.expires)


@dataclass(frozen=True, slots=True)
class Profile:
    """A customer's profile: tags, attributes and counters."""

    user: str
    tags: tuple[Tag, ...] = ()
    attributes: dict[str, Any] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def tag(self, name: str) -> Tag | None:
        """The tag called ``name``, if the profile has it."""
        return next((t for t in self.tags if t.name == name), None)

    @property
    def tag_names(self) -> list[str]:
        """The names of the profile's tags, sorted."""
        return sorted(t.name for t in self.tags)

    @classmethod
    def from_wire(cls, p: f.ProfileInfo) -> Profile:
        """Build from the wire record."""
        return cls(p.user, tuple(Tag.from_wire(t) for t in p.tags), dict(p.attributes), dict(p.counters))


@dataclass(frozen=True, slots=True)
class SupportQueue:
    """The agent's view: conversations ``waiting`` for an agent (oldest first) and its own."""

    waiting: tuple[Conversation, ...]
    mine: tuple[Conversation, ...] = ()


#: A tag to add: a name, or ``(name, confidence)``, or a full :class:`~parley.proto.frames.TagInput`.
TagSpec = str | tuple[str, float] | f.TagInput


def _tag_input(spec: TagSpec, evidence: str, ttl: int) -> f.TagInput:
    if isinstance(spec, f.TagInput):
        return spec
    if isinstance(spec, tuple):
        name, confidence = spec
        return f.TagInput(name=name, confidence=confidence, evidence=evidence, ttl=ttl)
    return f.TagInput(name=spec, evidence=evidence, ttl=ttl)


class SupportOps:
    """Customer-service workflow: hand over, claim, transfer, release, resolve, rate, notes, profiles."""

    async def _request(self, build: Callable[[int], Any], idempotent: bool = True) -> Reply:
        raise NotImplementedError

    def _learn(self, info: f.ConvInfo) -> None:
        """Hook: a conversation's details arrived (the client starts tracking it)."""

    async def handoff(self, conv: str, reason: str = "", summary: str = "") -> None:
        """Ask for a human (customer or bot): ``bot`` → ``waiting_for_agent``.

        ``summary`` (up to 4 000 characters) tells the agent what happened so far.
        """
        await self._request(
            lambda rid: f.SupportHandoff(id=rid, conv=conv, reason=reason[:200], summary=summary[:4000]),
            False,
        )

    async def claim(self, conv: str) -> Conversation:
        """Agents: take ``conv`` (→ ``agent``, owned by the caller); returns its new state."""
        reply = await self._request(lambda rid: f.SupportClaim(id=rid, conv=conv), False)
        if not isinstance(reply, f.ConvResult):
            raise TypeError(f"expected a conversation, got {type(reply).__name__}")
        self._learn(reply.conv)
        return Conversation.from_wire(reply.conv)

    async def transfer(self, conv: str, agent: str) -> None:
        """Agents: hand ``conv`` to another ``agent``."""
        await self._request(lambda rid: f.SupportTransfer(id=rid, conv=conv, agent=agent), False)

    async def release(self, conv: str) -> None:
        """Agents: hand ``conv`` back to the bot (→ ``bot``)."""
        await self._request(lambda rid: f.SupportRelease(id=rid, conv=conv), False)

    async def resolve(self, conv: str) -> None:
        """Agents (or the bot): close ``conv`` (→ ``resolved``); the customer is asked for a score."""
        await self._request(lambda rid: f.SupportResolve(id=rid, conv=conv), False)

    async def rate(self, conv: str, score: int) -> None:
        """The customer: satisfaction ``score`` (1–5) for a resolved conversation, once
        (a second rate raises :class:`~parley.sdk.errors.ReplyError` ``invalid_request``)."""
        if not 1 <= score <= 5:
            raise ValueError("score must be between 1 and 5")
        await self._request(lambda rid: f.SupportRate(id=rid, conv=conv, score=score), False)

    async def support_queue(self) -> SupportQueue:
        """Agents: conversations waiting for an agent, and the caller's own."""
        reply = await self._request(lambda rid: f.SupportQueue(id=rid))
        if not isinstance(reply, f.SupportList):
            raise TypeError(f"expected a support list, got {type(reply).__name__}")
        return SupportQueue(
            tuple(Conversation.from_wire(c) for c in reply.waiting),
            tuple(Conversation.from_wire(c) for c in reply.mine),
        )

    async def note(self, conv: str, text: str) -> Message | None:
        """Agents: an internal note on ``conv`` that the customer never receives."""
        reply = await self._request(lambda rid: f.SupportNote(id=rid, conv=conv, text=text), False)
        if not isinstance(reply, f.Ack):
            return None
        sender = str(getattr(self, "user", ""))
        return Message(reply.conv, reply.seq, reply.mid, sender, "note", {"text": text}, reply.ts, reply.cmid)

    async def profile(self, user: str) -> Profile:
        """Agents and bots: ``user``'s profile and tags."""
        reply = await self._request(lambda rid: f.ProfileGet(id=rid, user=user))
        if not isinstance(reply, f.ProfileResult):
            raise TypeError(f"expected a profile, got {type(reply).__name__}")
        return Profile.from_wire(reply.profile)

    async def tag(
        self,
        user: str,
        add: Iterable[TagSpec] = (),
        remove: Iterable[str] = (),
        *,
        evidence: str = "",
        ttl: int = 0,
        source: str = "",
        attributes: dict[str, Any] | None = None,
    ) -> None:
        """Agents and bots: add and remove tags on ``user``'s profile.

        A bot may set ``source`` to ``model`` or ``rule`` (default: ``bot``);
        an agent's tags always record ``agent``.

        ``add`` takes names, ``(name, confidence)`` pairs or ``TagInput``
        records; ``evidence`` (a message id) and ``ttl`` (seconds, 0 = never
        expires) apply to those given by name.
        """
        tags = [_tag_input(spec, evidence, ttl) for spec in add]
        gone = list(remove)
        attrs = dict(attributes or {})
        await self._request(
            lambda rid: f.ProfileTag(
                id=rid, user=user, add=tags, remove=gone, source=source, attributes=attrs
            )
        )
