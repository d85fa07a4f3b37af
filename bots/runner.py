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
concurrently. With a :class:`~.standby.Standby` (the app's lease) the bot answers only while
its process holds the lease; standing by, it follows every conversation without answering or
writing the profile, and when it takes over it answers what the previous holder left
unanswered in the last five minutes. Profile writes live in :mod:`.profile_signals`.
"""

from __future__ import annotations

import asyncio
import logging
import time

from parley.bots.answer import Answer, Answerer, Role, Turn
from parley.bots.conversation import ConversationState
from parley.bots.extract import ProfileExtractor
from parley.bots.knowledge import HandoffDetector
from parley.bots.knowledge.langs import in_script_of
from parley.bots.profile_signals import ProfileSignals
from parley.bots.sentiment import SentimentScorer
from parley.bots.standby import Standby
from parley.bots.summary import summarize
from parley.bots.tags import InterestTagger
from parley.bots.triage import Triage
from parley.proto.vocabulary import BOT_SILENT_STATES, MemberRole, SupportState
from parley.sdk import AdminClient, Client, ConversationEvent, EventStream, Message, MessageEvent, ReplyError
from parley.sdk.support import support_state

__all__ = ["ConversationState", "SupportBot"]

log = logging.getLogger("parley.bots")

#: States in which the bot does not write: exactly those the server refuses it in (from the
#: hand-off on; see ``proto.vocabulary.BOT_SILENT_STATES``), so it never tries and fails.
SILENT_STATES = BOT_SILENT_STATES
#: A process that takes over answers what the previous one left unanswered for this long (ms).
TAKEOVER_WINDOW_MS = 5 * 60 * 1000
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
        standby: Standby | None = None,
    ) -> None:
        self.client = client
        self.answerer = answerer
        self.detector = detector or HandoffDetector()
        self.triage = Triage(self.detector, negative_limit)
        self.low_confidence_limit = low_confidence_limit
        self.history_turns = history_turns
        #: Counters for tests and metrics: answers, handoffs, feedback, errors.
        self.stats: dict[str, int] = {}
        self.signals = ProfileSignals(
            client,
            self._count,
            sentiment=(sentiment or SentimentScorer()) if use_sentiment else None,
            sentiment_ttl=sentiment_ttl,
            tagger=tagger,
            interest_ttl=interest_ttl,
            admin=admin,
            # LLM extraction of structured profile attributes (budget, interest, intent); None = off.
            extractor=extractor,
        )
        #: The app's lease (:mod:`parley.bots.standby`): None = always answer (the only bot).
        self.standby = standby
        if standby is not None:
            standby.on_active = self._take_over
        self.convs: dict[str, ConversationState] = {}
        self._task: asyncio.Task[None] | None = None

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
            if not self.answering:
                return
            if m.body.get("event") == "csat":
                await self.signals.on_csat(cs, m)
            elif (
                _is_support_event(m) and isinstance(m.body.get("reply"), int) and cs.state == SupportState.BOT
            ):
                await self._answer_reply(cs, m.body["reply"])
            return
        if m.sender == self.client.user:
            if not self.answering:  # the active process's message: what it did, for a takeover
                self._follow(cs, m)
            return  # our own echo: recorded when sent
        if m.sender not in cs.customers and m.sender != cs.agent and cs.state == SupportState.BOT:
            conv = await self.client.conversation(cs.conv)  # someone new: refresh who is who
            cs.customers = {x.user for x in conv.members if x.role == MemberRole.MEMBER}
        if m.kind == "custom" and m.sender in cs.customers and "feedback" in m.body:
            if self.answering:
                await self.signals.on_feedback(cs, m)
            return
        text = m.body.get("text") if m.kind == "text" else None
        if not isinstance(text, str):
            return
        if not self.answering and m.sender in cs.customers and cs.state == SupportState.BOT:
            cs.unanswered[m.mid] = m  # the active process answers it; remembered when it has
            return
        history = list(cs.turns)
        self._remember(cs, m)
        if m.sender not in cs.customers:
            return
        mood = await self.signals.on_text(cs, m, text) if self.answering else None
        if cs.state in SILENT_STATES or not self.answering:
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
            if new != SupportState.BOT:
                self._settle(cs)

    # ---------------------------------------------------------------- standing by

    @property
    def answering(self) -> bool:
        """Whether this process answers now: always without a lease, else while it holds it."""
        return self.standby is None or self.standby.active

    def _follow(self, cs: ConversationState, m: Message) -> None:
        """Standing by, the active process wrote ``m``: the customer message it answered (its
        ``cmid`` names it) and the answer join the history."""
        mid = m.cmid.partition("-")[2] if m.cmid.startswith(("bot-", "handoff-")) else ""
        if mid in cs.unanswered:
            asked = cs.unanswered.pop(mid)
            self._remember(cs, asked)
            self.signals.mood(cs, asked.text or "")  # the streak a takeover continues
        self._remember(cs, m)

    def _settle(self, cs: ConversationState) -> None:
        """Out of the bot's hands: what was left unanswered is history now."""
        for m in sorted(cs.unanswered.values(), key=lambda x: x.seq):
            self._remember(cs, m)
        cs.unanswered.clear()

    async def _take_over(self) -> None:
        """Just became the active process: answer, in order, the customer messages of the last
        ``TAKEOVER_WINDOW_MS`` that the previous holder left unanswered."""
        now = int(time.time() * 1000)
        for cs in self.convs.values():
            left = sorted(cs.unanswered.values(), key=lambda x: x.seq)
            cs.unanswered.clear()
            for m in reversed(left):
                if now - m.ts <= TAKEOVER_WINDOW_MS:
                    cs.pending.appendleft(m)
                else:
                    self._remember(cs, m)
            if left:
                self._count("taken_over")
                cs.wake.set()
                if cs.worker is None or cs.worker.done():
                    cs.worker = asyncio.create_task(self._work(cs), name=f"parley-bot:{cs.conv}")

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
        notice = in_script_of(lang_of, _NOTICE[lang])
        try:
            await self.client.send(cs.conv, notice, cmid=f"handoff-{mid}" if mid else None)
            cs.turns.append(Turn("bot", notice))
            await self.client.handoff(cs.conv, reason=reason, summary=text)
        except ReplyError as exc:  # e.g. the customer already asked, or an agent claimed meanwhile
            log.info("parley bot: handoff of %s refused: %s", cs.conv, exc)
            return
        cs.state, cs.low_streak, cs.negative_streak = SupportState.WAITING_FOR_AGENT, 0, 0
        self._count("handoffs")


def _is_support_event(m: Message) -> bool:
    return m.kind == "system" and m.body.get("event") == "support"
