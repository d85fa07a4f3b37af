"""Customer service: the hand-off state machine of ``support`` conversations.

States: ``bot`` → ``waiting_for_agent`` → ``agent`` → ``resolved`` (and back
to ``bot`` when an agent releases). The ticket in the store is the truth and
changes by compare-and-set, so two agents claiming at once cannot both win.
Every transition is also written into the conversation as a ``system``
message ``{"event": "support", "state", "agent", "by"}`` that every member sees, and
mirrored into the conversation's ``meta["support"]`` (``{"state", "agent"}``; only this
service writes it, so meta and ticket never disagree).

What the customer must not see stays with the service side: the hand-over
``reason`` and ``summary`` (a model's view of the customer) are kept on the
ticket, recorded in the agents-only notes conversation and added to the
conversation records agents get (``support_queue``, ``support_claim``).

Who may write (:meth:`SupportService.write_refusal`, the one rule the gateway
applies to every frame that writes): the bot only while the state is ``bot`` (it
announces a hand-off before making it, then keeps quiet: ``BOT_SILENT_STATES``); an agent
only while it owns the ticket; anyone else (the customer) always. An agent joins only once its claim (or transfer) has won the
compare-and-set, and is demoted to a plain member when it loses the ticket.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Protocol

from parley.proto import frames
from parley.proto.errors import ErrorCode
from parley.proto.vocabulary import BOT_SILENT_STATES, MemberRole, SupportState, UserRole
from parley.server.audience_models import USER_KIND, Identifier
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.models import TagRecord, Ticket
from parley.server.services.conversations import ConversationService, ConversationView
from parley.server.services.messages import MessageService
from parley.server.services.presence import PresenceService
from parley.server.store_ports import Conversations, Directory, MessageLog, Profiles, Tickets

__all__ = ["SupportService"]


class SupportStore(Conversations, MessageLog, Tickets, Directory, Profiles, Protocol):
    """The role ports this service uses: tickets, conversations, messages, agents and profiles."""


BOT, WAITING, AGENT, RESOLVED = (
    SupportState.BOT,
    SupportState.WAITING_FOR_AGENT,
    SupportState.AGENT,
    SupportState.RESOLVED,
)
SUMMARY_TURNS = 6


class SupportService:
    """The support hand-off state machine over the ticket (see the module docstring): every transition
    is a compare-and-set on the ticket, then mirrored into ``meta.support`` and a ``system`` message.
    """

    def __init__(
        self,
        store: SupportStore,
        conversations: ConversationService,
        messages: MessageService,
        presence: PresenceService,
        *,
        max_per_agent: int,
    ) -> None:
        self._store = store
        self._conversations = conversations
        self._messages = messages
        self._presence = presence
        self._max_per_agent = max_per_agent
        #: Refuses an erased person's identifiers (set by ``build_services``; None: no check).
        self.erased_check: Callable[[str, list[Identifier]], Awaitable[None]] | None = None
        #: Told ``(state before, ticket after)`` of every transition: the queue pushed to agents
        #: (``QueueNotifier.changed``, set by ``build_services``; None: agents poll).
        self.on_moved: Callable[[str, Ticket], Awaitable[None]] | None = None

    async def ticket(self, app: str, conv: str) -> Ticket:
        """The ticket of ``conv``; ``ServiceError(NOT_FOUND)`` if it is not a support conversation."""
        found = await self._store.get_ticket(app, conv)
        if found is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"{conv} is not a support conversation")
        return found

    async def find_ticket(self, app: str, conv: str) -> Ticket | None:
        """The ticket of ``conv``; None if it is not a support conversation."""
        return await self._store.get_ticket(app, conv)

    async def tickets(self, app: str, *, state: str | None = None, agent: str | None = None) -> list[Ticket]:
        """Tickets matching ``state`` and/or ``agent``, least recently updated first."""
        return await self._store.list_tickets(app, state=state, agent=agent)

    async def is_agent(self, app: str, user: str) -> bool:
        """Whether ``user`` is one of the app's agents (role ``agent``)."""
        return user in {u.user for u in await self._store.list_users(app, UserRole.AGENT)}

    async def _move(self, ticket: Ticket, actor: str, expect: Collection[str], **changes: Any) -> Ticket:
        moved = dataclasses.replace(ticket, updated=now_ms(), **changes)
        if not await self._store.update_ticket(moved, expect):
            current = await self.ticket(ticket.app, ticket.conv)
            raise ServiceError(
                ErrorCode.INVALID_REQUEST, f"not possible while the conversation is {current.state!r}"
            )
        await self._publish(moved, actor)
        if self.on_moved is not None:
            await self.on_moved(ticket.state, moved)
        return moved

    async def _publish(self, ticket: Ticket, actor: str, **extra: Any) -> None:
        """Mirror the ticket's state into ``meta.support`` and announce it as a ``support`` system message."""
        state = ticket.public()
        conversation = await self._store.get_conversation(ticket.app, ticket.conv)
        meta = {**(conversation.meta if conversation else {}), "support": state}
        await self._store.update_conversation(ticket.app, ticket.conv, meta=meta)
        await self._messages.system_event(
            ticket.app, ticket.conv, actor, "support", by=actor, **state, **extra
        )

    async def open_case(
        self, ticket: Ticket, actor: str, *, reply: int = 0, replace: Collection[str] = (RESOLVED,)
    ) -> Ticket:
        """Open ``ticket`` on a conversation that is not of kind ``support`` (the customer's conversation
        with the brand: ``services/brand_support.py``; the caller serialises per conversation), or put it
        in place of one in a ``replace`` state (by default ``resolved``: a new case). Its state is ``bot`` (``reply``: the seq of the
        customer's message the bot is to answer, named in the system message) or ``waiting_for_agent``
        (agents are told in the notes conversation, and a free one is assigned). A ticket already in
        another state is returned unchanged."""
        current = await self._store.get_ticket(ticket.app, ticket.conv)
        if current is None:
            await self._store.save_ticket(ticket)
        elif current.state not in replace:
            return current
        elif not await self._store.update_ticket(
            dataclasses.replace(ticket, notes_conv=current.notes_conv), replace
        ):
            return await self.ticket(ticket.app, ticket.conv)  # changed meanwhile: as it is now
        await self._publish(ticket, actor, **({"reply": reply} if reply else {}))
        if self.on_moved is not None:
            await self.on_moved(current.state if current else "", ticket)
        if ticket.state != WAITING:
            return ticket
        ticket = await self._ensure_notes(ticket, {WAITING})
        await self._messages.system_event(
            ticket.app, ticket.notes_conv, actor, "handoff",
            support_conv=ticket.conv, by=actor, reason=ticket.reason, summary=ticket.summary,
        )  # fmt: skip
        return await self.auto_assign(ticket) or ticket

    # ------------------------------------------------------------ transitions
    async def handoff(self, app: str, actor: str, role: str, conv: str, reason: str, summary: str) -> Ticket:
        """Ask for a human (the bot, or the customer); then assign an agent if one is free."""
        ticket = await self.ticket(app, conv)
        if role != UserRole.BOT and actor != ticket.customer:
            raise ServiceError(ErrorCode.FORBIDDEN, "only the bot or the customer hands over")
        if not await self._conversations.is_member(app, conv, actor):
            raise ServiceError(ErrorCode.FORBIDDEN, f"not a member of conversation {conv}")
        summary = summary or await self._summarise(app, conv)
        ticket = await self._ensure_notes(ticket, {BOT})
        reason = reason or "handoff"
        moved = await self._move(ticket, actor, {BOT}, state=WAITING, reason=reason, summary=summary)
        # For agents only: the customer never receives the notes conversation.
        await self._messages.system_event(
            app,
            ticket.notes_conv,
            actor,
            "handoff",
            support_conv=conv,
            by=actor,
            reason=reason,
            summary=summary,
        )
        return await self.auto_assign(moved) or moved

    async def claim(self, app: str, agent: str, conv: str) -> ConversationView:
        """An agent takes the conversation (waiting, or still with the bot).

        The compare-and-set comes first: an agent whose claim loses gets no access at all.
        """
        ticket = await self.ticket(app, conv)
        moved = await self._move(ticket, agent, {WAITING, BOT}, state=AGENT, agent=agent)
        await self._join(app, agent, moved)
        return await self.agent_view(moved)

    async def transfer(self, app: str, agent: str, conv: str, to: str) -> None:
        """The owning agent hands the conversation to agent ``to`` (compare-and-set on ``agent``
        state), who joins it and its notes; the giver is demoted to a plain member.
        ``ServiceError``: FORBIDDEN unless ``agent`` owns it, INVALID_REQUEST if ``to`` is no agent.
        """
        ticket = await self._owned(app, agent, conv)
        if to not in {u.user for u in await self._store.list_users(app, UserRole.AGENT)}:
            raise ServiceError(ErrorCode.INVALID_REQUEST, f"{to} is not an agent")
        moved = await self._move(ticket, agent, {AGENT}, agent=to, reason=f"transferred by {agent}")
        await self._join(app, to, moved)
        if to != agent:
            await self._demote(app, conv, agent)

    async def release(self, app: str, agent: str, conv: str) -> None:
        """Hand the conversation back to the bot."""
        ticket = await self._owned(app, agent, conv)
        await self._move(ticket, agent, {AGENT}, state=BOT, agent="", reason=f"released by {agent}")
        await self._demote(app, conv, agent)

    async def resolve(self, app: str, actor: str, role: str, conv: str) -> None:
        """Close the case (the owning agent, or the bot while it handles it); ask for a score."""
        ticket = await self.ticket(app, conv)
        if not (role == UserRole.AGENT and ticket.agent == actor) and not (
            role == UserRole.BOT and ticket.state == BOT
        ):
            raise ServiceError(
                ErrorCode.FORBIDDEN, "only the owning agent (or the bot, while it answers) resolves"
            )
        await self._move(ticket, actor, {ticket.state} - {RESOLVED}, state=RESOLVED)
        await self._messages.system_event(app, conv, actor, "csat_request", scale=[1, 5])

    async def rate(self, app: str, customer: str, conv: str, score: int) -> None:
        """The customer's score for a resolved conversation, once per ticket: the compare-and-set on
        "unrated" makes a second rate (even a concurrent one) fail with INVALID_REQUEST. Then the
        customer's profile gets a ``csat:<score>`` tag and counters, and a ``csat`` system message.
        """
        ticket = await self.ticket(app, conv)
        if customer != ticket.customer:
            raise ServiceError(ErrorCode.FORBIDDEN, "only the customer rates the service")
        if ticket.state != RESOLVED:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "rate after the conversation is resolved")
        # Once per ticket: a later rate is refused (not replaced), so the profile's
        # counters count each ticket once. The store's compare-and-set on "unrated"
        # settles two concurrent rates.
        if ticket.score or not await self._store.update_ticket(
            dataclasses.replace(ticket, score=score, updated=now_ms()), {RESOLVED}, unrated=True
        ):
            raise ServiceError(ErrorCode.INVALID_REQUEST, "this conversation was already rated")
        now = now_ms()
        if not await self._erased(app, customer):  # an erased customer's rating makes no profile again
            await self._store.merge_profile(
                app,
                customer,
                set_tags=[TagRecord(f"csat:{score}", "customer", 1.0, conv, now, 0)],
                counters={f"csat_{score}": 1, "csat_count": 1, "csat_total": score},
                updated=now,
            )
        await self._messages.system_event(app, conv, customer, "csat", score=score)

    async def _erased(self, app: str, user: str) -> bool:
        """Whether ``user`` belongs to an erased person (docs/AUDIENCE.md ``## Compliance``)."""
        if self.erased_check is None:
            return False
        try:
            await self.erased_check(app, [Identifier(USER_KIND, user)])
        except ServiceError:
            return True
        return False

    # ---------------------------------------------------------------- agents
    async def queue(self, app: str, agent: str) -> tuple[list[frames.ConvInfo], list[frames.ConvInfo]]:
        """Waiting conversations (oldest first) and the agent's own."""
        waiting = await self._store.list_tickets(app, state=WAITING)
        mine = [t for t in await self._store.list_tickets(app, agent=agent) if t.state == AGENT]
        return [await self._info(t) for t in waiting], [await self._info(t) for t in mine]

    async def agent_view(self, ticket: Ticket) -> ConversationView:
        """The conversation as agents see it: ``meta.support`` also has the hand-over
        ``reason`` and ``summary`` and the ``customer`` (never stored in the meta members read)."""
        view = await self._conversations.view(ticket.app, ticket.conv)
        support = {
            **ticket.public(),
            "reason": ticket.reason,
            "summary": ticket.summary,
            "customer": ticket.customer,  # which member is the customer (the console's profile panel)
            "origin": ticket.origin,  # the campaign or journey the case came from (brand conversations)
        }
        conversation = dataclasses.replace(
            view.conversation, meta={**view.conversation.meta, "support": support}
        )
        return ConversationView(conversation, view.members)

    def write_refusal(self, ticket: Ticket, user: str, role: str) -> str:
        """Why ``user`` (with token role ``role``) may not write into the ticket's
        conversation now, or "" if it may. The customer (and other users) always may."""
        if role == UserRole.BOT and ticket.state in BOT_SILENT_STATES:  # the one bot-silence rule
            return f"the bot stays silent while the conversation is '{ticket.state}'"
        if role == UserRole.AGENT and not (ticket.agent == user and ticket.state in (AGENT, RESOLVED)):
            return "only the agent who owns the conversation writes in it"
        return ""

    async def note(self, app: str, agent: str, conv: str, text: str) -> frames.Ack:
        """An internal note, in an agents-only conversation linked to the ticket."""
        ticket = await self._ensure_notes(await self.ticket(app, conv), None)
        if not await self._conversations.is_member(app, ticket.notes_conv, agent):
            await self._conversations.add_members(app, agent, ticket.notes_conv, [agent], as_service=True)
        result = await self._messages.send(app, agent, ticket.notes_conv, kind="text", body={"text": text})
        m = result.message
        return frames.Ack(id=0, conv=m.conv, cmid=m.cmid, mid=m.mid, seq=m.seq, ts=m.ts)

    async def auto_assign(self, ticket: Ticket) -> Ticket | None:
        """Give a waiting conversation to the least-loaded online agent under the limit."""
        agents = [u.user for u in await self._store.list_users(ticket.app, UserRole.AGENT)]
        if not agents:
            return None
        online = {p.user for p in await self._presence.current(ticket.app, agents) if p.online}
        load = Counter(t.agent for t in await self._store.list_tickets(ticket.app, state=AGENT))
        free = sorted((load[a], a) for a in agents if a in online and load[a] < self._max_per_agent)
        for _, agent in free:
            try:
                await self.claim(ticket.app, agent, ticket.conv)
            except ServiceError:
                continue  # claimed meanwhile by someone else
            return await self.ticket(ticket.app, ticket.conv)
        return None

    # --------------------------------------------------------------- helpers
    async def _owned(self, app: str, agent: str, conv: str) -> Ticket:
        ticket = await self.ticket(app, conv)
        if ticket.state != AGENT or ticket.agent != agent:
            raise ServiceError(ErrorCode.FORBIDDEN, "only the agent who owns the conversation may do that")
        return ticket

    async def _ensure_notes(self, ticket: Ticket, expect: Collection[str] | None) -> Ticket:
        """The ticket with its agents-only notes conversation (created without members:
        agents join it when they join the ticket, and nobody else ever does)."""
        if ticket.notes_conv:
            return ticket
        if expect is not None and ticket.state not in expect:
            raise ServiceError(
                ErrorCode.INVALID_REQUEST, f"not possible while the conversation is {ticket.state!r}"
            )
        notes = await self._conversations.create_internal(
            ticket.app, name=f"notes {ticket.conv}", meta={"notes_for": ticket.conv}
        )
        linked = dataclasses.replace(ticket, notes_conv=notes.conv)
        if not await self._store.update_ticket(linked, expect or {ticket.state}):
            current = await self.ticket(ticket.app, ticket.conv)
            if expect is not None and current.state not in expect:
                raise ServiceError(
                    ErrorCode.INVALID_REQUEST, f"not possible while the conversation is {current.state!r}"
                )
            raise ServiceError(ErrorCode.UNAVAILABLE, "the ticket changed meanwhile; retry")
        return linked

    async def _demote(self, app: str, conv: str, agent: str) -> None:
        """An agent that lost the ticket keeps reading as a plain member, no longer an admin."""
        await self._store.set_member_role(app, conv, agent, MemberRole.MEMBER)

    async def _join(self, app: str, agent: str, ticket: Ticket) -> None:
        if not await self._conversations.is_member(app, ticket.conv, agent):
            await self._conversations.add_members(
                app, agent, ticket.conv, [agent], MemberRole.ADMIN, as_service=True
            )
        if ticket.notes_conv and not await self._conversations.is_member(app, ticket.notes_conv, agent):
            await self._conversations.add_members(app, agent, ticket.notes_conv, [agent], as_service=True)

    async def _info(self, ticket: Ticket) -> frames.ConvInfo:
        return (await self.agent_view(ticket)).info()

    async def _summarise(self, app: str, conv: str) -> str:
        """A plain summary for the agent: the last few things people said."""
        conversation = await self._store.get_conversation(app, conv)
        if conversation is None or not conversation.last_seq:
            return ""
        first = max(1, conversation.last_seq - 3 * SUMMARY_TURNS)
        said = [
            f"{m.sender}: {m.body['text'][:200]}"
            for m in await self._store.get_messages(app, conv, first, conversation.last_seq)
            if m.kind == "text" and isinstance(m.body.get("text"), str)
        ]
        return "\n".join(said[-SUMMARY_TURNS:])
