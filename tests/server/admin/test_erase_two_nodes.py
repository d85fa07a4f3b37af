"""An erase on one node while another node still has the person's profile id cached for events:
a late event taken by the other node is not kept (the applier finds the profile erased and deletes
what arrived), and no profile is re-created. Two real nodes over one store."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.harness import running_node

pytestmark = pytest.mark.timeout(60)

SCHEMA = {"events": {"viewed": {"properties": {"sku": "string"}}}}


async def test_a_late_event_on_a_node_with_a_stale_cache_is_not_kept(tmp_path: Path) -> None:
    async with running_node(tmp_path) as one, running_node(tmp_path, app=(one.app, one.api_key)) as two:
        headers = {"authorization": f"Bearer {one.api_key}"}
        async with httpx.AsyncClient(base_url=one.http, headers=headers, timeout=10) as api1, \
                    httpx.AsyncClient(base_url=two.http, headers=headers, timeout=10) as api2:  # fmt: skip
            assert (await api1.put("/v1/audience/schema", json=SCHEMA)).status_code == 200
            first = {"events": [{"eid": "e1", "event": "viewed", "user": "ann", "props": {"sku": "s1"}}]}
            r = await api2.post("/v1/audience/events", json=first)  # node two caches ann's pid
            assert r.status_code == 200, r.text
            pid = r.json()["results"][0]["pid"]
            await two.node.services.events.flush()
            assert (await api1.post(f"/v1/audience/profiles/{pid}/erase")).json()["state"] == "done"
            late = {"events": [{"eid": "e2", "event": "viewed", "user": "ann", "props": {"sku": "s2"}}]}
            assert (await api2.post("/v1/audience/events", json=late)).status_code in (200, 409)
            await two.node.services.events.flush()
            store = two.node.store
            assert await store.events_of(one.app.app, pid) == [], "what arrived after the erase is gone"
            assert await store.get_audience_profile(one.app.app, pid) is None
            assert await store.resolve_identifier(one.app.app, "user", "ann") is None
            again = await api2.post(
                "/v1/audience/events", json={"events": [{"eid": "e3", "event": "viewed", "user": "ann"}]}
            )
            assert again.status_code == 409 and again.json()["code"] == "identifier_erased", (
                "the stale id was dropped"
            )
