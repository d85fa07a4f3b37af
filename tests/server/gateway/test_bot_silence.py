"""The bot-silence rule lives in one place and covers every frame a bot may send.

``SupportService.write_refusal`` (over ``proto.vocabulary.BOT_SILENT_STATES``) is applied by
``SupportHandlers.check_may_write`` to every client frame that changes what the members of a
conversation see: content through ``Router._require_writer``, changes to the conversation
(name, meta, members) through ``SupportHandlers.gate``.
"""

from __future__ import annotations

import typing
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from parley.proto import frames
from parley.proto.vocabulary import BOT_SILENT_STATES, SupportState
from parley.server.gateway.support_routes import CONTENT_WRITES, CONVERSATION_CHANGES, NOT_WRITES
from tests.harness import RunningNode, running_node
from tests.server.gateway.test_support import as_role
from tests.server.gateway.test_support_trust import refused, support_conv
from tests.wsclient import RawClient


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path) as running:
        yield running


def test_every_frame_naming_a_conversation_is_classified_once() -> None:
    """A new client frame with a ``conv`` fails here until someone decides whether it writes."""
    with_conv = {t for t in typing.get_args(frames.ClientFrame) if "conv" in t.__struct_fields__}
    sets = (CONTENT_WRITES, CONVERSATION_CHANGES, NOT_WRITES)
    assert set().union(*sets) == with_conv
    assert sum(len(s) for s in sets) == len(with_conv), "no frame is in two sets"
    assert set(BOT_SILENT_STATES) == {
        SupportState.WAITING_FOR_AGENT,
        SupportState.AGENT,
        SupportState.RESOLVED,
    }


@pytest.mark.parametrize("state", [SupportState.WAITING_FOR_AGENT, SupportState.AGENT, SupportState.RESOLVED])
async def test_the_bot_cannot_change_the_conversation_while_it_must_be_silent(
    node: RunningNode, state: str
) -> None:
    customer = await RawClient.connect(node.url, await node.token("cust"))
    bot = await as_role(node, "parley-bot", "bot")
    c = await support_conv(node, customer)
    # Before an agent is involved the bot manages the conversation (it is one of its admins).
    renamed = await bot.request(frames.ConvUpdate, conv=c, meta={"topic": "refund"})
    assert isinstance(renamed, frames.ConvResult), renamed
    said = await bot.request(frames.Send, conv=c, cmid="b1", body={"text": "Hi"})
    # No agent is online: the hand-off waits for one (it is not auto-assigned).
    handed = await bot.request(frames.SupportHandoff, conv=c, reason="asked for a human")
    assert not isinstance(handed, frames.Error), handed
    agent = await as_role(node, "ann", "agent")
    if state != SupportState.WAITING_FOR_AGENT:
        assert isinstance(await agent.request(frames.SupportClaim, conv=c), frames.ConvResult)
    if state == SupportState.RESOLVED:
        assert isinstance(await agent.request(frames.SupportResolve, conv=c), frames.Ok)

    assert refused(await bot.request(frames.ConvUpdate, conv=c, meta={"topic": "other"}))
    assert refused(await bot.request(frames.MemberAdd, conv=c, users=["eve"]))
    assert refused(await bot.request(frames.MemberRemove, conv=c, users=["cust"]))
    assert refused(await bot.request(frames.MemberRole, conv=c, user="cust", role="admin"))
    assert refused(await bot.request(frames.Send, conv=c, cmid="b2", body={"text": "me again"}))
    assert refused(await bot.request(frames.Edit, conv=c, seq=said.seq, body={"text": "changed"}))
    assert refused(await bot.request(frames.Recall, conv=c, seq=said.seq))
    for frame in (frames.Draft(conv=c, draft="d1", body={"text": "I think"}), frames.Typing(conv=c)):
        await bot.send(frame)
        assert (await bot.expect(frames.Error)).code == "forbidden", type(frame).__name__

    shown = (await customer.request(frames.ConvGet, conv=c)).conv
    assert shown.meta.get("topic") == "refund"
    members = (await customer.request(frames.MemberList, conv=c)).members
    expected = {"cust", "parley-bot"} | ({"ann"} if state != SupportState.WAITING_FOR_AGENT else set())
    assert {m.user for m in members} >= expected and "eve" not in {m.user for m in members}
    for client in (customer, bot, agent):
        await client.close()
