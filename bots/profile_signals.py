"""What a customer's messages tell their profile: the bot's writes of tags and attributes.

:class:`ProfileSignals` is the part of :class:`~parley.bots.runner.SupportBot` that turns a
customer message into profile writes — ``sentiment:<label>``, zero-shot interest tags, extracted
attributes, ``feedback:*`` and ``csat:*`` — through the SDK (:meth:`Client.tag`, or the admin API
when the bot has one, so the source is ``model``). A profile write never costs the customer an
answer: a failed write is counted and logged, and the conversation goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from parley.bots.conversation import ConversationState
from parley.bots.extract import ProfileExtractor
from parley.bots.sentiment import Sentiment, SentimentScorer
from parley.bots.tags import InterestTagger
from parley.proto.frames import TagInput
from parley.sdk import AdminClient, Client, Message

__all__ = ["ProfileSignals"]

log = logging.getLogger("parley.bots")


class ProfileSignals:
    """Profile writes from customer messages (see the module docstring); ``count`` records stats."""

    def __init__(
        self,
        client: Client,
        count: Callable[[str], None],
        *,
        sentiment: SentimentScorer | None,
        sentiment_ttl: int,
        tagger: InterestTagger | None,
        interest_ttl: int,
        admin: AdminClient | None,
        extractor: ProfileExtractor | None,
    ) -> None:
        self.client = client
        self.count = count
        self.sentiment = sentiment
        self.sentiment_ttl = sentiment_ttl
        self.tagger = tagger
        self.interest_ttl = interest_ttl
        self.admin = admin
        self.extractor = extractor

    def mood(self, cs: ConversationState, text: str) -> Sentiment | None:
        """The sentiment of ``text`` (None if turned off), counted in the conversation's
        negative streak; nothing is written."""
        mood = self.sentiment.score(text) if self.sentiment is not None else None
        if mood is not None:
            # Only tone counts: a customer describing trouble calmly over two messages ("my parcel
            # is lost", "tracking hasn't moved") is not upset; such a message neither counts nor resets.
            if mood.upset:
                cs.negative_streak += 1
            elif mood.label != "negative":
                cs.negative_streak = 0
        return mood

    async def on_text(self, cs: ConversationState, m: Message, text: str) -> Sentiment | None:
        """Update the customer's profile from ``text``: ``sentiment:<label>`` and interest tags.

        Returns the sentiment (None if turned off) and counts negative streaks.
        """
        add: list[TagInput] = []
        remove: list[str] = []
        mood = self.mood(cs, text)
        if mood is not None:
            name = f"sentiment:{mood.label}"
            remove = [
                f"sentiment:{x}" for x in ("negative", "neutral", "positive") if f"sentiment:{x}" != name
            ]
            add.append(
                TagInput(name=name, confidence=mood.confidence, evidence=m.mid, ttl=self.sentiment_ttl)
            )
        if self.tagger is not None:
            matches = await asyncio.to_thread(self.tagger.match, text)
            add += [
                TagInput(name=x.name, confidence=x.confidence, evidence=m.mid, ttl=self.interest_ttl)
                for x in matches
            ]
        attributes: dict[str, Any] = {}
        if self.extractor is not None:
            context = [t.text for t in list(cs.turns)[-4:] if t.role == "customer"]
            attributes = await self.extractor.extract(text, context)
            if attributes:
                self.count("extractions")
        if not add and not attributes:
            return mood
        try:
            if self.admin is not None:
                await self.admin.tag(m.sender, add, remove, source="model", attributes=attributes)
            else:
                await self.client.tag(m.sender, add=add, remove=remove, source="model", attributes=attributes)
            for t in add:
                self.count(t.name)
        except Exception:  # a profile write must never cost the customer an answer
            self.count("errors")
            log.warning("parley bot: profile tags for %s failed", m.sender, exc_info=True)
        return mood

    async def on_feedback(self, cs: ConversationState, m: Message) -> None:
        """A thumbs up/down on an answer: ``feedback:<v>`` and ``feedback:<v>:<entry>``."""
        value = m.body.get("feedback")
        if value not in ("up", "down"):
            return
        target = m.body.get("target")
        names = [f"feedback:{value}"]
        if isinstance(target, int) and target in cs.answers:
            names += [f"feedback:{value}:{chunk.split('::')[0]}" for chunk in cs.answers[target][:1]]
        await self._tag(m.sender, names, m.mid)
        self.count(f"feedback:{value}")

    async def on_csat(self, cs: ConversationState, m: Message) -> None:
        """A satisfaction score: ``csat:low|neutral|high`` on the customer who gave it (or all)."""
        score = m.body.get("score")
        if not isinstance(score, int) or not cs.customers:
            return
        level = "low" if score <= 2 else "neutral" if score == 3 else "high"
        for customer in [m.sender] if m.sender in cs.customers else sorted(cs.customers):
            await self._tag(customer, [f"csat:{level}"], m.mid)

    async def _tag(self, user: str, names: list[str], evidence: str, confidence: float = 1.0) -> None:
        await self.client.tag(
            user, add=[TagInput(name=n, confidence=confidence, evidence=evidence) for n in names]
        )
