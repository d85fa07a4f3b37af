"""Two gateway nodes on one Redis and one store: messages, receipts, presence cross nodes.

Also runs the gateway on the MongoDB wire server (the production store).
"""

from __future__ import annotations

from pathlib import Path

from parley.proto import frames
from tests.harness import running_node
from tests.wsclient import RawClient


async def test_two_nodes_share_messages_receipts_presence_and_typing(
    tmp_path: Path, redis_url: str, mongo_url: str, mongo_db: str
) -> None:
    shared = {"redis_url": redis_url, "mongo_url": mongo_url, "mongo_database": mongo_db}
    async with running_node(tmp_path, node_id="n1", **shared) as one:  # noqa: SIM117 - two needs one's app
        async with running_node(tmp_path, node_id="n2", app=(one.app, one.api_key), **shared) as two:
            alice = await RawClient.connect(one.url, await one.token("alice"))
            bob_a = await RawClient.connect(two.url, await two.token("bob"))
            assert (alice.welcome.node, bob_a.welcome.node) == ("n1", "n2")
            conv = (await alice.request(frames.ConvCreate, kind="group", members=["bob", "carol"])).conv.conv
            assert isinstance(await alice.request(frames.PresenceSub, users=["carol"]), frames.Ok)
            assert not (await alice.expect(frames.Presence, user="carol")).online
            # bob's second device, on the other node, connects after the group exists
            bob_b = await RawClient.connect(one.url, await one.token("bob"))
            carol = await RawClient.connect(two.url, await two.token("carol"))
            assert (await alice.expect(frames.Presence, user="carol", timeout=10)).online

            ack = await alice.request(frames.Send, conv=conv, cmid="x1", body={"text": "across nodes"})
            for device in (bob_a, bob_b, carol):
                got = await device.expect(frames.Msg, timeout=10)
                while got.m.kind == "system":
                    got = await device.expect(frames.Msg, timeout=10)
                assert (got.m.seq, got.m.body) == (ack.seq, {"text": "across nodes"})
            # Through Redis too, the sending connection gets no echo (bob's device on the
            # same node as alice does get it, above).
            assert not [f for f in alice.backlog if isinstance(f, frames.Msg) and f.m.seq == ack.seq]

            reply = await carol.request(frames.Send, conv=conv, cmid="y1", body={"text": "from node two"})
            assert reply.seq == ack.seq + 1, "one seq sequence across nodes"
            got = await alice.expect(frames.Msg, timeout=10)
            while got.m.seq != reply.seq:
                got = await alice.expect(frames.Msg, timeout=10)
            assert got.m.sender == "carol"

            await carol.send(frames.Typing(conv=conv))
            assert (await alice.expect(frames.TypingEvent, timeout=10)).user == "carol"
            await bob_a.request(frames.Read, conv=conv, seq=reply.seq)
            receipt = await alice.expect(frames.Receipt, timeout=10)
            assert (receipt.user, receipt.seq) == ("bob", reply.seq)

            await carol.close()
            offline = await alice.expect(frames.Presence, user="carol", online=False, timeout=10)
            assert offline.last_seen > 0
            for c in (alice, bob_a, bob_b):
                await c.close()


async def test_gateway_on_mongo_store(tmp_path: Path, mongo_url: str, mongo_db: str) -> None:
    async with running_node(tmp_path, mongo_url=mongo_url, mongo_database=mongo_db) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        bob = await RawClient.connect(node.url, await node.token("bob"))
        conv = (await alice.request(frames.ConvCreate, kind="direct", members=["bob"])).conv.conv
        acks = [
            await alice.request(frames.Send, conv=conv, cmid=f"m{i}", body={"text": str(i)}) for i in range(5)
        ]
        assert [a.seq for a in acks] == [1, 2, 3, 4, 5]
        dup = await alice.request(frames.Send, conv=conv, cmid="m0", body={"text": "0"})
        assert dup.dup and dup.seq == 1
        assert [(await bob.expect(frames.Msg)).m.seq for _ in range(5)] == [1, 2, 3, 4, 5]
        page = await bob.request(frames.History, conv=conv, before=4, limit=2)
        assert [m.seq for m in page.messages] == [2, 3]
        await alice.close()
        await bob.close()
