"""Contract of the audience ports (``audience_port.py``: ``AudienceProfiles``, ``Identities``) on both adapters."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from parley.server.audience_models import (
    ConsentEntry,
    ConsentState,
    Identifier,
    MergeRecord,
    ProfileChange,
    ProfileMerged,
    ProfileNotFound,
)
from parley.server.ids import new_id, now_ms
from parley.server.models import TagRecord
from parley.server.ports import Store
from parley.server.store.mongo import MongoStore
from parley.server.store.sqlite import SQLiteStore
from tests.server.store.conftest import MakeStore

APP, OTHER = "acme", "other"


def tag(name: str, source: str = "agent", confidence: float = 1.0, ts: int = 10) -> TagRecord:
    return TagRecord(name, source, confidence, f"m_{name}", ts, 0)


async def test_resolve_or_create_is_stable_and_per_app(store: Store) -> None:
    pid, created = await store.resolve_or_create(APP, "phone", "+14155550100", 5)
    assert created and pid.startswith("p_")
    assert await store.resolve_or_create(APP, "phone", "+14155550100", 6) == (pid, False)
    assert await store.resolve_identifier(APP, "phone", "+14155550100") == pid
    other, created_other = await store.resolve_or_create(OTHER, "phone", "+14155550100", 7)
    assert created_other and other != pid, "the same phone in another app is another person"
    assert await store.resolve_identifier(APP, "email", "nobody@example.com") is None
    assert await store.identifiers_of(APP, pid) == [Identifier("phone", "+14155550100")]
    profile = await store.get_audience_profile(APP, pid)
    assert profile is not None and profile.created == 5 and profile.merged_into == ""
    assert await store.get_audience_profile(OTHER, pid) is None


async def test_concurrent_resolve_or_create_on_two_instances_gives_one_profile(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    calls = [s.resolve_or_create(APP, "cookie", f"ck{n}", 1) for n in range(10) for s in (one, two, one, two)]
    results = await asyncio.gather(*calls)
    for n in range(10):
        mine = results[n * 4 : n * 4 + 4]
        assert len({pid for pid, _ in mine}) == 1, "one pid per identifier"
        assert sum(created for _, created in mine) == 1, "exactly one call created it"


async def test_a_change_is_stored_whole_with_tag_history_and_consent_ledger(store: Store) -> None:
    pid, _ = await store.resolve_or_create(APP, "user", "u1", 1)
    change = ProfileChange(
        now=100, actor="console:ann", attrs={"plan": "gold", "ltv": 12.5, "vip": 1.0, "likes": ("tea", "cake")},
        set_tags=(tag("vip"), tag("churn-risk", "model", 0.7)), consent=(ConsentEntry("marketing", "granted", 100, "api", "r1"),),
        timezone="Europe/Paris", language="fr", counts={"count:purchase": 2},
    )  # fmt: skip
    after = await store.update_audience_profile(APP, pid, change)
    stored = await store.get_audience_profile(APP, pid)
    assert stored == after
    assert stored.attrs == {"plan": "gold", "ltv": 12.5, "vip": 1.0, "likes": ("cake", "tea")}
    assert set(stored.tags) == {"vip", "churn-risk"} and stored.tags["churn-risk"].confidence == 0.7
    assert stored.consent == {"marketing": ConsentState("granted", 100)}
    assert (stored.timezone, stored.language, stored.computed) == (
        "Europe/Paris",
        "fr",
        {"count:purchase": 2.0},
    )
    second = ProfileChange(
        now=200, actor="bot", attrs={"plan": None, "likes": ("tea",)}, remove_tags=("vip",),
        set_tags=(tag("churn-risk", "model", 0.9, 200),), consent=(ConsentEntry("marketing", "withdrawn", 200, "message", "m9"),),
        counts={"count:purchase": 1},
    )  # fmt: skip
    later = await store.update_audience_profile(APP, pid, second)
    assert later.rev == after.rev + 1
    assert later.attrs == {"ltv": 12.5, "vip": 1.0, "likes": ("tea",)}, "None unsets; a list is replaced"
    assert later.consent["marketing"].state == "withdrawn" and later.computed["count:purchase"] == 3.0
    history = await store.tag_history(APP, pid, "churn-risk")
    assert [(h.action, h.confidence, h.actor) for h in history] == [
        ("set", 0.7, "console:ann"),
        ("set", 0.9, "bot"),
    ]
    assert [(h.name, h.action, h.seq) for h in await store.tag_history(APP, pid, "vip")] == [
        ("vip", "set", after.rev),
        ("vip", "remove", later.rev),
    ], "removes are history too"
    ledger = await store.consent_ledger(APP, pid, "marketing")
    assert [(e.state, e.via_kind, e.via_ref) for e in ledger] == [
        ("granted", "api", "r1"),
        ("withdrawn", "message", "m9"),
    ]


async def test_a_change_to_an_unknown_profile_stores_nothing(store: Store) -> None:
    with pytest.raises(ProfileNotFound):
        await store.update_audience_profile(APP, "p_missing", ProfileChange(now=1, attrs={"a": "b"}))
    assert await store.get_audience_profile(APP, "p_missing") is None
    assert await store.consent_ledger(APP, "p_missing") == []


async def test_the_schema_record_is_versioned_per_app(store: Store) -> None:
    assert await store.get_audience_schema(APP) is None
    assert await store.put_audience_schema(APP, {"attributes": {"plan": {"type": "string"}}}, 1) == 1
    assert await store.put_audience_schema(APP, {"attributes": {}, "events": {"a.b": {}}}, 2) == 2
    assert await store.get_audience_schema(APP) == (2, {"attributes": {}, "events": {"a.b": {}}})
    assert await store.get_audience_schema(OTHER) is None


async def test_an_indexed_attribute_gets_its_mongodb_index(store: Store) -> None:
    await store.put_audience_schema(APP, {"attributes": {"plan": {"type": "string", "indexed": True},
                                                         "ltv": {"type": "number"}}}, 1)  # fmt: skip
    if isinstance(store, MongoStore):
        indexes = await store.conn.db["aud_profiles"].index_information()
        assert "seg_attrs.plan" in indexes and "seg_attrs.ltv" not in indexes
    else:  # SQLite: (app, key, num) and (app, key, txt) cover every attribute
        assert await store.get_audience_schema(APP) is not None


async def test_the_chat_profile_lands_on_the_user_identifiers_profile(store: Store) -> None:
    await store.merge_profile(APP, "bob", set_tags=[tag("angry", "bot")], attributes={"order": {"id": 7}},
                              counters={"csat": 1}, updated=50)  # fmt: skip
    pid = await store.resolve_identifier(APP, "user", "bob")
    assert pid is not None
    await store.update_audience_profile(APP, pid, ProfileChange(now=60, set_tags=(tag("vip", "manual"),)))
    chat = await store.get_profile(APP, "bob")
    assert chat is not None and set(chat.tags) == {"angry", "vip"}, "one profile: chat and audience"
    assert chat.attributes == {"order": {"id": 7}} and chat.counters == {"csat": 1}
    again = await store.merge_profile(APP, "bob", remove_tags=["angry"], counters={"csat": 2}, updated=70)
    assert set(again.tags) == {"vip"} and again.counters == {"csat": 3} and again.updated == 70
    assert [h.actor for h in await store.tag_history(APP, pid, "angry")] == ["chat", "chat"]
    assert await store.get_profile(OTHER, "bob") is None


async def _merge(store: Store, winner: str, loser: str, now: int = 500) -> MergeRecord:
    return await store.merge_audience_profiles(
        APP,
        winner,
        loser,
        matched=(Identifier("phone", "+1"),),
        reason="phone",
        actor="sdk",
        mid=new_id("mg"),
        now=now,
    )


async def test_a_merge_follows_the_rule_moves_identifiers_and_can_be_undone(store: Store) -> None:
    w, _ = await store.resolve_or_create(APP, "phone", "+1", 1)
    lose, _ = await store.resolve_or_create(APP, "cookie", "ck", 2)
    await store.attach_identifier(APP, lose, "user", "u9", 3)
    await store.update_audience_profile(APP, w, ProfileChange(
        now=10, attrs={"plan": "gold"}, set_tags=(tag("vip", confidence=0.5),), counts={"count:view": 2},
        consent=(ConsentEntry("marketing", "granted", 10, "api"),)))  # fmt: skip
    await store.update_audience_profile(APP, lose, ProfileChange(
        now=20, attrs={"plan": "free", "city": "Oslo"}, set_tags=(tag("vip", confidence=0.9), tag("new")),
        counts={"count:view": 3}, consent=(ConsentEntry("marketing", "denied", 5, "console"),), timezone="Europe/Oslo"))  # fmt: skip
    record = await store.merge_audience_profiles(APP, w, lose, matched=(Identifier("phone", "+1"),), reason="phone",
                                                 actor="sdk", mid="mg_1", now=500)  # fmt: skip
    survivor = await store.get_audience_profile(APP, w)
    assert survivor.attrs == {"plan": "gold", "city": "Oslo"}, "the survivor's value wins, gaps filled"
    assert survivor.tags["vip"].confidence == 0.9 and "new" in survivor.tags
    assert survivor.consent["marketing"].state == "denied", "the most restrictive consent wins"
    assert survivor.computed["count:view"] == 5.0 and survivor.timezone == "Europe/Oslo"
    assert (await store.get_audience_profile(APP, lose)).merged_into == w
    assert await store.resolve_identifier(APP, "user", "u9") == w
    assert await store.resolve_identifier(APP, "cookie", "ck") == w
    assert {i.kind for i in await store.identifiers_of(APP, w)} == {"phone", "cookie", "user"}
    assert (await store.get_profile(APP, "u9")).tags.keys() == survivor.tags.keys(), "chat reads follow"
    assert record.loser_before.attrs["plan"] == "free" and record.winner_before.attrs == {"plan": "gold"}
    assert (
        [m.mid for m in await store.list_merges(APP, w)]
        == ["mg_1"]
        == [m.mid for m in await store.list_merges(APP, lose)]
    )
    assert await store.count_merges_matching(APP, "phone", "+1") == 1
    with pytest.raises(ProfileMerged):
        await store.update_audience_profile(APP, lose, ProfileChange(now=600, attrs={"x": "y"}))
    await store.update_audience_profile(APP, w, ProfileChange(now=700, attrs={"city": "Bergen"}))
    undone = await store.unmerge_audience_profiles(APP, "mg_1", 800)
    assert undone is not None and undone.undone == 800
    assert await store.unmerge_audience_profiles(APP, "mg_1", 900) is None, "undone once"
    back = await store.get_audience_profile(APP, lose)
    assert back.merged_into == "" and back.attrs == {"plan": "free", "city": "Oslo"}
    survivor = await store.get_audience_profile(APP, w)
    assert survivor.attrs == {"plan": "gold", "city": "Bergen"}, "a later write to the survivor stays"
    assert "new" not in survivor.tags and survivor.computed["count:view"] == 2.0
    assert await store.resolve_identifier(APP, "user", "u9") == lose
    assert await store.count_merges_matching(APP, "phone", "+1") == 0


async def test_merge_refuses_dead_or_missing_profiles(store: Store) -> None:
    a, _ = await store.resolve_or_create(APP, "phone", "+1", 1)
    b, _ = await store.resolve_or_create(APP, "phone", "+2", 1)
    with pytest.raises(ProfileNotFound):
        await _merge(store, a, "p_missing")
    with pytest.raises(ProfileMerged):
        await _merge(store, a, a)
    await _merge(store, a, b)
    with pytest.raises(ProfileMerged):
        await _merge(store, b, a)
    assert (await store.get_audience_profile(APP, a)).merged_into == ""


async def test_concurrent_merges_on_two_instances_leave_one_live_profile(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    for round_ in range(5):
        a, _ = await one.resolve_or_create(APP, "phone", f"+1{round_}", 1)
        b, _ = await one.resolve_or_create(APP, "device", f"d{round_}", 1)
        results = await asyncio.gather(_merge(one, a, b), _merge(two, b, a), return_exceptions=True)
        assert sum(not isinstance(r, BaseException) for r in results) == 1, results
        assert all(isinstance(r, ProfileMerged) for r in results if isinstance(r, BaseException)), results
        pa, pb = (
            await two.resolve_identifier(APP, "phone", f"+1{round_}"),
            await two.resolve_identifier(APP, "device", f"d{round_}"),
        )
        assert pa == pb, "both identifiers on the one live profile"
        assert (await two.get_audience_profile(APP, pa)).merged_into == ""


async def test_writes_racing_a_merge_are_all_kept(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    w, _ = await one.resolve_or_create(APP, "phone", "+1", 1)
    lose, _ = await one.resolve_or_create(APP, "cookie", "ck", 1)

    async def bump(store: Store, n: int) -> None:
        for _ in range(50):  # re-resolve and retry when the profile was merged meanwhile
            pid = await store.resolve_identifier(APP, "cookie", "ck")
            try:
                await store.update_audience_profile(APP, pid, ProfileChange(now=n, counts={"count:view": 1}))
                return
            except ProfileMerged:
                continue
        raise AssertionError("never landed")

    writes = [bump(one if n % 2 else two, n) for n in range(30)]
    await asyncio.gather(*writes[:15], _merge(two, w, lose), *writes[15:])
    survivor = await one.get_audience_profile(APP, w)
    assert survivor.computed["count:view"] == 30.0, "no write lost to the merge"


def test_old_chat_profiles_are_migrated_on_open(tmp_path) -> None:
    path = str(tmp_path / "old.db")
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE profiles (app TEXT, user TEXT, tags BLOB, attributes BLOB, counters BLOB, updated INTEGER)"
    )
    import msgspec

    tags = msgspec.msgpack.encode({"vip": TagRecord("vip", "agent", 1.0, "m1", 5, 0)})
    db.execute("INSERT INTO profiles VALUES (?, ?, ?, ?, ?, ?)",
               (APP, "bob", tags, msgspec.msgpack.encode({"a": 1}), msgspec.msgpack.encode({"csat": 2}), 9))  # fmt: skip
    db.commit()
    db.close()

    async def check() -> None:
        for _ in range(2):  # a second open finds nothing left to migrate
            store = SQLiteStore(path)
            await store.open()
            chat = await store.get_profile(APP, "bob")
            assert chat is not None and set(chat.tags) == {"vip"}
            assert chat.attributes == {"a": 1} and chat.counters == {"csat": 2} and chat.updated == 9
            await store.close()

    asyncio.run(check())


async def test_a_chain_of_merges_is_undone_from_the_latest(store: Store) -> None:
    a, _ = await store.resolve_or_create(APP, "phone", "+1", 1)
    b, _ = await store.resolve_or_create(APP, "cookie", "b", 1)
    c, _ = await store.resolve_or_create(APP, "union", "c", 1)
    first = await _merge(store, a, b)
    second = await _merge(store, c, a)
    assert await store.resolve_identifier(APP, "cookie", "b") == c, "resolution follows the chain"
    assert await store.unmerge_audience_profiles(APP, first.mid, 900) is None, "a's survivor is merged again"
    assert await store.unmerge_audience_profiles(APP, second.mid, 901) is not None
    assert await store.resolve_identifier(APP, "cookie", "b") == a
    assert await store.unmerge_audience_profiles(APP, first.mid, 902) is not None
    assert [
        await store.resolve_identifier(APP, k, v)
        for k, v in (("phone", "+1"), ("cookie", "b"), ("union", "c"))
    ] == [a, b, c]


async def test_old_mongodb_chat_profiles_are_migrated_on_open(make_store: MakeStore) -> None:
    first = await make_store()
    if not isinstance(first, MongoStore):
        pytest.skip("the SQLite migration is test_old_chat_profiles_are_migrated_on_open")
    tag_doc = {"name": "vip", "source": "agent", "confidence": 1.0, "evidence": "m1", "ts": 5, "expires": 0}
    await first.conn.db["profiles"].insert_one(
        {"app": APP, "user": "bob", "tags": {"vip": tag_doc}, "attributes": {"a": 1}, "counters": {"csat": 2},
         "updated": 9}
    )  # fmt: skip
    again = await make_store()  # open() migrates
    chat = await again.get_profile(APP, "bob")
    assert chat is not None and set(chat.tags) == {"vip"} and chat.attributes == {"a": 1}
    assert chat.counters == {"csat": 2} and chat.updated == 9
    assert await again.conn.db["profiles"].count_documents({}) == 0, "moved, so a later open finds nothing"
    third = await make_store()
    assert (await third.get_profile(APP, "bob")).counters == {"csat": 2}, "not applied twice"


async def test_a_mongodb_merge_cut_short_by_a_crash_is_finished_on_open(make_store: MakeStore) -> None:
    crashed = await make_store()
    if not isinstance(crashed, MongoStore):
        pytest.skip("SQLite merges in one transaction: a crash leaves all or nothing")
    w, _ = await crashed.resolve_or_create(APP, "phone", "+1", 1)
    lose, _ = await crashed.resolve_or_create(APP, "cookie", "ck", 1)
    await crashed.update_audience_profile(
        APP, lose, ProfileChange(now=5, attrs={"city": "Oslo"}, counts={"count:v": 2})
    )
    # The merge got as far as closing the loser (its marker written 60 s ago), then the process died.
    identity = crashed._identity
    await crashed.conn.db["aud_merge_pending"].insert_one(
        {"_id": f"{APP}/mg_x", "app": APP, "mid": "mg_x", "winner": w, "loser": lose, "ts": now_ms() - 60_000,
         "matched": [["cookie", "ck"]], "reason": "shared cookie", "actor": "sdk"})  # fmt: skip
    await identity._close_loser(APP, lose, w, 10)
    assert (await crashed.get_audience_profile(APP, w)).attrs == {}, "not folded yet"
    reopened = await make_store()  # open() finishes it
    survivor = await reopened.get_audience_profile(APP, w)
    assert survivor.attrs == {"city": "Oslo"} and survivor.computed == {"count:v": 2.0}
    assert await reopened.resolve_identifier(APP, "cookie", "ck") == w
    record = await reopened.get_merge(APP, "mg_x")
    assert record is not None and record.loser_before.attrs == {"city": "Oslo"}
    assert (await reopened.get_audience_profile(APP, lose)).attrs == {}, "the closed profile is emptied"
    again = await make_store()  # nothing left to do: not folded twice
    assert (await again.get_audience_profile(APP, w)).computed == {"count:v": 2.0}
    assert await again.conn.db["aud_merge_pending"].count_documents({}) == 0
