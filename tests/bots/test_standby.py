"""Two bot processes for one app over loopback: one answers, the other stands by and takes over.

Each "process" is its own SDK client (the same bot user), its own admin client and its own
:class:`Standby` on the app's lease — as two ``python -m parley.bots`` would run. The lease
is asked for by calling :meth:`Standby.step` directly (the background loop would ask every
``ttl_s / 3`` seconds), so the tests wait for events, never for a timer, except for a lease to
run out after a simulated crash.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest

from parley.bots.answer import Answerer
from parley.bots.knowledge import HandoffDetector, KnowledgeIndex
from parley.bots.runner import SupportBot
from parley.bots.standby import Standby
from parley.sdk import AdminClient, Client, EventStream, Message, MessageEvent
from tests.bots.test_runner import BOT, ask, connect, from_bot, handled, support_event
from tests.harness import RunningNode, running_node
from tests.sdk.helpers import first, until

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path) as running:
        yield running


@asynccontextmanager
async def bot_process(
    node: RunningNode, index: KnowledgeIndex, holder: str, ttl_s: int = 3
) -> AsyncIterator[SupportBot]:
    """One bot process: client, admin client, lease and bot (nothing asked yet)."""
    async with connect(node, BOT, "bot") as client, AdminClient(node.http, node.api_key) as admin:
        standby = Standby(admin, holder=holder, ttl_s=ttl_s, margin_s=0.5)
        bot = SupportBot(client, Answerer(index, None), detector=HandoffDetector(), standby=standby)
        bot.start()
        try:
            yield bot
        finally:
            await bot.stop()
            await standby.stop()


async def pair(
    stack: AsyncExitStack, node: RunningNode, index: KnowledgeIndex, ttl_s: int
) -> tuple[SupportBot, SupportBot]:
    """Two bot processes, ``a`` holding the lease and ``b`` standing by."""
    a = await stack.enter_async_context(bot_process(node, index, "a", ttl_s=ttl_s))
    b = await stack.enter_async_context(bot_process(node, index, "b", ttl_s=ttl_s))
    assert a.standby is not None and b.standby is not None
    assert await a.standby.step() and a.answering
    assert not await b.standby.step() and not b.answering
    assert b.standby.seen_holder == "a"
    return a, b


async def support_case(
    stack: AsyncExitStack, node: RunningNode
) -> tuple[Client, EventStream[MessageEvent], str]:
    """A customer, their message events and a new support conversation."""
    customer = await stack.enter_async_context(connect(node, "cust"))
    inbox = customer.events(MessageEvent)
    return customer, inbox, (await customer.create_support()).conv


async def answered_by_the_holder(
    stack: AsyncExitStack, node: RunningNode, index: KnowledgeIndex, question: str
) -> tuple[SupportBot, SupportBot, Client, EventStream[MessageEvent], str, Message]:
    """A pair (30 s lease), a support case, and ``question`` (about shipping) answered by ``a``
    and followed by ``b``: both processes, the customer, their events, the conversation, the answer."""
    a, b = await pair(stack, node, index, ttl_s=30)
    customer, inbox, conv = await support_case(stack, node)
    answer = await ask(customer, inbox, conv, question)
    assert "¥299" in (answer.text or "")
    await handled(b, answer)
    return a, b, customer, inbox, conv, answer


async def planned_stop(a: SupportBot, b: SupportBot) -> None:
    """``a`` stops and gives the lease back; ``b`` takes it at its next ask."""
    await a.stop()
    assert a.standby is not None and b.standby is not None
    await a.standby.stop()
    assert await b.standby.step() and b.answering


def answers(bot: SupportBot) -> int:
    return sum(v for k, v in bot.stats.items() if k.startswith("answers:"))


async def test_one_answers_the_other_stands_by_then_takes_over(
    node: RunningNode, kb_index: KnowledgeIndex
) -> None:
    async with AsyncExitStack() as stack:
        a, b, customer, inbox, conv, answer = await answered_by_the_holder(
            stack, node, kb_index, "How much does shipping cost?"
        )
        bot_texts = [
            m for m in (await customer.history(conv)).messages if m.sender == BOT and m.kind == "text"
        ]
        assert len(bot_texts) == 1, "one answer: the standby computed and sent nothing"
        await until(lambda: answers(a) == 1, 10)  # counted once the send is acknowledged
        assert answers(b) == 0
        # The standby followed the conversation: the question and the active process's answer.
        assert [t.role for t in b.convs[conv].turns] == ["customer", "bot"]
        assert not b.convs[conv].unanswered

        # A planned stop gives the lease back: the standby takes over at its next ask.
        await planned_stop(a, b)
        second = await ask(customer, inbox, conv, "How long does delivery take?")
        assert second.seq > answer.seq
        await until(lambda: answers(b) == 1, 10)  # counted once the send is acknowledged
        assert answers(a) == 1


async def test_a_takeover_answers_what_a_crashed_holder_left(
    node: RunningNode, kb_index: KnowledgeIndex
) -> None:
    async with AsyncExitStack() as stack:
        a, b = await pair(stack, node, kb_index, ttl_s=3)
        await a.stop()  # a "crash": the holder stops answering and never gives the lease back

        customer, inbox, conv = await support_case(stack, node)
        question = await customer.send(conv, "How much does shipping cost?")
        await until(lambda: conv in b.convs and question.mid in b.convs[conv].unanswered, 10)

        # Until the lease runs out nobody may answer; then the standby takes it and answers.
        async def take() -> None:
            assert b.standby is not None
            while not await b.standby.step():
                await asyncio.sleep(0.5)

        await asyncio.wait_for(take(), 20)
        answer = (await first(inbox, from_bot, 20)).message
        assert "¥299" in (answer.text or "") and answer.seq > question.seq
        await until(lambda: answers(b) == 1, 10)
        assert b.stats.get("taken_over") == 1
        assert not b.convs[conv].unanswered


async def test_a_takeover_continues_the_negative_streak(node: RunningNode, kb_index: KnowledgeIndex) -> None:
    """One upset message answered by the holder, one more after the takeover: two in a row."""
    async with AsyncExitStack() as stack:
        a, b, customer, inbox, conv, _ = await answered_by_the_holder(
            stack, node, kb_index, "a bit annoying. how much does shipping cost?"
        )
        assert b.convs[conv].negative_streak == 1, "the standby counted the answered message"

        await planned_stop(a, b)
        await customer.send(conv, "still annoying. how long does delivery take?")
        await first(inbox, support_event("waiting_for_agent"), 10)
        ticket = await node.node.services.support.ticket(node.app.app, conv)
        assert "sentiment:repeated" in ticket.reason
