"""SupportService: the hand-off state machine (bot → waiting_for_agent → agent → resolved, and
back to bot), who may move it, what agents see that customers do not, and the one write rule."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from parley.proto.errors import ErrorCode
from parley.server.models import Ticket, User
from parley.server.services.conversations import ConversationService
from parley.server.services.messages import MessageService
from parley.server.services.presence import PresenceService
from parley.server.services.support import SupportService
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import Wire, refused

A = "app1"


@dataclass
class Desk:
    store: SQLiteStore
    messages: MessageService
    conversations: ConversationService
    presence: PresenceService
    support: SupportService

    async def open(self, customer: str = "cust") -> str:
        view = await self.conversations.create(A, customer, "support", [])
        return view.conversation.conv

    async def ticket(self, conv: str) -> Ticket:
        return await self.support.ticket(A, conv)

    async def roles(self, conv: str) -> dict[str, str]:
        return {m.user: m.role for m in await self.store.list_members(A, conv)}

    async def events(self, conv: str) -> list[dict[str, object]]:
        conversation = await self.store.get_conversation(A, conv)
        assert conversation is not None
        found = await self.store.get_messages(A, conv, 1, conversation.last_seq)
        return [m.body for m in found if m.kind == "system"]


@pytest.fixture
async def desk(store: SQLiteStore, wire: Wire) -> Desk:
    messages = MessageService(store, wire.broker)
    conversations = ConversationService(store, wire.broker, messages, max_members=50, support_bot="helper")
    presence = PresenceService(store, wire.broker, ttl=3600)
    support = SupportService(store, conversations, messages, presence, max_per_agent=1)
    for agent in ("ann", "ben"):
        await store.upsert_user(User(app=A, user=agent, role="agent", created=1))
    return Desk(store, messages, conversations, presence, support)


async def test_only_support_conversations_have_a_ticket(desk: Desk) -> None:
    group = (await desk.conversations.create(A, "cust", "group", [])).conversation.conv
    with refused(ErrorCode.NOT_FOUND, "is not a support conversation"):
        await desk.support.ticket(A, group)
    with refused(ErrorCode.NOT_FOUND):
        await desk.support.claim(A, "ann", group)


async def test_a_handoff_waits_for_an_agent_and_keeps_the_reason_from_the_customer(desk: Desk) -> None:
    conv = await desk.open()
    await desk.messages.send(A, "cust", conv, kind="text", body={"text": "my order is late"})
    await desk.messages.send(A, "helper", conv, kind="text", body={"text": "let me check"})
    with refused(ErrorCode.FORBIDDEN, "only the bot or the customer"):
        await desk.support.handoff(A, "stranger", "user", conv, "", "")
    with refused(ErrorCode.FORBIDDEN, "not a member"):
        await desk.support.handoff(A, "otherbot", "bot", conv, "", "")
    ticket = await desk.support.handoff(A, "helper", "bot", conv, "angry", "")  # nobody online
    assert (ticket.state, ticket.agent, ticket.reason) == ("waiting_for_agent", "", "angry")
    assert ticket.summary == "cust: my order is late\nhelper: let me check", "summarised from the chat"
    stored = await desk.store.get_conversation(A, conv)
    assert stored is not None and stored.meta["support"] == {"state": "waiting_for_agent", "agent": ""}
    assert "angry" not in repr(stored.meta) and "late" not in repr(stored.meta), "the customer never sees it"
    assert (await desk.events(conv))[-1] == {
        "event": "support", "by": "helper", "state": "waiting_for_agent", "agent": "",
    }  # fmt: skip
    # The agents-only notes conversation has the reason and summary, and no member yet.
    assert ticket.notes_conv and await desk.store.list_members(A, ticket.notes_conv) == []
    (note,) = await desk.events(ticket.notes_conv)
    assert (note["event"], note["reason"], note["support_conv"]) == ("handoff", "angry", conv)
    with refused(ErrorCode.INVALID_REQUEST, "while the conversation is 'waiting_for_agent'"):
        await desk.support.handoff(A, "cust", "user", conv, "", "")
    # Agents see reason and summary in their view.
    view = await desk.support.agent_view(ticket)
    assert view.conversation.meta["support"]["reason"] == "angry"


async def test_a_claim_is_won_once_and_a_losing_agent_gets_no_access(desk: Desk) -> None:
    conv = await desk.open()
    await desk.support.handoff(A, "cust", "user", conv, "", "")
    view = await desk.support.claim(A, "ann", conv)
    assert view.conversation.meta["support"]["state"] == "agent"
    ticket = await desk.ticket(conv)
    assert (ticket.state, ticket.agent) == ("agent", "ann")
    assert (await desk.roles(conv))["ann"] == "admin"
    assert await desk.conversations.is_member(A, ticket.notes_conv, "ann")
    with refused(ErrorCode.INVALID_REQUEST, "while the conversation is 'agent'"):
        await desk.support.claim(A, "ben", conv)
    assert "ben" not in await desk.roles(conv)
    assert not await desk.conversations.is_member(A, ticket.notes_conv, "ben")


async def test_a_claim_may_take_a_conversation_still_with_the_bot(desk: Desk) -> None:
    conv = await desk.open()
    await desk.support.claim(A, "ann", conv)
    ticket = await desk.ticket(conv)
    assert (ticket.state, ticket.agent) == ("agent", "ann")


async def test_auto_assignment_picks_an_online_agent_under_the_limit(desk: Desk) -> None:
    await desk.presence.connected(A, "ben", "n1:1")  # ann stays offline
    first = await desk.open("c1")
    assigned = await desk.support.handoff(A, "c1", "user", first, "", "")
    assert (assigned.state, assigned.agent) == ("agent", "ben")
    second = await desk.open("c2")
    waiting = await desk.support.handoff(A, "c2", "user", second, "", "")
    assert (waiting.state, waiting.agent) == ("waiting_for_agent", ""), "ben is at max_per_agent=1"
    await desk.presence.connected(A, "ann", "n1:2")
    again = await desk.support.auto_assign(waiting)
    assert again is not None and again.agent == "ann"
    queue, mine = await desk.support.queue(A, "ann")
    assert queue == [] and [c.conv for c in mine] == [second]


async def test_only_the_owner_transfers_to_an_agent_and_the_old_owner_is_demoted(desk: Desk) -> None:
    conv = await desk.open()
    await desk.support.claim(A, "ann", conv)
    with refused(ErrorCode.FORBIDDEN, "only the agent who owns"):
        await desk.support.transfer(A, "ben", conv, "ben")
    with refused(ErrorCode.INVALID_REQUEST, "cust is not an agent"):
        await desk.support.transfer(A, "ann", conv, "cust")
    await desk.support.transfer(A, "ann", conv, "ben")
    ticket = await desk.ticket(conv)
    assert (ticket.state, ticket.agent, ticket.reason) == ("agent", "ben", "transferred by ann")
    roles = await desk.roles(conv)
    assert (roles["ben"], roles["ann"]) == ("admin", "member")


async def test_a_release_hands_back_to_the_bot(desk: Desk) -> None:
    conv = await desk.open()
    with refused(ErrorCode.FORBIDDEN, "only the agent who owns"):
        await desk.support.release(A, "ann", conv)
    await desk.support.claim(A, "ann", conv)
    await desk.support.release(A, "ann", conv)
    ticket = await desk.ticket(conv)
    assert (ticket.state, ticket.agent) == ("bot", "")
    assert (await desk.roles(conv))["ann"] == "member"


async def test_resolving_is_for_the_owning_agent_or_the_bot_while_it_answers(desk: Desk) -> None:
    conv = await desk.open()
    with refused(ErrorCode.FORBIDDEN, "only the owning agent"):
        await desk.support.resolve(A, "cust", "user", conv)
    await desk.support.claim(A, "ann", conv)
    with refused(ErrorCode.FORBIDDEN, "only the owning agent"):
        await desk.support.resolve(A, "helper", "bot", conv)
    with refused(ErrorCode.FORBIDDEN, "only the owning agent"):
        await desk.support.resolve(A, "ben", "agent", conv)
    await desk.support.resolve(A, "ann", "agent", conv)
    assert (await desk.ticket(conv)).state == "resolved"
    assert (await desk.events(conv))[-1] == {"event": "csat_request", "scale": [1, 5]}
    with refused(ErrorCode.INVALID_REQUEST, "while the conversation is 'resolved'"):
        await desk.support.resolve(A, "ann", "agent", conv)
    other = await desk.open("c2")
    await desk.support.resolve(A, "helper", "bot", other)
    assert (await desk.ticket(other)).state == "resolved"


async def test_the_customer_rates_once_after_resolution_and_it_lands_on_their_profile(desk: Desk) -> None:
    conv = await desk.open()
    with refused(ErrorCode.INVALID_REQUEST, "rate after the conversation is resolved"):
        await desk.support.rate(A, "cust", conv, 5)
    await desk.support.resolve(A, "helper", "bot", conv)
    with refused(ErrorCode.FORBIDDEN, "only the customer"):
        await desk.support.rate(A, "helper", conv, 1)
    await desk.support.rate(A, "cust", conv, 4)
    with refused(ErrorCode.INVALID_REQUEST, "already rated"):
        await desk.support.rate(A, "cust", conv, 1)
    assert (await desk.ticket(conv)).score == 4
    profile = await desk.store.get_profile(A, "cust")
    assert profile is not None and set(profile.tags) == {"csat:4"}
    assert profile.counters == {"csat_4": 1, "csat_count": 1, "csat_total": 4}


async def test_the_write_rule(desk: Desk) -> None:
    def ticket(state: str, agent: str = "") -> Ticket:
        return Ticket(app=A, conv="c", customer="cust", state=state, agent=agent, created=1, updated=1)

    refusal = desk.support.write_refusal
    assert refusal(ticket("bot"), "helper", "bot") == ""
    assert "stays silent" in refusal(ticket("waiting_for_agent"), "helper", "bot"), "it said one is coming"
    for state in ("bot", "waiting_for_agent"):
        assert refusal(ticket(state), "ann", "agent") != "", "no agent owns it yet"
    for state in ("agent", "resolved"):
        assert "stays silent" in refusal(ticket(state, "ann"), "helper", "bot")
        assert refusal(ticket(state, "ann"), "ann", "agent") == ""
        assert refusal(ticket(state, "ann"), "ben", "agent") != ""
    for state in ("bot", "waiting_for_agent", "agent", "resolved"):
        assert refusal(ticket(state, "ann"), "cust", "user") == "", "the customer always may"


async def test_an_agent_note_goes_to_the_notes_conversation_only(desk: Desk) -> None:
    conv = await desk.open()
    ack = await desk.support.note(A, "ann", conv, "VIP customer")
    ticket = await desk.ticket(conv)
    assert ack.conv == ticket.notes_conv != conv
    assert await desk.conversations.is_member(A, ticket.notes_conv, "ann")
    texts = [m.body.get("text") for m in await desk.store.get_messages(A, ticket.notes_conv, 1, ack.seq)]
    assert "VIP customer" in texts
    assert "cust" not in await desk.roles(ticket.notes_conv)
    customer_side = await desk.store.get_conversation(A, conv)
    assert customer_side is not None
    seen = await desk.store.get_messages(A, conv, 1, max(customer_side.last_seq, 1))
    assert "VIP" not in repr(seen)
