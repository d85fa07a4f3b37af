"""Contract of the customer-service part of the store port, on both adapters."""

from __future__ import annotations

import asyncio

from parley.server.models import TagRecord, Ticket, User
from parley.server.ports import Store

APP = "acme"


def ticket(conv: str = "c1", state: str = "bot", updated: int = 1, **kw: object) -> Ticket:
    return Ticket(app=APP, conv=conv, customer="cu", state=state, created=1, updated=updated, **kw)  # type: ignore[arg-type]


async def test_tickets_save_get_list_in_update_order(store: Store) -> None:
    await store.save_ticket(ticket("c1", "waiting_for_agent", updated=5))
    await store.save_ticket(ticket("c2", "waiting_for_agent", updated=3))
    await store.save_ticket(ticket("c3", "agent", updated=4, agent="ann"))
    await store.save_ticket(Ticket(app="other", conv="c9", customer="x", state="waiting_for_agent"))
    assert await store.get_ticket(APP, "c3") == ticket("c3", "agent", updated=4, agent="ann")
    assert await store.get_ticket(APP, "nope") is None
    waiting = await store.list_tickets(APP, state="waiting_for_agent")
    assert [t.conv for t in waiting] == ["c2", "c1"], "oldest first, never another app's"
    assert [t.conv for t in await store.list_tickets(APP, agent="ann")] == ["c3"]
    assert len(await store.list_tickets(APP)) == 3


async def test_update_ticket_is_compare_and_set(store: Store) -> None:
    await store.save_ticket(ticket("c1", "waiting_for_agent"))
    claims = [ticket("c1", "agent", updated=2, agent=agent) for agent in ("ann", "bo", "cy")]
    won = await asyncio.gather(*(store.update_ticket(c, {"waiting_for_agent"}) for c in claims))
    assert sorted(won) == [False, False, True], "exactly one claim wins"
    stored = await store.get_ticket(APP, "c1")
    assert stored is not None and stored.state == "agent" and stored.agent in {"ann", "bo", "cy"}
    assert not await store.update_ticket(ticket("c1", "bot"), {"resolved"})


async def test_update_ticket_unrated_sets_a_score_once(store: Store) -> None:
    await store.save_ticket(ticket("c1", "resolved"))
    rates = [ticket("c1", "resolved", updated=2, score=score) for score in (1, 3, 5)]
    won = await asyncio.gather(*(store.update_ticket(r, {"resolved"}, unrated=True) for r in rates))
    assert sorted(won) == [False, False, True], "exactly one rate is stored"
    stored = await store.get_ticket(APP, "c1")
    assert stored is not None and stored.score == [1, 3, 5][won.index(True)]
    assert not await store.update_ticket(ticket("c1", "resolved", score=2), {"resolved"}, unrated=True)


async def test_profiles_merge_tags_attributes_counters(store: Store) -> None:
    assert await store.get_profile(APP, "cu") is None
    skincare = TagRecord("interest:skincare", "model", 0.8, "m_1", 10, 0)
    dotted = TagRecord("brand.x $vip", "agent", 1.0, "", 11, 99)
    p = await store.merge_profile(APP, "cu", set_tags=[skincare, dotted], attributes={"budget": 50},
                                  counters={"thumbs_up": 1}, updated=12)  # fmt: skip
    assert set(p.tags) == {"interest:skincare", "brand.x $vip"} and p.tags["brand.x $vip"] == dotted
    p = await store.merge_profile(
        APP, "cu", remove_tags=["interest:skincare"], counters={"thumbs_up": 2}, updated=13
    )
    assert (
        set(p.tags) == {"brand.x $vip"} and p.counters == {"thumbs_up": 3} and p.attributes == {"budget": 50}
    )
    again = await store.get_profile(APP, "cu")
    assert again == p and again.updated == 13
    assert await store.get_profile("other", "cu") is None


async def test_concurrent_counter_increments_are_not_lost(store: Store) -> None:
    await asyncio.gather(*(store.merge_profile(APP, "cu", counters={"n": 1}) for _ in range(10)))
    p = await store.get_profile(APP, "cu")
    assert p is not None and p.counters == {"n": 10}


async def test_list_users_by_role(store: Store) -> None:
    for user, role in [("zed", "agent"), ("amy", "agent"), ("bob", "user"), ("bot", "bot")]:
        await store.upsert_user(User(app=APP, user=user, role=role, created=1))
    await store.upsert_user(User(app="other", user="x", role="agent", created=1))
    assert [u.user for u in await store.list_users(APP, "agent")] == ["amy", "zed"]


async def test_knowledge_replace_list_delete_with_versions(store: Store) -> None:
    from parley.server.models import KnowledgeEntry, KnowledgeVector

    vec = KnowledgeVector("minilm", "body", b"\x00\x00\x80?" * 4)
    assert await store.knowledge_version(APP) == 0
    faq = [
        KnowledgeEntry(APP, "faq.csv", f"faq::{i}", {"id": f"faq::{i}", "text": f"answer {i}"}, (vec,))
        for i in range(3)
    ]
    v1 = await store.replace_knowledge(APP, "faq.csv", faq)
    v2 = await store.replace_knowledge(
        APP, "sizes.md", [KnowledgeEntry(APP, "sizes.md", "sizes::0", {"text": "S M L"})]
    )
    assert 0 < v1 < v2
    version, entries = await store.list_knowledge(APP)
    assert version == v2 and [e.chunk_id for e in entries] == ["faq::0", "faq::1", "faq::2", "sizes::0"]
    assert entries[0] == faq[0] and entries[0].vectors[0].vector == vec.vector
    v3 = await store.replace_knowledge(APP, "faq.csv", faq[:1])  # re-ingest replaces the whole source
    assert [e.chunk_id for e in (await store.list_knowledge(APP))[1]] == ["faq::0", "sizes::0"]
    v4 = await store.delete_knowledge(APP, "sizes.md")
    assert v2 < v3 < v4 == await store.knowledge_version(APP)
    assert (await store.list_knowledge("other")) == (0, [])
