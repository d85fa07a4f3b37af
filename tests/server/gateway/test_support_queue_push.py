"""The waiting queue is pushed to agents: ``support_queue_event`` when a ticket enters or leaves it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from parley.proto import frames
from tests.harness import RunningNode, running_node
from tests.server.gateway.test_support import as_role
from tests.wsclient import RawClient


async def _handoff(node: RunningNode, user: str) -> tuple[RawClient, str]:
    customer = await RawClient.connect(node.url, await node.token(user))
    conv = (await customer.request(frames.ConvCreate, kind="support")).conv.conv
    assert isinstance(await customer.request(frames.SupportHandoff, conv=conv, reason="human"), frames.Ok)
    return customer, conv


async def test_every_agent_is_told_when_a_ticket_enters_and_leaves_the_waiting_queue(tmp_path: Path) -> None:
    async with running_node(tmp_path, agent_max_concurrent=1) as node:
        agents = [await as_role(node, "ann", "agent"), await as_role(node, "bob", "agent")]
        customers = []
        for user in ("cus1", "cus2"):  # each enters the queue and leaves it at once: auto-assigned
            customer, conv = await _handoff(node, user)
            customers.append(customer)
            for agent in agents:
                await agent.expect(frames.SupportQueueEvent, conv=conv, state="waiting_for_agent")
                await agent.expect(frames.SupportQueueEvent, conv=conv, state="agent")

        customer, c3 = await _handoff(node, "cus3")  # both agents at their limit of one: it waits
        customers.append(customer)
        for agent in agents:
            await agent.expect(frames.SupportQueueEvent, conv=c3, state="waiting_for_agent")
        queue = await agents[1].request(frames.SupportQueue)
        assert [i.conv for i in queue.waiting] == [c3], "the event is a hint: the queue has the ticket"
        assert isinstance(await agents[1].request(frames.SupportClaim, conv=c3), frames.ConvResult)
        for agent in agents:
            await agent.expect(frames.SupportQueueEvent, conv=c3, state="agent")

        # a customer (not an agent) is never told about the queue
        await customer.send(frames.Ping(ts=1))
        async with asyncio.timeout(5):
            while not isinstance(got := await customer.recv(5), frames.Pong):
                assert not isinstance(got, frames.SupportQueueEvent)
        for client in (*agents, *customers):
            await client.close()


async def test_the_python_sdk_publishes_the_queue_event_to_an_agent(tmp_path: Path) -> None:
    from parley.sdk import Client, SupportQueueEvent

    async with running_node(tmp_path, agent_max_concurrent=0) as node:
        await node.node.services.apps.upsert_user(node.app.app, "ann", role="agent")
        async with Client(node.url, token=await node.token("ann")) as ann:
            events = ann.events(SupportQueueEvent)
            customer, conv = await _handoff(node, "cus1")
            got = await asyncio.wait_for(anext(events), 10)
            assert (got.conv, got.state) == (conv, "waiting_for_agent")
            assert [c.conv for c in (await ann.support_queue()).waiting] == [conv]
            await customer.close()
