# ruff: noqa: F811  (pytest fixtures imported from tests/server/store/conftest.py are parameters here)
"""IdentityService (One ID) over real stores (SQLite and the MongoDB wire server): normalisation,
the merge priority and rule, conflicts, the merge guard, events and chat following a merge,
explain/unmerge, races between identify calls on two store instances, and two apps."""

from __future__ import annotations

import asyncio

import pytest

from parley.server.errors import ServiceError
from parley.server.events_models import Event
from parley.server.ports import Store
from parley.server.services.audience import AudienceLimits, AudienceService, TagSpec
from parley.server.services.identity import IdentityService
from tests.server.store.conftest import MakeStore, make_store, store  # noqa: F401 (fixtures: both adapters)

APP, OTHER = "acme", "other"
SCHEMA = {
    "attributes": {"plan": {"type": "string"}, "city": {"type": "string"}},
    "consent_topics": ["marketing"],
    "identity": {"default_region": "US", "merge_guard": 3,
                 "merge_priority": ["phone", "union", "email", "user", "device", "cookie"]},
}  # fmt: skip


def services(store: Store) -> tuple[AudienceService, IdentityService]:
    audience = AudienceService(store, AudienceLimits())
    return audience, IdentityService(store, audience)


@pytest.fixture
async def pair(store: Store) -> tuple[AudienceService, IdentityService]:
    audience, identity = services(store)
    await audience.put_schema(APP, SCHEMA)
    return audience, identity


async def test_identifiers_are_normalised_and_bad_ones_refused(
    pair: tuple[AudienceService, IdentityService],
) -> None:
    audience, identity = pair
    first = await identity.identify(
        APP, [("phone", "(415) 555-0100"), ("email", "Ann.Lee@Example.COM")], actor="api"
    )
    assert first["created"]
    view = await audience.view(APP, first["pid"])
    assert {(i["kind"], i["value"]) for i in view["identifiers"]} == {
        ("phone", "+14155550100"), ("email", "ann.lee@example.com")}  # fmt: skip
    again = await identity.identify(APP, [("phone", "+1 415 555 0100")], actor="api")
    assert again == {"pid": first["pid"], "created": False, "merged": [], "conflicts": []}
    for bad in (("phone", "12"), ("phone", "not a number"), ("email", "ann@"), ("email", "a b@example.com"),
                ("fax", "123"), ("cookie", ""), ("device", 7)):  # fmt: skip
        with pytest.raises(ServiceError) as exc:
            await identity.identify(APP, [("cookie", "ck-fresh"), bad], actor="api")
        assert exc.value.code.value == "identifier_invalid", bad
        assert ("ck-fresh" not in str(exc.value) and str(bad[1]) not in exc.value.message) or bad[1] in (
            "",
            7,
        )
    assert await identity.identify(APP, [("cookie", "ck-fresh")], actor="api") != {}  # not attached before
    assert (await identity.identify(APP, [("cookie", "ck-fresh")], actor="api"))["created"] is False


async def test_an_anchor_is_normalised_in_the_apps_region_too(
    pair: tuple[AudienceService, IdentityService],
) -> None:
    _, identity = pair
    first = await identity.identify(
        APP, [("email", "ann@example.com")], actor="api", anchor=("phone", "(415) 555-0100")
    )
    assert await identity.identify(APP, [("phone", "+14155550100")], actor="api") == {
        "pid": first["pid"], "created": False, "merged": [], "conflicts": []}  # fmt: skip


async def test_a_login_merges_the_anonymous_profile_by_the_rule(
    pair: tuple[AudienceService, IdentityService],
) -> None:
    audience, identity = pair
    anon = (await identity.identify(APP, [("cookie", "ck1")], actor="sdk"))["pid"]
    await audience.update(APP, anon, actor="sdk", attributes={"plan": "free", "city": "Oslo"},
                          add_tags=[TagSpec("browsing", 0.4)], consent=[("marketing", "denied")])  # fmt: skip
    known = (await identity.identify(APP, [("phone", "+14155550100")], actor="api"))["pid"]
    await audience.update(
        APP, known, actor="api", attributes={"plan": "gold"}, consent=[("marketing", "granted")]
    )
    result = await identity.identify(APP, [("phone", "+14155550100"), ("cookie", "ck1")], actor="sdk")
    assert result["pid"] == known, "phone outranks cookie: the phone's profile survives"
    assert len(result["merged"]) == 1
    view = await audience.view(APP, anon)  # the merged pid reads as its survivor
    assert view["pid"] == known and view["attributes"] == {"plan": "gold", "city": "Oslo"}
    assert view["consent"]["marketing"]["state"] == "denied", "the most restrictive consent wins"
    assert [t["name"] for t in view["tags"]] == ["browsing"]
    assert len(await audience.consent_ledger(APP, known)) == 2, (
        "the person's ledger includes the merged profile's"
    )
    explained = await identity.explain(APP, result["merged"][0])
    assert explained["survivor"] == known and explained["merged"] == anon
    assert explained["matched"] == [{"kind": "cookie", "value": "ck1"}]
    assert explained["before"]["merged"]["attributes"] == {"plan": "free", "city": "Oslo"}
    assert [m["mid"] for m in await identity.merges(APP, known)] == result["merged"]
    undone = await identity.unmerge(APP, result["merged"][0])
    assert undone["undone"] > 0
    assert (await audience.view(APP, anon))["pid"] == anon
    assert (await identity.identify(APP, [("cookie", "ck1")], actor="sdk"))["pid"] == anon
    with pytest.raises(ServiceError) as exc:
        await identity.unmerge(APP, result["merged"][0])
    assert exc.value.code.value == "profile_not_found"


async def test_unmerge_gives_each_profile_back_exactly_its_events_latest_merge_first(
    pair: tuple[AudienceService, IdentityService], store: Store
) -> None:
    _, identity = pair

    async def track(eid: str, pid: str) -> None:
        await store.append_events([Event(APP, eid, pid, "viewed", 1000, {}, 1000)])

    async def eids(pid: str) -> list[str]:
        return [e.eid for e in await store.events_of(APP, pid)]

    anon = (await identity.identify(APP, [("cookie", "ck1")], actor="sdk"))["pid"]
    tablet = (await identity.identify(APP, [("device", "dv1")], actor="sdk"))["pid"]
    known = (await identity.identify(APP, [("phone", "+14155550100")], actor="api"))["pid"]
    await track("anon-1", anon)
    await track("tablet-1", tablet)
    await track("known-1", known)
    first = await identity.identify(APP, [("device", "dv1"), ("cookie", "ck1")], actor="sdk")
    assert first["pid"] == tablet and len(first["merged"]) == 1, "device outranks cookie"
    second = await identity.identify(APP, [("phone", "+14155550100"), ("device", "dv1")], actor="sdk")
    assert second["pid"] == known and len(second["merged"]) == 1
    await track("known-2", known)  # after the merges, for the survivor: stays with it
    assert await eids(known) == ["anon-1", "known-1", "known-2", "tablet-1"]
    await identity.unmerge(APP, second["merged"][0])
    assert await eids(known) == ["known-1", "known-2"]
    assert await eids(tablet) == ["anon-1", "tablet-1"], "with what had been merged into it"
    await identity.unmerge(APP, first["merged"][0])
    assert await eids(tablet) == ["tablet-1"]
    assert await eids(anon) == ["anon-1"]


async def test_the_priority_is_configurable_per_app(pair: tuple[AudienceService, IdentityService]) -> None:
    audience, identity = pair
    doc = {**SCHEMA, "identity": {"merge_priority": ["cookie", "device", "user", "email", "union", "phone"]}}
    await audience.put_schema(APP, doc)
    anon = (await identity.identify(APP, [("cookie", "ck1")], actor="sdk"))["pid"]
    known = (await identity.identify(APP, [("phone", "+14155550100")], actor="api"))["pid"]
    result = await identity.identify(APP, [("phone", "+14155550100"), ("cookie", "ck1")], actor="sdk")
    assert result["pid"] == anon != known


async def test_a_shared_device_does_not_merge_two_people(
    pair: tuple[AudienceService, IdentityService],
) -> None:
    _, identity = pair
    dad = (await identity.identify(APP, [("user", "dad"), ("device", "tablet")], actor="sdk"))["pid"]
    mom = await identity.identify(APP, [("user", "mom"), ("device", "tablet")], actor="sdk")
    assert mom["pid"] != dad and mom["conflicts"] == [dad] and mom["merged"] == []
    assert (await identity.identify(APP, [("device", "tablet")], actor="sdk"))["pid"] == dad, (
        "it stays with dad"
    )
    assert (await identity.identify(APP, [("user", "mom")], actor="sdk"))["pid"] == mom["pid"]


async def test_the_merge_guard_refuses_and_stores_nothing(
    pair: tuple[AudienceService, IdentityService],
) -> None:
    _audience, identity = pair
    pids = [(await identity.identify(APP, [("cookie", f"ck{n}")], actor="sdk"))["pid"] for n in range(4)]
    with pytest.raises(ServiceError) as exc:
        await identity.identify(
            APP, [("email", "x@example.com")] + [("cookie", f"ck{n}") for n in range(4)], actor="sdk"
        )
    assert exc.value.code.value == "merge_guard"
    for n, pid in enumerate(pids):
        assert (await identity.identify(APP, [("cookie", f"ck{n}")], actor="sdk"))["pid"] == pid, (
            "nothing merged"
        )
    assert (await identity.identify(APP, [("email", "x@example.com")], actor="sdk"))["created"], (
        "nothing attached"
    )
    # A kiosk device that keeps linking anonymous visitors into its owner: after 3 merges, no more.
    owner = (await identity.identify(APP, [("user", "k0"), ("device", "kiosk")], actor="sdk"))["pid"]
    for n in range(1, 5):
        visitor = (await identity.identify(APP, [("cookie", f"kk{n}")], actor="sdk"))["pid"]
        call = identity.identify(APP, [("cookie", f"kk{n}"), ("device", "kiosk")], actor="sdk")
        if n <= 3:
            assert (await call)["pid"] == owner
        else:
            with pytest.raises(ServiceError) as exc:
                await call
            assert exc.value.code.value == "merge_guard"
            assert (await identity.identify(APP, [("cookie", f"kk{n}")], actor="sdk"))["pid"] == visitor


async def test_events_and_chat_follow_the_merge(
    pair: tuple[AudienceService, IdentityService], store: Store
) -> None:
    _audience, identity = pair
    anon = (await identity.identify(APP, [("cookie", "ck1")], actor="sdk"))["pid"]
    await store.append_events([Event(APP, "e1", anon, "viewed", 1000)])
    await store.merge_profile(APP, "bob", counters={"csat": 1})
    result = await identity.identify(APP, [("user", "bob"), ("cookie", "ck1")], actor="sdk")
    assert result["merged"], "bob's chat profile absorbed the anonymous one"
    assert [e.eid for e in await store.events_of(APP, result["pid"])] == ["e1"]
    assert await store.events_of(APP, anon) == []
    chat = await store.get_profile(APP, "bob")
    assert chat is not None and chat.counters == {"csat": 1}


async def test_concurrent_identifies_on_two_instances_leave_one_profile(make_store: MakeStore) -> None:
    one, two = await make_store(), await make_store()
    (a1, i1), (_, i2) = services(one), services(two)
    await a1.put_schema(APP, SCHEMA)
    for round_ in range(4):
        ids = [("phone", f"+1415555010{round_}"), ("cookie", f"ck{round_}"), ("device", f"d{round_}")]
        for kind, value in ids:
            await i1.identify(APP, [(kind, value)], actor="sdk")
        calls = [i.identify(APP, ids[n:] + ids[:n], actor="sdk") for n, i in enumerate((i1, i2, i1, i2))]
        results = await asyncio.gather(*calls)
        assert len({r["pid"] for r in results}) == 1, results
        holders = {await one.resolve_identifier(APP, kind, str(v)) for kind, v in
                   [("phone", f"+1415555010{round_}"), ("cookie", f"ck{round_}"), ("device", f"d{round_}")]}  # fmt: skip
        assert holders == {results[0]["pid"]}, "one live profile holds every identifier"


async def test_nothing_crosses_apps(pair: tuple[AudienceService, IdentityService]) -> None:
    _, identity = pair
    mine = await identity.identify(APP, [("email", "a@example.com")], actor="api")
    theirs = await identity.identify(OTHER, [("email", "a@example.com"), ("cookie", "c")], actor="api")
    assert theirs["created"] and theirs["pid"] != mine["pid"] and theirs["merged"] == []
    with pytest.raises(ServiceError) as exc:
        await identity.explain(OTHER, "mg_nope")
    assert exc.value.code.value == "profile_not_found"


async def test_a_second_phone_of_a_known_person_is_attached(
    pair: tuple[AudienceService, IdentityService],
) -> None:
    _, identity = pair
    ann = (await identity.identify(APP, [("user", "ann"), ("phone", "+14155550100")], actor="api"))["pid"]
    more = await identity.identify(APP, [("user", "ann"), ("phone", "+14155550199")], actor="api")
    assert more == {"pid": ann, "created": False, "merged": [], "conflicts": []}
    bob = await identity.identify(APP, [("user", "bob"), ("phone", "+14155550100")], actor="api")
    assert bob["pid"] != ann and bob["conflicts"] == [ann], "ann's phone is not bob's to take"
    assert (await identity.identify(APP, [("phone", "+14155550100")], actor="api"))["pid"] == ann
