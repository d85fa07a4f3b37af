"""The brand's official account in the chat: where marketing messages arrive, and opt-outs.

**Delivery** (:class:`OfficialAccount`, the send policy's :class:`ChatSender`): each recipient has
one conversation with the brand — the direct conversation between the app's official account
user (``official_user`` of the send-policy settings) and the recipient, named
``official_name`` and marked ``meta.official``. It is created on the first send and found on
every later one (direct conversations are unique per pair in the store, so concurrent first
sends on several nodes still make one). The message goes through the same
:class:`~parley.server.services.messages.MessageService` as chat — stored, seq'd, fanned out,
synced and read-receipted like any message — with the send's idempotency key as its ``cmid``.

**Opt-out** (:class:`OptOutListener`): the message service tells it about every stored message
(:meth:`MessageService.observe`). A customer's message in an official conversation that is a
tap on an ``opt_out`` button or quick reply (:func:`parley.proto.campaign.read_tap`), or a
free-text reply that says stop (:func:`is_opt_out`: "stop", "unsubscribe", "退订", "不要再发了",
...), withdraws their consent (the tap's topic; free text: ``marketing``) through the
:class:`ConsentWriter` with the message id as evidence, and is confirmed in the chat by the
official account. The check of a message is a set lookup on the loop; only a match costs a task.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any, Protocol

from parley.proto.campaign import read_tap
from parley.server.models import Appended, StoredMessage
from parley.server.services.conversations import ConversationService
from parley.server.services.messages import MessageService
from parley.server.services.policy_rules import PolicySettings
from parley.server.store_ports import Profiles, Tickets

__all__ = [
    "OPT_OUT_PHRASES",
    "ConsentWriter",
    "OfficialAccount",
    "OfficialConversations",
    "OptOutListener",
    "StoreConversationFacts",
    "is_opt_out",
]

log = logging.getLogger("parley.marketing")

#: Free-text replies recognised as "stop sending me marketing" (after :func:`_normalise`).
OPT_OUT_PHRASES = frozenset(
    {
        "stop", "stop all", "stopall", "unsubscribe", "opt out", "optout", "unsub", "end", "quit",
        "no more", "no more messages", "stop sending", "stop messaging me", "stop sending me messages",
        "退订", "取消订阅", "不要再发了", "别再发了", "不要再发", "别发了", "不要发了", "退订谢谢", "td",
    }
)  # fmt: skip
#: The default topic a free-text opt-out withdraws.
FREE_TEXT_TOPIC = "marketing"
#: What the official account answers to an opt-out.
CONFIRMATION = "You will not receive these messages any more. 您已退订，我们不会再发送此类消息。"
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


def _normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _PUNCT.sub(" ", folded).strip()


def is_opt_out(text: str) -> bool:
    """Whether a free-text reply asks to stop marketing (the whole reply, not a word inside a sentence:
    "stop the order" is a support question, "STOP!" and "退订。" are opt-outs)."""
    return len(text) <= 40 and _normalise(text) in OPT_OUT_PHRASES


class ConsentWriter(Protocol):
    """Writes the consent ledger (the audience port's, through an adapter)."""

    async def withdraw(
        self, app: str, user: str, topic: str, *, via_kind: str, via_ref: str, now: int
    ) -> None:
        """Record that chat user ``user`` withdrew consent for ``topic`` through ``via_kind`` ``via_ref``."""


class OfficialAccount:
    """Delivers marketing bodies into each recipient's conversation with the brand (module docstring)."""

    def __init__(
        self, conversations: ConversationService, messages: MessageService, *, cache: int = 50_000
    ) -> None:
        self._conversations = conversations
        self._messages = messages
        #: (app, official user, user) -> conversation id, most recent last. A direct conversation's id
        #: never changes, so a hit skips the create attempt (a store write) and the member read.
        self._known: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._cache = cache

    async def conversation(self, app: str, user: str, settings: PolicySettings) -> str:
        """The id of ``user``'s conversation with the official account (created once, idempotently)."""
        key = (app, settings.official_user, user)
        known = self._known.get(key)
        if known is not None:
            self._known.move_to_end(key)
            return known
        conv = await self._open(app, user, settings)
        self._known[key] = conv
        if len(self._known) > self._cache:
            self._known.popitem(last=False)
        return conv

    async def _open(self, app: str, user: str, settings: PolicySettings) -> str:
        # Both stores write a direct conversation's members before any creator gets it back (a
        # racing first send on another node included), so one create is enough.
        view = await self._conversations.create(
            app,
            settings.official_user,
            "direct",
            [user],
            name=settings.official_name,
            meta={"official": True},
        )
        conversation = view.conversation
        if not conversation.meta.get("official"):  # the customer opened it first: mark it for clients
            meta = {**conversation.meta, "official": True}
            await self._conversations.update(
                app,
                settings.official_user,
                conversation.conv,
                name=settings.official_name,
                meta=meta,
                as_service=True,
            )
        return conversation.conv

    async def deliver(
        self, app: str, user: str, body: dict[str, Any], *, cmid: str, settings: PolicySettings
    ) -> str:
        """Send ``body`` as a ``text`` message from the official account; the message id (the original's
        for a repeated ``cmid``)."""
        conv = await self.conversation(app, user, settings)
        appended = await self._messages.send(
            app, settings.official_user, conv, kind="text", body=body, cmid=cmid
        )
        return appended.message.mid


class StoreConversationFacts:
    """:class:`~parley.server.services.send_policy.ConversationFacts` over the support tickets and
    the chat profile: "in support" is a ticket waiting for or owned by an agent; negative
    sentiment is the bot's unexpired ``sentiment:negative`` tag."""

    OPEN_STATES = ("waiting_for_agent", "agent")

    def __init__(self, store: _FactsStore) -> None:
        self._store = store

    async def in_support(self, app: str, user: str) -> bool:
        """Whether ``user`` is a customer of a ticket in an open state (one indexed query per state)."""
        for state in self.OPEN_STATES:
            if any(t.customer == user for t in await self._store.list_tickets(app, state=state)):
                return True
        return False

    async def last_negative(self, app: str, user: str) -> int:
        """When the ``sentiment:negative`` tag was set; 0 if absent."""
        profile = await self._store.get_profile(app, user)
        tag = profile.tags.get("sentiment:negative") if profile else None
        return tag.ts if tag else 0


class _FactsStore(Tickets, Profiles, Protocol):
    """The roles :class:`StoreConversationFacts` reads."""


class OfficialConversations:
    """Whether a conversation is a customer's conversation with the official account (the direct
    conversation of the pair, whoever created it)."""

    def __init__(self, conversations: ConversationService) -> None:
        self._conversations = conversations

    async def is_official(self, app: str, conv: str, official: str) -> bool:
        """True for the direct conversation of ``official`` and a customer."""
        return bool(await self.customer(app, conv, official))

    async def customer(self, app: str, conv: str, official: str) -> str:
        """The customer of a direct conversation with ``official``: the pair's other user (from the pair's
        key, so the support bot and agents who join it for a support case are never taken for them);
        "" for any other conversation."""
        found = (await self._conversations.view(app, conv)).conversation
        pair = found.direct_key.split("\n") if found.kind == "direct" and found.direct_key else []
        return next((u for u in pair if u != official), "") if official in pair and len(pair) == 2 else ""


class OptOutListener:
    """Turns opt-out replies in official conversations into consent withdrawals (module docstring)."""

    def __init__(
        self,
        conversations: ConversationService,
        messages: MessageService,
        consent: ConsentWriter,
        *,
        official_users: _OfficialUsers,
    ) -> None:
        self._brand = OfficialConversations(conversations)
        self._messages = messages
        self._consent = consent
        self._official_users = official_users
        self._tasks: set[asyncio.Task[None]] = set()
        #: Opt-outs recorded (tests and metrics).
        self.recorded = 0

    def on_stored(self, results: Sequence[Appended]) -> None:
        """The message service's observer: a cheap check per message, a task per opt-out."""
        for result in results:
            m = result.message
            if result.duplicate or m.kind != "text":
                continue
            tap = read_tap(m.body)
            if tap is not None:
                if tap.action != "opt_out":
                    continue
                topic = tap.topic or FREE_TEXT_TOPIC
            elif isinstance(m.body.get("text"), str) and is_opt_out(m.body["text"]):
                topic = FREE_TEXT_TOPIC
            else:
                continue
            task = asyncio.get_running_loop().create_task(self._record(m, topic))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _record(self, m: StoredMessage, topic: str) -> None:
        try:
            official = await self._official_users.official_user(m.app)
            if m.sender == official or await self._brand.customer(m.app, m.conv, official) != m.sender:
                return  # only the customer opts out (not the bot or an agent serving their case)
            await self._consent.withdraw(m.app, m.sender, topic, via_kind="message", via_ref=m.mid, now=m.ts)
            await self._messages.send(
                m.app, official, m.conv, kind="text",
                body={"text": CONFIRMATION, "opt_out": {"topic": topic, "message": m.mid}}, cmid=f"optout:{m.mid}",
            )  # fmt: skip
            self.recorded += 1
        except Exception:  # the customer's message is stored; a failed opt-out is logged, not lost silently
            log.exception("opt-out of message %s could not be recorded", m.mid)

    async def drain(self) -> None:
        """Wait for the opt-outs being recorded (shutdown, tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)


class _OfficialUsers(Protocol):
    async def official_user(self, app: str) -> str: ...
