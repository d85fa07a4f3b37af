"""WordFilter: the app's word lists (bounded, replaced whole), screening (refuse, mask, flag;
every string of a value; cached per node and refreshed after ``ttl``), and the review queue."""

from __future__ import annotations

import asyncio

import pytest

from parley.proto.errors import ErrorCode
from parley.server.models import Conversation, Member, NewMessage
from parley.server.services.words import WordFilter
from parley.server.store.sqlite import SQLiteStore
from tests.server.services.conftest import refused

A = "app1"


def _words(store: SQLiteStore, **kw: float) -> WordFilter:
    return WordFilter(store, ttl=kw.get("ttl", 3600), max_lists=2, max_words=3)


async def _until(condition: object, what: str) -> None:
    """Wait (bounded) for a background refresh or queueing to be done."""
    for _ in range(500):
        if callable(condition) and await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(what)


async def test_lists_are_validated_bounded_and_replaced_whole(store: SQLiteStore) -> None:
    words = _words(store)
    with refused(ErrorCode.INVALID_REQUEST, "action must be one of"):
        await words.put_list(A, "bad", "delete", ["x"])
    with refused(ErrorCode.LIMIT_EXCEEDED, "at most 3 words"):
        await words.put_list(A, "big", "flag", ["a", "b", "c", "d"])
    with refused(ErrorCode.INVALID_REQUEST, "at most 100 characters"):
        await words.put_list(A, "long", "flag", ["x" * 101])
    stored = await words.put_list(A, "l1", "mask", [" darn ", "darn", "", "heck", "  "])
    assert stored.words == ["darn", "heck"], "trimmed, duplicates and blanks dropped"
    await words.put_list(A, "l2", "flag", ["x"])
    with refused(ErrorCode.LIMIT_EXCEEDED, "at most 2 word lists"):
        await words.put_list(A, "l3", "flag", ["y"])
    await words.put_list(A, "l1", "refuse", ["drat"])  # replacing one is not a new list
    assert [(w.name, w.action, w.words) for w in await words.lists(A)] == [
        ("l1", "refuse", ["drat"]),
        ("l2", "flag", ["x"]),
    ]
    await words.delete_list(A, "l2")
    with refused(ErrorCode.NOT_FOUND, "no word list 'l2'"):
        await words.delete_list(A, "l2")
    assert [w.name for w in await words.lists(A)] == ["l1"]


async def test_screening_refuses_masks_and_flags_every_string_of_a_value(store: SQLiteStore) -> None:
    words = _words(store)
    value = {"text": "darn it", "items": [{"title": "fine"}]}
    assert words.screen(A, value).value is value, "nothing compiled yet: unchanged"
    await words.put_list(A, "masked", "mask", ["darn"])
    await words.put_list(A, "flagged", "flag", ["fine"])
    screened = words.screen(A, value)
    assert screened.value == {"text": "**** it", "items": [{"title": "fine"}]}
    assert screened.flags == ("flagged",)
    assert value["text"] == "darn it", "the caller's value is not changed in place"
    clean = {"text": "hello", "n": 1}
    result = words.screen(A, clean)
    assert result.value is clean and result.flags == ()
    assert words.screen(A, "undarnable").value == "undarnable", "Latin words stand alone"
    await words.put_list(A, "masked", "refuse", ["darn"])
    with refused(ErrorCode.CONTENT_REFUSED, "(masked)"):
        words.screen(A, ["ok", {"deep": ["DARN"]}])
    assert words.screen("app2", "darn").value == "darn", "lists are per app"


async def test_a_list_changed_on_another_node_applies_here_after_the_ttl(store: SQLiteStore) -> None:
    here, there = _words(store, ttl=0), _words(store)
    await there.put_list(A, "l1", "mask", ["darn"])
    assert (await here.screen_now(A, "darn")).value == "****"
    await there.put_list(A, "l1", "mask", ["heck"])
    assert here.screen(A, "darn").value == "****", "the cached lists keep serving meanwhile"

    async def refreshed() -> bool:
        return here.screen(A, "heck").value == "****"

    await _until(refreshed, "the stale lists were never refreshed")
    assert here.screen(A, "darn").value == "darn"


@pytest.fixture
async def chat(store: SQLiteStore) -> SQLiteStore:
    await store.create_conversation(
        Conversation(app=A, conv="c1", kind="group", epoch="e", created=1),
        [Member(A, "c1", "alice", "owner", 1), Member(A, "c1", "bob", "member", 1)],
    )
    await store.append(
        [
            NewMessage(A, "c1", f"m{i}", "alice", f"k{i}", "text", {"text": f"message {i}"}, ts=1)
            for i in range(1, 6)
        ]
        + [NewMessage(A, "c1", "m6", "alice", "k6", "system", {"event": "x"}, ts=1)]
    )
    return store


async def test_a_member_reports_a_message_once_and_reviews_list_in_order(chat: SQLiteStore) -> None:
    words = _words(chat)
    with refused(ErrorCode.NOT_FOUND, "no message 9"):
        await words.report(A, "bob", "c1", 9, "spam")
    with refused(ErrorCode.NOT_FOUND, "no message 6"):
        await words.report(A, "bob", "c1", 6, "spam")  # a system message is not reportable
    for seq in range(1, 6):
        await words.report(A, "bob", "c1", seq, "spam")
    await words.report(A, "bob", "c1", 1, "again")  # accepted, stores nothing
    page, more = await words.reviews(A, state="open", after="", limit=3)
    assert [(r.seq, r.reason) for r in page] == [(1, "spam"), (2, "spam"), (3, "spam")] and more
    rest, more = await words.reviews(A, state="open", after=page[-1].id, limit=3)
    assert [r.seq for r in rest] == [4, 5] and not more
    first = page[0]
    assert (first.author, first.reporter, first.source, first.excerpt) == (
        "alice",
        "bob",
        "report",
        "message 1",
    )


async def test_a_review_is_resolved_once(chat: SQLiteStore) -> None:
    words = _words(chat)
    await words.report(A, "bob", "c1", 1, "spam")
    ((item,), _) = await words.reviews(A, state="open", after="", limit=10)
    with refused(ErrorCode.NOT_FOUND, "no review item"):
        await words.resolve(A, "nope", outcome="kept", by="key:1")
    done = await words.resolve(A, item.id, outcome="removed", by="key:1")
    assert (done.state, done.outcome, done.resolved_by) == ("resolved", "removed", "key:1")
    with refused(ErrorCode.INVALID_REQUEST, "already resolved"):
        await words.resolve(A, item.id, outcome="kept", by="key:2")
    assert await words.reviews(A, state="open", after="", limit=10) == ([], False)


async def test_flagged_content_is_queued_for_review_in_the_background(chat: SQLiteStore) -> None:
    words = _words(chat)
    words.flag_later(A, "c1", 3, "alice", ["l1", "l2"], {"text": "x" * 500})

    async def queued() -> bool:
        return bool((await words.reviews(A, state="open", after="", limit=10))[0])

    await _until(queued, "the flagged content was never queued")
    ((item,), _) = await words.reviews(A, state="open", after="", limit=10)
    assert (item.source, item.seq, item.reason) == ("filter", 3, "word list l1, l2")
    assert len(item.excerpt) == 200
