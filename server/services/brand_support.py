"""The customer's conversation with the brand as a support conversation: replies to marketing reach the
bot, then agents, on that conversation; and the journey ``handover`` step.

**Replies** (:meth:`BrandSupport.on_stored`, a message-service observer): a ``text`` message of the
customer in their conversation with the official account that is not an opt-out (a tap on an
``opt_out`` button or quick reply, or a free-text "stop": :mod:`.official`) opens a ticket on that
conversation through :meth:`SupportService.open_case` — or reopens a resolved one as a new case —
so the support flow runs there as in any support conversation: bot first, hand-over, agents claim.
The ticket's ``origin`` names the marketing message the reply answered: the latest campaign (or
journey send) message of the official account among the ``LOOKBACK`` messages before it. First the
conversation is made servable: the official account becomes an ``admin`` member (the bot treats
plain members as the customers, so it never answers the brand's own messages) and the support bot
joins as ``admin``, as in every support conversation. The bot joins *after* the reply, so the
``support`` system message names the reply's ``seq`` and the bot answers that message
(``bots/runner.py``). While the case is open further replies simply reach the bot or the agent (they
are members); one that answers a newer marketing message while the bot has the case moves the origin.

**Hand-over** (:meth:`BrandSupport.handover`, the journey step): the same conversation, opened (or
taken from the bot) straight in ``waiting_for_agent`` with the journey, run and step as origin.
Exactly once per run and step: the step log re-runs a step only when it was begun and not finished,
and the retry finds the ticket carrying its own origin and does nothing; a run is executed by one
node at a time (its lease) and a per-conversation lock on the node orders the rest. The ticket is the
one write that counts: a crash after it and before the system messages leaves the case waiting in
the agents' queue without the announcement in the chat.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from typing import Any, Protocol

from parley.proto.campaign import read_marker, read_tap
from parley.proto.vocabulary import MemberRole, SupportState
from parley.server.ids import now_ms
from parley.server.models import Appended, StoredMessage, Ticket
from parley.server.services.conversations import ConversationService
from parley.server.services.official import OfficialAccount, OfficialConversations, is_opt_out
from parley.server.services.policy_rules import PolicySettings
from parley.server.services.send_policy import Recipients
from parley.server.services.support import SupportService
from parley.server.store_ports import Conversations, MessageLog, Tickets

__all__ = ["LOOKBACK", "BrandSupport", "reply_origin"]

log = logging.getLogger("parley.marketing")

#: How many messages before a reply are searched for the marketing message it answers.
LOOKBACK = 20
_CLOSE_WAIT = 2.0


class _Store(Conversations, MessageLog, Tickets, Protocol):
    """The store roles this service reads and writes."""


class _Policy(Protocol):
    async def settings(self, app: str) -> PolicySettings: ...


def reply_origin(reply: StoredMessage, earlier: Sequence[StoredMessage], official: str) -> dict[str, Any]:
    """The ticket origin of ``reply``: the latest marketing message of ``official`` in ``earlier``
    (a campaign's ``campaign``/``variant``, or a journey send's ``journey``/``step``), with both message
    ids; ``{"kind": "message", "reply": ...}`` when no marketing message precedes it."""
    for prior in reversed(earlier):
        marker = read_marker(prior.body) if prior.sender == official else None
        if marker is None:
            continue
        if marker.id.startswith("journey:"):
            found = {"kind": "journey", "journey": marker.id.removeprefix("journey:"), "step": marker.variant}
        else:
            found = {"kind": "campaign", "campaign": marker.id, "variant": marker.variant}
        return {**found, "message": prior.mid, "reply": reply.mid}
    return {"kind": "message", "reply": reply.mid}


class BrandSupport:
    """Support on the customer's conversation with the brand (see the module docstring)."""

    def __init__(
        self,
        store: _Store,
        support: SupportService,
        conversations: ConversationService,
        official: OfficialAccount,
        policy: _Policy,
        recipients: Recipients,
        *,
        support_bot: str,
        cache: int = 50_000,
    ) -> None:
        self._store = store
        self._support = support
        self._conversations = conversations
        self._brand = OfficialConversations(conversations)
        self._official = official
        self._policy = policy
        self._recipients = recipients
        self._support_bot = support_bot
        #: (app, conv) -> the customer of a brand conversation, "" for any other conversation.
        self._customers: OrderedDict[tuple[str, str], str] = OrderedDict()
        self._cache = cache
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._tasks: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ replies
    def on_stored(self, results: Sequence[Appended]) -> None:
        """The message service's observer: a cheap look per message, a task per possible reply."""
        for result in results:
            m = result.message
            known = self._customers.get((m.app, m.conv))
            if result.duplicate or m.kind != "text" or (known is not None and known != m.sender):
                continue  # not a brand conversation, or not its customer writing
            if "campaign" in m.body or "opt_out" in m.body:
                continue  # the brand's own sends (campaign messages, opt-out confirmations): no task each
            tap = read_tap(m.body)
            text = m.body.get("text")
            if (tap is not None and tap.action == "opt_out") or (
                tap is None and isinstance(text, str) and is_opt_out(text)
            ):
                continue
            task = asyncio.get_running_loop().create_task(self._route(m))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _route(self, m: StoredMessage) -> None:
        try:
            official = (await self._policy.settings(m.app)).official_user
            if m.sender == official or await self._customer(m.app, m.conv, official) != m.sender:
                return
            async with self._serial(m.app, m.conv):
                await self._open_for(m, official)
        except Exception:  # the reply is stored; a case not opened is logged, never the chat's failure
            log.exception("the reply %s could not open a support case", m.mid)

    async def _open_for(self, m: StoredMessage, official: str) -> None:
        ticket = await self._store.get_ticket(m.app, m.conv)
        if ticket is not None and ticket.state not in (SupportState.BOT, SupportState.RESOLVED):
            return  # with the agents: the reply reaches them as it is
        earlier = await self._store.get_messages(m.app, m.conv, max(1, m.seq - LOOKBACK), m.seq - 1)
        origin = reply_origin(m, earlier, official)
        if ticket is not None and ticket.state == SupportState.BOT:
            # The bot has the case: it got the reply as a member; only a newer campaign moves the origin.
            if "message" in origin and origin.get("message") != ticket.origin.get("message"):
                moved = dataclasses.replace(ticket, origin=origin, updated=now_ms())
                await self._store.update_ticket(moved, {SupportState.BOT})
            return
        await self._servable(m.app, m.conv, official)
        now = now_ms()
        fresh = Ticket(m.app, m.conv, m.sender, SupportState.BOT, created=now, updated=now, origin=origin)
        await self._support.open_case(fresh, m.sender, reply=m.seq)

    # ---------------------------------------------------------------- hand-over
    async def handover(self, app: str, pid: str, reason: str, *, journey: str, run: str, step: str) -> str:
        """Hand profile ``pid``'s conversation with the brand to the agents (``waiting_for_agent``, origin the
        journey ``run``'s ``step``); the conversation id, "" when the profile has no chat user. A case
        already with the agents is left as it is; a retry of the same run and step changes nothing."""
        who = await self._recipients.recipient(app, pid)
        if who is None or not who.user:
            return ""
        settings = await self._policy.settings(app)
        conv = await self._official.conversation(app, who.user, settings)
        origin = {"kind": "journey", "journey": journey, "run": run, "step": step}
        async with self._serial(app, conv):
            ticket = await self._store.get_ticket(app, conv)
            if ticket is not None and (ticket.origin == origin or ticket.state in _WITH_AGENTS):
                return conv
            await self._servable(app, conv, settings.official_user)
            now = now_ms()
            fresh = Ticket(
                app, conv, who.user, SupportState.WAITING_FOR_AGENT, reason=reason,
                summary=f"journey {journey}, step {step}: {reason}", created=now, updated=now, origin=origin,
            )  # fmt: skip
            await self._support.open_case(fresh, settings.official_user, replace=_REPLACEABLE)
        return conv

    # ------------------------------------------------------------------ helpers
    async def _servable(self, app: str, conv: str, official: str) -> None:
        """The brand an ``admin`` (not a customer, to the bot) and the support bot a member, idempotently."""
        await self._store.set_member_role(app, conv, official, MemberRole.ADMIN)
        if self._support_bot and not await self._conversations.is_member(app, conv, self._support_bot):
            await self._conversations.add_members(
                app, official, conv, [self._support_bot], MemberRole.ADMIN, as_service=True
            )

    async def _customer(self, app: str, conv: str, official: str) -> str:
        key = (app, conv)
        known = self._customers.get(key)
        if known is None:
            known = self._customers[key] = await self._brand.customer(app, conv, official)
            if len(self._customers) > self._cache:
                self._customers.popitem(last=False)
        return known

    @contextlib.asynccontextmanager
    async def _serial(self, app: str, conv: str) -> AsyncIterator[None]:
        lock = self._locks.get((app, conv))
        if lock is None:
            lock = self._locks[(app, conv)] = asyncio.Lock()
        async with lock:
            yield

    async def drain(self) -> None:
        """Wait for the replies being routed (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        """Shutdown: give the replies being routed a moment, then cancel the rest (the store may be gone)."""
        if self._tasks:
            _, pending = await asyncio.wait(list(self._tasks), timeout=_CLOSE_WAIT)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)


_WITH_AGENTS = frozenset({SupportState.WAITING_FOR_AGENT, SupportState.AGENT})
_REPLACEABLE = frozenset({SupportState.BOT, SupportState.RESOLVED})
