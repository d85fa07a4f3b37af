"""Forced membership and oversized lists: creation and being-added quotas, who may add whom,
paginated conv_list with bounded last-message previews."""

from __future__ import annotations

from pathlib import Path

from parley.proto import encode, frames
from tests.harness import running_node
from tests.wsclient import RawClient


async def test_conversation_creation_is_limited_per_user_per_window(tmp_path: Path) -> None:
    async with running_node(tmp_path, conv_create_quota=3) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        for _ in range(3):
            assert isinstance(
                await alice.request(frames.ConvCreate, kind="group", members=["bob"]), frames.ConvResult
            )
        refused = await alice.request(frames.ConvCreate, kind="group", members=["bob"])
        assert (
            isinstance(refused, frames.Error) and refused.code == "limit_exceeded" and "3" in refused.message
        )
        bob = await RawClient.connect(node.url, await node.token("bob"))
        assert isinstance(await bob.request(frames.ConvCreate, kind="group", members=[]), frames.ConvResult)
        await alice.close()
        await bob.close()


async def test_being_added_is_limited_per_user_per_window(tmp_path: Path) -> None:
    async with running_node(tmp_path, join_quota=2) as node:
        mallory = await RawClient.connect(node.url, await node.token("mallory"))
        for _ in range(2):
            await mallory.request(frames.ConvCreate, kind="group", members=["victim"])
        refused = await mallory.request(frames.ConvCreate, kind="group", members=["victim", "carol"])
        assert (
            isinstance(refused, frames.Error)
            and refused.code == "limit_exceeded"
            and "victim" in refused.message
        )
        conv = (await mallory.request(frames.ConvCreate, kind="group", members=["carol"])).conv.conv
        refused_add = await mallory.request(frames.MemberAdd, conv=conv, users=["victim"])
        assert isinstance(refused_add, frames.Error) and refused_add.code == "limit_exceeded"
        victim = await RawClient.connect(node.url, await node.token("victim"))
        listed = await victim.request(frames.ConvList)
        assert len(listed.convs) == 2, "only the groups within the quota"
        for c in (mallory, victim):
            await c.close()


async def test_contacts_policy_adds_only_users_sharing_a_conversation(tmp_path: Path) -> None:
    async with running_node(tmp_path, add_policy="contacts") as node:
        alice = await RawClient.connect(node.url, await node.token("alice"))
        refused = await alice.request(frames.ConvCreate, kind="group", members=["stranger"])
        assert isinstance(refused, frames.Error) and refused.code == "forbidden"
        await alice.request(frames.ConvCreate, kind="direct", members=["bob"])  # now contacts
        group = await alice.request(frames.ConvCreate, kind="group", members=["bob"])
        assert isinstance(group, frames.ConvResult)
        refused_add = await alice.request(frames.MemberAdd, conv=group.conv.conv, users=["stranger"])
        assert isinstance(refused_add, frames.Error) and refused_add.code == "forbidden"
        await alice.close()


async def test_conv_list_pages_and_bounds_each_preview(tmp_path: Path) -> None:
    async with running_node(tmp_path, preview_bytes=512, rate_sends=0, rate_frames=0) as node:
        alice = await RawClient.connect(node.url, await node.token("alice"), device="a")
        victim = await RawClient.connect(node.url, await node.token("victim"))
        convs = []
        for i in range(60):
            conv = (await alice.request(frames.ConvCreate, kind="group", members=["victim"])).conv.conv
            await alice.request(frames.Send, conv=conv, cmid=f"m{i}", body={"text": "x" * 15_000})
            convs.append(conv)
        seen: list[str] = []
        after, biggest = "", 0
        while True:
            await victim.send(frames.ConvList(id=7, after=after, limit=25))
            reply = await victim.expect(frames.ConvListResult, timeout=10)
            biggest = max(biggest, len(encode(reply)))
            seen += [s.conv for s in reply.convs]
            for summary in reply.convs:
                assert summary.last is not None and summary.last.body.get("truncated") is True
                assert len(summary.last.body["text"]) < 512
            if not reply.more:
                break
            after = reply.convs[-1].conv
        assert sorted(seen) == sorted(convs) and len(seen) == 60
        assert biggest < 25 * 1024, f"a page of 25 is {biggest} bytes"
        for c in (alice, victim):
            await c.close()
