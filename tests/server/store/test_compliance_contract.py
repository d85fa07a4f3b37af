"""Contract of the erasure port (``compliance_port.py``: ``ErasureStore``) on both adapters."""

from __future__ import annotations

import asyncio

from parley.server.audience_models import ConsentEntry, Identifier, ProfileChange
from parley.server.compliance_port import ErasureRecord
from parley.server.ids import new_id
from parley.server.models import TagRecord
from parley.server.ports import Store
from tests.server.store.conftest import MakeStore

APP, OTHER = "acme", "other"


async def _person(store: Store, app: str, phone: str, cookie: str) -> tuple[str, str]:
    """A profile with attributes, a tag, consent, and a second profile merged into it."""
    pid, _ = await store.resolve_or_create(app, "phone", phone, 1)
    change = ProfileChange(
        now=2, actor="api:t", attrs={"plan": "gold"}, set_tags=(TagRecord("vip", "manual", 1.0, "", 2, 0),),
        consent=(ConsentEntry("marketing", "granted", 2, "api", "r"),), computed={"lifecycle": "new"},
    )  # fmt: skip
    await store.update_audience_profile(app, pid, change)
    loser, _ = await store.resolve_or_create(app, "cookie", cookie, 3)
    await store.merge_audience_profiles(
        app,
        pid,
        loser,
        matched=(Identifier("cookie", cookie),),
        reason="r",
        actor="t",
        mid=new_id("mg"),
        now=4,
    )
    return pid, loser


async def test_delete_person_rows_removes_every_row_and_is_idempotent(store: Store) -> None:
    pid, loser = await _person(store, APP, "+14155550100", "ck1")
    keep, _ = await _person(store, APP, "+14155550199", "ck2")
    twin, _ = await _person(store, OTHER, "+14155550100", "ck1")
    assert await store.delete_person_rows(APP, [pid, loser]) == 2
    for p in (pid, loser):
        assert await store.get_audience_profile(APP, p) is None
        assert await store.identifiers_of(APP, p) == []
        assert await store.list_merges(APP, p) == []
        assert await store.tag_history(APP, p) == [] and await store.consent_ledger(APP, p) == []
    assert await store.resolve_identifier(APP, "phone", "+14155550100") is None
    assert await store.resolve_identifier(APP, "cookie", "ck1") is None
    assert await store.count_merges_matching(APP, "cookie", "ck1") == 0, "the matches went with the merge"
    # A second run (a retry after a crash) deletes nothing and succeeds.
    assert await store.delete_person_rows(APP, [pid, loser]) == 0
    # Nobody else lost anything: another person of the app, the same phone in another app.
    assert (await store.get_audience_profile(APP, keep)) is not None
    assert await store.resolve_identifier(APP, "phone", "+14155550199") == keep
    assert len(await store.tag_history(APP, keep)) == 1 and len(await store.list_merges(APP, keep)) == 1
    assert await store.resolve_identifier(OTHER, "phone", "+14155550100") == twin
    assert len(await store.consent_ledger(OTHER, twin)) == 1


async def test_salt_is_compare_and_set_across_instances(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    got = await asyncio.gather(*(s.erase_salt(APP, f"c{n}") for n, s in enumerate([one, two] * 4)))
    assert len(set(got)) == 1, "every caller sees the one salt that won"
    assert await one.erase_salt(APP, "later") == got[0]
    assert await two.erase_salt(OTHER, "o") == "o", "per app"


async def test_tombstones_are_per_app_and_kept_once(store: Store) -> None:
    await store.add_tombstones(APP, ["d1", "d2"], "er_1", 10)
    await store.add_tombstones(APP, ["d2", "d3"], "er_2", 20)
    assert sorted(await store.tombstoned(APP, ["d1", "d2", "d3", "d4"])) == ["d1", "d2", "d3"]
    assert await store.tombstoned(OTHER, ["d1"]) == []
    assert await store.tombstoned(APP, []) == []


async def test_erase_records_round_trip_replace_and_page(store: Store) -> None:
    first = ErasureRecord(APP, "er_p_1", "p_1", "api:k1", "erasing", 10)
    await store.save_erasure(first)
    assert await store.get_erasure(APP, "er_p_1") == first
    done = ErasureRecord(APP, "er_p_1", "p_1", "api:k1", "done", 10, 12, {"events": 3})
    await store.save_erasure(done)
    await store.save_erasure(ErasureRecord(APP, "er_p_2", "p_2", "api:k1", "done", 11, 11))
    await store.save_erasure(ErasureRecord(OTHER, "er_p_0", "p_0", "api:k9", "done", 1, 1))
    assert await store.get_erasure(APP, "er_p_1") == done
    assert await store.get_erasure(OTHER, "er_p_1") is None
    assert [r.id for r in await store.list_erasures(APP, after="", limit=10)] == ["er_p_1", "er_p_2"]
    assert [r.id for r in await store.list_erasures(APP, after="er_p_1", limit=10)] == ["er_p_2"]
    assert [r.id for r in await store.list_erasures(APP, after="", limit=1)] == ["er_p_1"]


async def test_remove_tombstones_lifts_only_the_given_ones_of_the_app(store: Store) -> None:
    await store.add_tombstones(APP, ["d1", "d2"], "er_1", 10)
    await store.add_tombstones(OTHER, ["d1"], "er_9", 10)
    assert await store.remove_tombstones(APP, ["d1", "dx"]) == 1
    assert await store.tombstoned(APP, ["d1", "d2"]) == ["d2"]
    assert await store.tombstoned(OTHER, ["d1"]) == ["d1"], "another app's tombstone stays"
    assert await store.remove_tombstones(APP, ["d1"]) == 0 and await store.remove_tombstones(APP, []) == 0


async def test_deliveries_of_a_recipient_page_by_key_and_stay_per_app(store: Store) -> None:
    for key in ("campaign:b", "campaign:a", "push:1"):
        assert await store.claim_delivery(APP, key, "p_1", owner="n1", now=1, lease_ms=99) is not None
    await store.claim_delivery(APP, "campaign:a", "p_2", owner="n1", now=1, lease_ms=99)
    await store.claim_delivery(OTHER, "campaign:a", "p_1", owner="n1", now=1, lease_ms=99)
    got = await store.deliveries_of(APP, "p_1", after_key="", limit=2)
    assert [(d.app, d.key, d.pid) for d in got] == [(APP, "campaign:a", "p_1"), (APP, "campaign:b", "p_1")]
    rest = await store.deliveries_of(APP, "p_1", after_key="campaign:b", limit=2)
    assert [d.key for d in rest] == ["push:1"]
    assert await store.deliveries_of(APP, "p_9", after_key="", limit=5) == []
