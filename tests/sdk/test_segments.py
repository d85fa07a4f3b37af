"""Segments end to end: AdminClient over the admin API of a real node, events tracked by the SDK
over the gateway moving a profile into a saved segment (a ``segment_enter`` event within
seconds), problem documents of refused rules, and nothing crossing apps."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.sdk import AdminClient, AdminError, Client
from parley.sdk.admin_segments import SegmentClause
from parley.server.ids import now_ms
from tests.harness import running_node

pytestmark = pytest.mark.timeout(60)

SCHEMA: dict[str, Any] = {
    "attributes": {"city": {"type": "string"}},
    "events": {"viewed": {"properties": {"category": "string"}}},
}


async def test_tracked_events_move_a_user_into_a_saved_segment(tmp_path: Path) -> None:
    async with running_node(tmp_path, segment_touch_delay=0.05) as node:
        await node.node.store.put_audience_schema(node.app.app, SCHEMA, now_ms())
        admin = AdminClient(node.http, node.api_key)
        try:
            keen = await admin.create_segment("keen", "Keen viewers", 'count(event "viewed", 1h) >= 2')
            assert (keen.mode, keen.version, keen.timed) == ("dynamic", 1, True)
            assert keen.rule["type"] == "events"
            client = Client(node.url, token=await node.token("ann"))
            async with client:
                await client.track("viewed", {"category": "shoes"})
                await client.track("viewed", {"category": "hats"})
            for _ in range(200):  # the membership event follows within seconds (touch delay 50 ms)
                entered = [e for e in await admin.user_events("ann") if e.event == "segment_enter"]
                if entered:
                    break
                await asyncio.sleep(0.05)
            assert [e.props for e in entered] == [{"segment": "keen"}]
            members, cursor = await admin.segment_members("keen")
            assert len(members) == 1 and cursor == ""
            preview = await admin.preview_segment('count(event "viewed", 1h) >= 2 and not segment("keen")')
            assert (preview.count, preview.sample) == (0, [])
            why = await admin.explain_segment(members[0], 'count(event "viewed", 1h) >= 2 or attr.city = "x"')
            assert why.member and why.clauses[2] == SegmentClause("/items/1", 'attr.city = "x"', False)
            snap = await admin.snapshot_segment("keen")
            assert snap.mode == "snapshot" and snap.frozen_at > 0 and snap.version == 2
            assert [s.id for s in await admin.segments()] == ["keen"]
        finally:
            await admin.aclose()


async def test_refused_rules_are_problems_with_the_clause_path(tmp_path: Path) -> None:
    async with running_node(tmp_path) as node:
        await node.node.store.put_audience_schema(node.app.app, SCHEMA, now_ms())
        admin = AdminClient(node.http, node.api_key)
        try:
            for text, path in [('attr.zip = "1"', "/key"), ('open_ticket and count(event "v", 0d) >= 1', "/items/1/window"),
                               ("attr.city = ", "@11")]:  # fmt: skip
                with pytest.raises(AdminError) as err:
                    await admin.preview_segment(text)
                assert (err.value.status, err.value.code) == (422, "segment_invalid")
                assert err.value.detail.startswith(f"{path}: ")
            async with httpx.AsyncClient(base_url=node.http) as http:
                raw = await http.post(
                    "/v1/audience/segments/preview",
                    json={"rule": {"type": "attr", "key": "city", "op": "zz"}},
                    headers={"authorization": f"Bearer {node.api_key}"},
                )
                assert raw.status_code == 422 and raw.json()["path"] == "/op"
                assert raw.headers["content-type"] == "application/problem+json"
                spec = (await http.get("/openapi.json")).json()
                assert "/v1/audience/segments/{seg}/members" in spec["paths"]
            await admin.create_segment("a", "A", 'attr.city = "Shanghai"')
            await admin.create_segment("b", "B", 'segment("a") or open_ticket')
            with pytest.raises(AdminError) as err:
                await admin.update_segment("a", "A", 'segment("b")')
            assert (err.value.status, err.value.code) == (409, "segment_cycle")
            with pytest.raises(AdminError) as err:
                await admin.create_segment("c", "C", rule={"type": "segment", "id": "nope"})
            assert err.value.code == "segment_invalid" and err.value.detail.startswith("/id: ")
            other = await node.node.services.apps.create_app("other")
            theirs = AdminClient(node.http, other.api_key)
            try:
                with pytest.raises(AdminError) as err:
                    await theirs.segment("a")
                assert (err.value.status, err.value.code) == (404, "segment_not_found")
                assert await theirs.segments() == []
            finally:
                await theirs.aclose()
        finally:
            await admin.aclose()
