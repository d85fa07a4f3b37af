"""Contract of the audit log's filters (``SafetyStore.list_audit``) on both adapters."""

from __future__ import annotations

from parley.server.ports import Store
from parley.server.safety_models import AuditRecord

APP = "acme"


def rec(n: int, actor: str, action: str, target: str, app: str = APP) -> AuditRecord:
    return AuditRecord(app, f"{1000 + n:013d}-{n:08x}", 1000 + n, actor, action, target, {"n": n})


async def test_list_audit_filters_by_actor_action_prefix_target_and_id_range(store: Store) -> None:
    records = [
        rec(1, "key:a", "audience.erase", "p_1"), rec(2, "key:b", "audience.export", "p_1"),
        rec(3, "key:a", "api.patch_profile", "/v1/audience/profiles/p_2"), rec(4, "console:ann", "words.put", "bad"),
        rec(5, "key:a", "audience.erase", "p_3"), rec(6, "key:a", "audience.erase", "p_1", app="other"),
    ]  # fmt: skip
    for r in records:
        await store.add_audit(r)

    async def ids(**filters: str) -> list[int]:
        got = await store.list_audit(APP, after=filters.pop("after", ""), limit=10, **filters)
        return [int(r.detail["n"]) for r in got]

    assert await ids() == [1, 2, 3, 4, 5], "no filter: the app's whole log, in order, nothing of another app"
    assert await ids(actor="key:a") == [1, 3, 5]
    assert await ids(action="audience.") == [1, 2, 5], "action is a prefix"
    assert await ids(action="audience.erase", target="p_1") == [1]
    assert await ids(actor="key:a", after=records[0].id) == [3, 5]
    assert await ids(before=records[3].id) == [1, 2, 3], "before bounds the id (time) range"
    assert await ids(action="%") == [] and await ids(action="audience.erase_") == [], "no pattern characters"
    assert await ids(actor="key") == [], "actor is exact"
