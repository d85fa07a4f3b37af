"""Contract of the safety part of the store port (blocks, moderation, word lists, reports), on both adapters."""

from __future__ import annotations

from parley.server.models import App
from parley.server.ports import Store
from parley.server.safety_models import (
    ApiKeyRecord,
    AuditRecord,
    BlockRecord,
    Mute,
    RetiredSecret,
    ReviewItem,
    UserStatus,
    WordList,
)

APP = "acme"


async def test_blocks_are_directed_idempotent_listed_and_undone(store: Store) -> None:
    assert await store.add_block(APP, "ann", "bob", 10)
    assert not await store.add_block(APP, "ann", "bob", 11), "a repeat stores nothing"
    assert await store.add_block(APP, "ann", "cy", 12)
    assert await store.add_block("other", "ann", "dee", 13)
    assert await store.list_blocks(APP, "ann") == [
        BlockRecord(APP, "ann", "bob", 10),
        BlockRecord(APP, "ann", "cy", 12),
    ]
    assert await store.list_blocks(APP, "bob") == [], "a block is one-way"
    assert await store.remove_block(APP, "ann", "bob")
    assert not await store.remove_block(APP, "ann", "bob")
    assert [b.blocked for b in await store.list_blocks(APP, "ann")] == ["cy"]


async def test_blocks_between_a_user_and_others_both_ways(store: Store) -> None:
    await store.add_block(APP, "ann", "bob", 1)
    await store.add_block(APP, "cy", "ann", 2)
    await store.add_block(APP, "bob", "cy", 3)
    await store.add_block("other", "dee", "ann", 4)
    found = await store.blocks_between(APP, "ann", ["bob", "cy", "dee", "eve"])
    assert sorted((b.blocker, b.blocked) for b in found) == [("ann", "bob"), ("cy", "ann")]
    assert await store.blocks_between(APP, "ann", []) == []
    assert await store.blocks_between(APP, "eve", ["ann", "bob"]) == []


# moderation --------------------------------------------------------------


async def test_user_status_is_saved_replaced_and_per_app(store: Store) -> None:
    assert await store.get_user_status(APP, "bob") is None
    banned = UserStatus(APP, "bob", disabled=True, reason="spam", tokens_before=0, updated=5)
    await store.save_user_status(banned)
    await store.save_user_status(UserStatus("other", "bob", tokens_before=9, updated=6))
    assert await store.get_user_status(APP, "bob") == banned
    again = UserStatus(APP, "bob", disabled=False, reason="", tokens_before=1_700_000_000, updated=7)
    await store.save_user_status(again)
    assert await store.get_user_status(APP, "bob") == again


async def test_mutes_are_per_member_replaced_listed_and_removed(store: Store) -> None:
    await store.save_mute(Mute(APP, "c1", "bob", until=100, reason="flood", created=1))
    await store.save_mute(Mute(APP, "c1", "ann", until=200, created=2))
    await store.save_mute(Mute(APP, "c2", "bob", until=300, created=3))
    await store.save_mute(Mute("other", "c1", "bob", until=400, created=4))
    await store.save_mute(Mute(APP, "c1", "bob", until=150, reason="again", created=5))
    assert await store.get_mute(APP, "c1", "bob") == Mute(
        APP, "c1", "bob", until=150, reason="again", created=5
    )
    assert await store.get_mute(APP, "c3", "bob") is None
    assert [(m.user, m.until) for m in await store.list_mutes(APP, "c1")] == [("ann", 200), ("bob", 150)]
    assert await store.remove_mute(APP, "c1", "bob")
    assert not await store.remove_mute(APP, "c1", "bob")
    assert await store.get_mute(APP, "c1", "bob") is None
    assert await store.get_mute("other", "c1", "bob") is not None


async def test_audit_records_are_listed_in_id_order_after_a_cursor(store: Store) -> None:
    for i in range(5):
        await store.add_audit(
            AuditRecord(APP, f"a_{i:03d}", ts=i, actor="key:1", action="user.disable", target=f"u{i}",
                        detail={"reason": "x", "n": i})
        )  # fmt: skip
    await store.add_audit(AuditRecord("other", "a_002x", 9, "key:2", "user.enable", "z", {}))
    first = await store.list_audit(APP, after="", limit=3)
    assert [r.id for r in first] == ["a_000", "a_001", "a_002"]
    assert first[1] == AuditRecord(APP, "a_001", 1, "key:1", "user.disable", "u1", {"reason": "x", "n": 1})
    assert [r.id for r in await store.list_audit(APP, after="a_002", limit=10)] == ["a_003", "a_004"]


async def test_secret_rotation_keeps_the_old_secret_until_its_end(store: Store) -> None:
    await store.create_app(App(app=APP, name="Acme", secret="s1", created=1))
    assert await store.rotate_secret(APP, "s2", RetiredSecret(APP, "s1", until=5000))
    assert (await store.get_app(APP)).secret == "s2"  # type: ignore[union-attr]
    assert await store.rotate_secret(APP, "s3", RetiredSecret(APP, "s2", until=9000))
    assert sorted(r.secret for r in await store.retired_secrets(APP)) == ["s1", "s2"]
    # A rotation with a shorter overlap cuts every earlier overlap to it (a leaked secret ends now).
    assert await store.rotate_secret(APP, "s4", RetiredSecret(APP, "s3", until=3000))
    assert sorted((r.secret, r.until) for r in await store.retired_secrets(APP)) == [
        ("s1", 3000),
        ("s2", 3000),
        ("s3", 3000),
    ]
    assert not await store.rotate_secret("nope", "x", RetiredSecret("nope", "y", until=1))
    assert await store.retired_secrets("nope") == []


async def test_api_keys_are_listed_and_revoked_per_app(store: Store) -> None:
    await store.create_app(App(app=APP, name="Acme", secret="s", created=1))
    await store.create_app(App(app="other", name="O", secret="s", created=1))
    await store.add_api_key(APP, "h1", 10)
    await store.add_api_key(APP, "h2", 11)
    await store.add_api_key("other", "h3", 12)
    assert await store.list_api_keys(APP) == [ApiKeyRecord(APP, "h1", 10), ApiKeyRecord(APP, "h2", 11)]
    assert not await store.remove_api_key(APP, "h3"), "another app's key is not this app's to revoke"
    assert await store.app_for_key("h3") is not None
    assert await store.remove_api_key(APP, "h1")
    assert await store.app_for_key("h1") is None
    assert [k.key_hash for k in await store.list_api_keys(APP)] == ["h2"]


# word lists and the review queue ---------------------------------------


async def test_word_lists_are_replaced_whole_listed_and_deleted(store: Store) -> None:
    await store.put_word_list(WordList(APP, "zh", "refuse", ["法轮功", "赌博"], updated=1))
    await store.put_word_list(WordList(APP, "en", "mask", ["ass"], updated=2))
    await store.put_word_list(WordList("other", "en", "flag", ["x"], updated=3))
    await store.put_word_list(WordList(APP, "zh", "flag", ["傻逼"], updated=4))
    assert await store.list_word_lists(APP) == [
        WordList(APP, "en", "mask", ["ass"], updated=2),
        WordList(APP, "zh", "flag", ["傻逼"], updated=4),
    ]
    assert await store.delete_word_list(APP, "en")
    assert not await store.delete_word_list(APP, "en")
    assert [w.name for w in await store.list_word_lists(APP)] == ["zh"]


def review(rid: str, key: str, **kw: object) -> ReviewItem:
    fields: dict[str, object] = {"conv": "c1", "seq": 3, "author": "bob", "source": "report", "reporter": "ann",
                                 "reason": "spam", "excerpt": "buy now", "ts": int(rid[1:])}  # fmt: skip
    fields.update(kw)
    return ReviewItem(APP, rid, key, **fields)  # type: ignore[arg-type]


async def test_reviews_are_deduplicated_listed_by_state_and_resolved_once(store: Store) -> None:
    assert await store.add_review(review("r1", "report:c1:3:ann"))
    assert not await store.add_review(review("r2", "report:c1:3:ann")), "one report per reporter and message"
    assert await store.add_review(review("r3", "report:c1:3:cy", reporter="cy"))
    assert await store.add_review(review("r4", "filter:c1:4", seq=4, source="filter", reporter=""))
    assert await store.add_review(ReviewItem("other", "r5", "report:c1:3:ann", conv="c1", seq=3))
    assert [r.id for r in await store.list_reviews(APP, state="open", after="", limit=10)] == [
        "r1",
        "r3",
        "r4",
    ]
    assert [r.id for r in await store.list_reviews(APP, state="open", after="r1", limit=1)] == ["r3"]
    assert await store.resolve_review(APP, "r3", outcome="dismiss", by="key:1", ts=9)
    assert not await store.resolve_review(APP, "r3", outcome="recall", by="key:2", ts=10), "resolved once"
    assert not await store.resolve_review(APP, "r5", outcome="dismiss", by="key:1", ts=9), "another app's"
    done = await store.get_review(APP, "r3")
    assert done is not None and (done.state, done.outcome, done.resolved_by, done.resolved_at) == (
        "resolved",
        "dismiss",
        "key:1",
        9,
    )
    assert [r.id for r in await store.list_reviews(APP, state="resolved", after="", limit=10)] == ["r3"]
    assert await store.get_review(APP, "nope") is None
