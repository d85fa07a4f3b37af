"""ProfileService: explainable tags (source, confidence, evidence, expiry), attributes merged."""

from __future__ import annotations

from parley.proto import frames
from parley.server.services.profiles import ProfileService, profile_info
from parley.server.store.sqlite import SQLiteStore

A = "app1"


async def test_an_unknown_user_has_an_empty_profile(store: SQLiteStore) -> None:
    assert await ProfileService(store).get(A, "nobody") == frames.ProfileInfo(user="nobody")


async def test_tags_record_who_decided_them_and_are_replaced_or_removed_by_name(store: SQLiteStore) -> None:
    profiles = ProfileService(store)
    first = await profiles.tag(
        A, "cust", "bot",
        [frames.TagInput(name="vip", confidence=0.6, evidence="m1"), frames.TagInput(name="lang:fr")],
        [], attributes={"city": "Lyon", "tier": 1},
    )  # fmt: skip
    assert [(t.name, t.source, t.confidence, t.evidence) for t in first.tags] == [
        ("lang:fr", "bot", 1.0, ""),
        ("vip", "bot", 0.6, "m1"),
    ]
    second = await profiles.tag(
        A, "cust", "agent", [frames.TagInput(name="vip", confidence=1.0)], ["lang:fr", "never-set"],
        attributes={"tier": 2},
    )  # fmt: skip
    assert [(t.name, t.source, t.confidence) for t in second.tags] == [("vip", "agent", 1.0)]
    assert second.attributes == {"city": "Lyon", "tier": 2}
    assert await profiles.get(A, "cust") == second
    assert (await profiles.get("app2", "cust")).tags == [], "profiles are per app"


async def test_a_tag_with_a_ttl_expires_and_is_no_longer_shown(store: SQLiteStore) -> None:
    profiles = ProfileService(store)
    shown = await profiles.tag(
        A, "cust", "model", [frames.TagInput(name="intent:buy", ttl=60), frames.TagInput(name="kept")], []
    )
    expiring = next(t for t in shown.tags if t.name == "intent:buy")
    assert expiring.expires == expiring.ts + 60_000
    stored = await store.get_profile(A, "cust")
    later = profile_info(stored, "cust", expiring.expires)
    assert [t.name for t in later.tags] == ["kept"]
    assert [t.name for t in profile_info(stored, "cust", expiring.expires - 1).tags] == ["intent:buy", "kept"]
