"""Sensitive words per app against a real node: lists managed through AdminClient, refuse /
mask / flag applied to messages, edits, conversation names and meta; user reports and the
moderators' review queue."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from parley.sdk import AdminClient, AdminError, Client, EditEvent, MessageEvent, RecallEvent, ReplyError
from tests.harness import RunningNode
from tests.sdk.helpers import first

pytestmark = pytest.mark.timeout(30)

LISTS = {
    "banned": ("refuse", ["法轮功", "kill yourself"]),
    "rude": ("mask", ["ass", "傻逼"]),
    "watch": ("flag", ["赌博", "crypto"]),
}


@asynccontextmanager
async def setup(node: RunningNode) -> AsyncIterator[tuple[AdminClient, Client, Client, str]]:
    async with AdminClient(node.http, node.api_key) as admin:
        for name, (action, words) in LISTS.items():
            await admin.put_word_list(name, action=action, words=words)
        ann = Client(node.url, token=await node.token("ann"))
        bob = Client(node.url, token=await node.token("bob"))
        async with ann, bob:
            conv = (await ann.create_group("g", ["bob"])).conv
            yield admin, ann, bob, conv


async def test_lists_are_managed_through_the_admin_api(node: RunningNode) -> None:
    async with AdminClient(node.http, node.api_key) as admin:
        await admin.put_word_list("zh", action="refuse", words=["法轮功", "法轮功", " "])
        lists = await admin.word_lists()
        assert [(w.name, w.action, w.words) for w in lists] == [("zh", "refuse", ["法轮功"])]
        with pytest.raises(AdminError) as bad:
            await admin.put_word_list("zh", action="explode", words=["x"])
        assert bad.value.status == 422
        await admin.delete_word_list("zh")
        assert await admin.word_lists() == []
        assert [r.action for r in (await admin.audit()).records] == ["words.put", "words.delete"]


async def test_refuse_mask_and_flag_on_messages(node: RunningNode) -> None:
    async with setup(node) as (admin, ann, bob, conv):
        inbox = ann.events(MessageEvent)
        with pytest.raises(ReplyError) as refused:
            await bob.send(conv, "去练ＦＡ轮功吧".replace("ＦＡ", "法"))
        assert refused.value.code == "content_refused"
        with pytest.raises(ReplyError):
            await bob.send(conv, "KILL   yourself".replace("   ", " "))
        masked = await bob.send(conv, "you ASS, 你个傻逼! (a classy assessment)")
        assert masked.text == "you ***, 你个**! (a classy assessment)", "the sender sees what was stored"
        got = await first(inbox, lambda e: e.message.seq == masked.seq)
        assert got.message.text == masked.text
        assert (await ann.history(conv)).messages[-1].text == masked.text
        flagged = await bob.send(conv, "anyone into 赌博 or Crypto?")
        assert flagged.text == "anyone into 赌博 or Crypto?", "flagged content is delivered as is"
        queue = await admin.reviews()
        assert [(r.source, r.seq, r.author, r.reason) for r in queue.items] == [
            ("filter", flagged.seq, "bob", "word list watch")
        ]


async def test_edits_names_and_meta_are_screened_too(node: RunningNode) -> None:
    async with setup(node) as (admin, ann, bob, conv):
        sent = await bob.send(conv, "fine")
        edits = ann.events(EditEvent)
        with pytest.raises(ReplyError) as refused:
            await bob.edit(conv, sent.seq, text="法轮功")
        assert refused.value.code == "content_refused"
        await bob.edit(conv, sent.seq, text="smart ass")
        event = await first(edits, lambda e: e.target == sent.seq)
        assert event.body == {"text": "smart ***"}
        with pytest.raises(ReplyError):
            await ann.create_group("法轮功 fans", ["bob"])
        group = await ann.create_group("ass club", ["bob"], meta={"topic": "傻逼", "n": 1})
        assert (group.name, group.meta) == ("*** club", {"topic": "**", "n": 1})
        with pytest.raises(ReplyError):
            await ann.update_conversation(group.conv, meta={"motto": "kill yourself"})
        updated = await ann.update_conversation(group.conv, name="crypto talk")
        assert updated.name == "crypto talk"
        assert [(r.conv, r.seq, r.source) for r in (await admin.reviews()).items] == [
            (group.conv, 0, "filter")
        ]


async def test_users_report_messages_and_moderators_resolve_them(node: RunningNode) -> None:
    async with setup(node) as (admin, ann, bob, conv):
        bad = await bob.send(conv, "buy my course now!!!")
        await ann.report(conv, bad.seq, reason="spam")
        await ann.report(conv, bad.seq, reason="spam again")  # one report per reporter and message
        with pytest.raises(ReplyError) as missing:
            await ann.report(conv, 999, reason="?")
        assert missing.value.code == "not_found"
        queue = await admin.reviews()
        assert [(r.source, r.reporter, r.author, r.reason, r.excerpt) for r in queue.items] == [
            ("report", "ann", "bob", "spam", "buy my course now!!!")
        ]
        recalls = ann.events(RecallEvent)
        resolved = await admin.resolve_review(queue.items[0].id, outcome="recall")
        assert (resolved.state, resolved.outcome) == ("resolved", "recall")
        assert (await ann.history(conv)).messages[-2].recalled, "the reported message is recalled"
        assert (await first(recalls, lambda e: e.target == bad.seq)).message.sender == "system"
        with pytest.raises(AdminError) as twice:
            await admin.resolve_review(queue.items[0].id, outcome="dismiss")
        assert twice.value.status == 409 or twice.value.code == "invalid_request"
        assert (await admin.reviews()).items == ()
        assert [r.id for r in (await admin.reviews(state="resolved")).items] == [queue.items[0].id]
        assert (await admin.audit()).records[-1].action == "review.resolve"


async def test_user_names_and_meta_set_through_the_admin_api_are_screened(node: RunningNode) -> None:
    async with setup(node) as (admin, _, _, _):
        with pytest.raises(AdminError) as refused:
            await admin.create_user("dee", name="Dee", meta={"bio": "我练法轮功"})
        assert (refused.value.status, refused.value.code) == (422, "content_refused")
        user = await admin.create_user("dee", name="Smart Ass", meta={"bio": "傻逼", "age": 3})
        assert (user.name, user.meta) == ("Smart ***", {"bio": "**", "age": 3})
        await admin.create_user("eve", name="crypto queen")
        assert [(r.source, r.author, r.conv, r.seq) for r in (await admin.reviews()).items] == [
            ("filter", "eve", "", 0)
        ]
