"""The bot service: an ordinary SDK client with a bot token that serves support conversations.

For each customer text message in a ``support`` conversation whose state is ``bot``:

1. an explicit request for a human (:class:`~.knowledge.HandoffDetector`) → hand over;
2. sentiment (:class:`~.sentiment.SentimentScorer`) that is clearly negative — one
   strongly negative message or ``negative_limit`` negative ones in a row → hand over;
   every customer message (in any state) records ``sentiment:<label>`` on the customer's
   profile (source ``model`` when the bot has an :class:`AdminClient`, else ``bot``;
   evidence = the message id; expires after ``sentiment_ttl``);
3. otherwise compose an answer (:class:`~.answer.Answerer`); the model's
   ``handoff_to_human`` call, or a failed model with nothing to quote → hand over;
4. a low-confidence answer is sent as a "please rephrase", but the second one in a
   row hands over instead;
5. else send the answer (streamed as ``draft`` frames first when an LLM writes it),
   text only: the cited passages (source file, entry, score) go to the agent in the
   hand-over summary, never to the customer.

A hand-over sends a short notice, then ``support_handoff`` with a summary of the
conversation. The bot follows the state from the ``support`` system events in each
conversation and stays silent while it is ``waiting_for_agent``, ``agent`` or
``resolved``; an agent's ``release`` gives the conversation back. Customer feedback
(``custom`` messages ``{"feedback": "up"|"down", "target": seq}``) and satisfaction
scores become profile tags through :meth:`Client.tag`.

Messages of one conversation are handled one at a time, in order; conversations run
concurrently.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from parley.bots.answer import Answer, Answerer, Role, Turn, summarize
from parley.bots.conversation import ConversationState
from parley.bots.extract import ProfileExtractor
from parley.bots.knowledge import HandoffDetector
from parley.bots.sentiment import Sentiment, SentimentScorer
from parley.bots.tags import InterestTagger
from parley.bots.triage import Triage
from parley.proto.frames import TagInput
from parley.proto.vocabulary import BOT_SILENT_STATES, MemberRole, SupportState
from parley.sdk import AdminClient, Client, ConversationEvent, EventStream, Message, MessageEvent, ReplyError
from parley.sdk.support import support_state

__all__ = ["ConversationState", "SupportBot"]

log = logging.getLogger("parley.bots")

#: States in which the bot does not write: exactly those the server refuses it in (from the
#: hand-off on; see ``proto.vocabulary.BOT_SILENT_STATES``), so it never tries and fails.
SILENT_STATES = BOT_SILENT_STATES
_NOTICE = {
    "en": "I'm connecting you with a human agent now. They will see our conversation so far.",
    "zh": "正在为您转接人工客服，客服会看到我们之前的对话，请稍候。",
}


class SupportBot:
    """Serve every support conversation the bot's :class:`Client` is a member of.

    ``low_confidence_limit`` low-confidence answers in a row hand over, as do
    ``negative_limit`` negative messages in a row or one strongly negative one
    (``use_sentiment=False`` turns sentiment off). ``tagger`` adds zero-shot interest
    tags (:mod:`parley.bots.tags`) from every customer message. ``admin`` (optional) is used to record
    model-derived tags with source ``model``. Run with :meth:`run` (until cancelled or
    the client closes) or :meth:`start`/:meth:`stop`.
    """

    def __init__(
        self,
        client: Client,
        answerer: Answerer,
        *,
        detector: HandoffDetector | None = None,
        low_confidence_limit: int = 2,
        history_turns: int = 20,
        sentiment: SentimentScorer | None = None,
        use_sentiment: bool = True,
        negative_limit: int = 2,
        sentiment_ttl: int = 30 * 24 * 3600,
        tagger: InterestTagger | None = None,
        interest_ttl: int = 90 * 24 * 3600,
        admin: AdminClient | None = None,
        extractor: ProfileExtractor | None = None,
    ) -> None:
        self.client = client
        #: LLM extraction of structured profile attributes (budget, interest, intent); None = off.
        self.extractor = extractor
        self.answerer = answerer
        self.detector = detector or HandoffDetector()
        self.triage = Triage(self.detector, negative_limit)
        self.low_confidence_limit = low_confidence_limit
        self.history_turns = history_turns
        self.sentiment = (sentiment or SentimentScorer()) if use_sentiment else None
        self.negative_limit = negative_limit
        self.sentiment_ttl = sentiment_ttl
        self.tagger = tagger
        self.interest_ttl = interest_ttl
        self.admin = admin
        self.convs: dict[str, ConversationState] = {}
        self._task: asyncio.Task[None] | None = None
        #: Counters for tests and metrics: answers, handoffs, feedback, errors.
        self.stats: dict[str, int] = {}

    # -------------------------------------------------------------- lifecycle

    def start(self) -> None:
        """Start serving in a background task (the client must be connected)."""
        # Subscribe now, not when the task first runs, so no event slips in between.
        stream = self.client.events(MessageEvent, ConversationEvent)
        self._task = asyncio.create_task(self._consume(stream), name="parley-bot")

    async def stop(self) -> None:
        """Stop serving (the client stays open)."""
        tasks = [t for t in [self._task, *(s.worker for s in self.convs.values())] if t is not None]
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def run(self) -> None:
        """Consume the client's message events until the client closes."""
        await self._consume(self.client.events(MessageEvent, ConversationEvent))

    async def _consume(self, stream: EventStream[object]) -> None:
        async for event in stream:
            if isinstance(event, MessageEvent):
                self._enqueue(event.message)
            elif isinstance(event, ConversationEvent) and event.conversation.conv in self.convs:
                cs = self.convs[event.conversation.conv]
                cs.customers |= {m.user for m in event.conversation.members if m.role == MemberRole.MEMBER}

    def _count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1

    def _enqueue(self, message: Message) -> None:
        cs = self.convs.get(message.conv)
        if cs is None:
            cs = self.convs[message.conv] = ConversationState(message.conv, support=True)
            cs.state = ""  # unknown until loaded
        if not cs.support:
            if not _is_support_event(message):
                return
            cs.support, cs.state = True, ""  # became a case (a reply in the brand conversation): learn it
        cs.pending.append(message)
        cs.wake.set()
        if cs.worker is None or cs.worker.done():
            cs.worker = asyncio.create_task(self._work(cs), name=f"parley-bot:{message.conv}")

    async def _work(self, cs: ConversationState) -> None:
        while True:
            if not cs.pending:
                cs.wake.clear()
                await cs.wake.wait()
                continue
            message = cs.pending.popleft()
            try:
                if not cs.state:
                    await self._load(cs, message)
                if cs.support:
                    await self.handle(cs, message)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad message must not stop the conversation or the bot
                self._count("errors")
                log.exception("parley bot: failed on %s#%d", message.conv, message.seq)
            cs.handled = max(cs.handled, message.seq)

    async def _load(self, cs: ConversationState, message: Message) -> None:
        """Learn the conversation: kind, customers, and the state as of ``message``."""
        conv = await self.client.conversation(cs.conv)
        cs.support = conv.kind == "support" or "support" in conv.meta  # or a case on the brand conversation
        cs.customers = {m.user for m in conv.members if m.role == MemberRole.MEMBER}
        cs.state, cs.agent = support_state(conv)
        if not cs.support:
            return
        # The state *at this message* (the meta may be ahead if we are catching up).
        page = await self.client.history(cs.conv, before=message.seq, limit=self.history_turns)
        seen = False
        for m in page.messages:
            if m.kind == "system" and m.body.get("event") == "support":
                cs.state, cs.agent, seen = (
                    str(m.body.get("state") or SupportState.BOT),
                    str(m.body.get("agent") or ""),
                    True,
                )
            else:
                self._remember(cs, m)
        if not seen and not page.more:
            cs.state, cs.agent = (
                SupportState.BOT,
                "",
            )  # no transition yet: a support conversation starts with the bot

    def _remember(self, cs: ConversationState, m: Message) -> None:
        text = m.body.get("text") if m.kind == "text" else None
        if not isinstance(text, str):
            return
        role: Role = (
            "bot" if m.sender == self.client.user else "customer" if m.sender in cs.customers else "agent"
        )
        cs.turns.append(Turn(role, text))

    # ---------------------------------------------------------------- handling

    async def handle(self, cs: ConversationState, m: Message) -> None:
        """Handle one message of a support conversation (called in seq order)."""
        if m.kind == "system":
            self._on_system(cs, m)
            if m.body.get("event") == "csat":
                await self._on_csat(cs, m)
            elif (
                _is_support_event(m) and isinstance(m.body.get("reply"), int) and cs.state == SupportState.BOT
            ):
                await self._answer_reply(cs, m.body["reply"])
            return
        if m.sender == self.client.user:
            return  # our own echo: recorded when sent
        if m.sender not in cs.customers and m.sender != cs.agent and cs.state == SupportState.BOT:
            conv = await self.client.conversation(cs.conv)  # someone new: refresh who is who
            cs.customers = {x.user for x in conv.members if x.role == MemberRole.MEMBER}
        if m.kind == "custom" and m.sender in cs.customers and "feedback" in m.body:
            await self._on_feedback(cs, m)
            return
        text = m.body.get("text") if m.kind == "text" else None
        if not isinstance(text, str):
            return
        history = list(cs.turns)
        self._remember(cs, m)
        if m.sender not in cs.customers:
            return
        mood = await self._on_sentiment(cs, m, text)
        if cs.state in SILENT_STATES:
            return
        reason = self.triage.reason(text, mood, cs.negative_streak)
        if reason:
            await self._handoff(cs, reason, lang_of=text, mid=m.mid)
            return
        # Derived from the customer's message, not random: two bot processes serving one app
        # send the same cmid, and the server stores (and delivers) only the first.
        draft = f"bot-{m.mid}"
        answer = await self.answerer.answer(
            text, history, on_draft=lambda so_far: self._draft(cs, draft, so_far)
        )
        if answer.handoff:
            await self._abandon(cs, draft, answer)
            await self._handoff(cs, answer.handoff, lang_of=text, summary=answer.summary, mid=m.mid)
            return
        if not answer.confident:
            cs.low_streak += 1
            if cs.low_streak >= self.low_confidence_limit:
                await self._abandon(cs, draft, answer)
                await self._handoff(cs, "low_confidence", lang_of=text, mid=m.mid)
                return
        else:
            cs.low_streak = 0
        await self._answer(cs, draft, answer)

    async def _answer_reply(self, cs: ConversationState, seq: int) -> None:
        """Answer the customer's message ``seq`` that opened the case: it was stored before we joined."""
        page = await self.client.history(cs.conv, before=seq + 1, limit=1)
        for m in page.messages:
            if m.seq == seq and m.sender in cs.customers and isinstance(text := m.body.get("text"), str):
                if Turn("customer", text) in cs.turns:  # already read as history when the case was learnt
                    cs.turns.remove(Turn("customer", text))
                await self.handle(cs, m)

    def _on_system(self, cs: ConversationState, m: Message) -> None:
        if m.body.get("event") != "support":
            return
        new = str(m.body.get("state") or "")
        if new:
            if new == SupportState.BOT and cs.state != SupportState.BOT:
                cs.low_streak = cs.negative_streak = 0  # handed back: start afresh
            cs.state, cs.agent = new, str(m.body.get("agent") or "")

    def _interrupted(self, cs: ConversationState) -> bool:
        """A state change is already queued behind the message being answered: do not write."""
        return cs.state in SILENT_STATES or any(
            p.kind == "system" and p.body.get("event") == "support" for p in cs.pending
        )

    async def _draft(self, cs: ConversationState, draft: str, text: str) -> None:
        if not self._interrupted(cs):
            await self.client.draft(cs.conv, draft, text)

    async def _abandon(self, cs: ConversationState, draft: str, answer: Answer) -> None:
        if answer.drafted:
            await self.client.draft(cs.conv, draft, answer.text, done=True)

    async def _answer(self, cs: ConversationState, draft: str, answer: Answer) -> None:
        if self._interrupted(cs):
            await self._abandon(cs, draft, answer)
            return
        sent = await self.client.send(cs.conv, kind="text", body=answer.body(), cmid=draft)
        cs.turns.append(Turn("bot", answer.text))
        cs.answers[sent.seq] = [c.chunk for c in answer.citations]
        if answer.citations:
            cs.cited.append(answer.citations[0])
        self._count(f"answers:{answer.source}")

    async def _handoff(
        self, cs: ConversationState, reason: str, *, lang_of: str, summary: str = "", mid: str = ""
    ) -> None:
        if self._interrupted(cs):
            return
        lang = "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in lang_of) else "en"
        text = summarize(list(cs.turns), reason)
        if cs.cited:
            text = f"{text} Bot's sources: {'; '.join(c.label() for c in cs.cited)}."
        if summary:
            text = f"{text} Model: {summary}"
        try:
            await self.client.send(cs.conv, _NOTICE[lang], cmid=f"handoff-{mid}" if mid else None)
            cs.turns.append(Turn("bot", _NOTICE[lang]))
            await self.client.handoff(cs.conv, reason=reason, summary=text)
        except ReplyError as exc:  # e.g. the customer already asked, or an agent claimed meanwhile
            log.info("parley bot: handoff of %s refused: %s", cs.conv, exc)
            return
        cs.state, cs.low_streak, cs.negative_streak = SupportState.WAITING_FOR_AGENT, 0, 0
        self._count("handoffs")

    async def _on_sentiment(self, cs: ConversationState, m: Message, text: str) -> Sentiment | None:
        """Update the customer's profile from ``text``: ``sentiment:<label>`` and interest tags.

        Returns the sentiment (None if turned off) and counts negative streaks.
        """
        add: list[TagInput] = []
        remove: list[str] = []
        mood = self.sentiment.score(text) if self.sentiment is not None else None
        if mood is not None:
            # Only tone counts: a customer describing trouble calmly over two messages ("my parcel
            # is lost", "tracking hasn't moved") is not upset; such a message neither counts nor resets.
            if mood.upset:
                cs.negative_streak += 1
            elif mood.label != "negative":
                cs.negative_streak = 0
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
                self._count("extractions")
        if not add and not attributes:
            return mood
        try:
            if self.admin is not None:
                await self.admin.tag(m.sender, add, remove, source="model", attributes=attributes)
            else:
                await self.client.tag(m.sender, add=add, remove=remove, source="model", attributes=attributes)
            for t in add:
                self._count(t.name)
        except Exception:  # a profile write must never cost the customer an answer
            self._count("errors")
            log.warning("parley bot: profile tags for %s failed", m.sender, exc_info=True)
        return mood

    async def _tag(self, user: str, names: list[str], evidence: str, confidence: float = 1.0) -> None:
        await self.client.tag(
            user, add=[TagInput(name=n, confidence=confidence, evidence=evidence) for n in names]
        )

    async def _on_feedback(self, cs: ConversationState, m: Message) -> None:
        value = m.body.get("feedback")
        if value not in ("up", "down"):
            return
        target = m.body.get("target")
        names = [f"feedback:{value}"]
        if isinstance(target, int) and target in cs.answers:
            names += [f"feedback:{value}:{chunk.split('::')[0]}" for chunk in cs.answers[target][:1]]
        await self._tag(m.sender, names, m.mid)
        self._count(f"feedback:{value}")

    async def _on_csat(self, cs: ConversationState, m: Message) -> None:
        score = m.body.get("score")
        if not isinstance(score, int) or not cs.customers:
            return
        level = "low" if score <= 2 else "neutral" if score == 3 else "high"
        for customer in [m.sender] if m.sender in cs.customers else sorted(cs.customers):
            await self._tag(customer, [f"csat:{level}"], m.mid)


def _is_support_event(m: Message) -> bool:
    return m.kind == "system" and m.body.get("event") == "support"
