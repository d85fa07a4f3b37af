"""Marketing through the admin API and AdminClient on a real node: send-policy settings, template
checks, idempotent pushes, and a campaign from definition to done — each refusal with its stable
code and nothing stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.sdk import AdminClient, AdminError
from tests.harness import RunningNode, running_node
from tests.server.services.test_send_policy import official_messages, profile

pytestmark = pytest.mark.timeout(60)

HELLO = {"versions": {"en": {"text": "Hi {{user}}"}, "zh": {"text": "你好 {{user}}"}}, "default": "en"}


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[RunningNode]:
    async with running_node(tmp_path, campaign_interval=0.05) as running:
        yield running


@pytest.fixture
async def admin(node: RunningNode) -> AsyncIterator[AdminClient]:
    async with AdminClient(node.http, node.api_key) as client:
        yield client


async def refused(call: Any) -> tuple[int, str]:
    with pytest.raises(AdminError) as err:
        await call
    return err.value.status, err.value.code


async def test_the_send_policy_settings_round_trip_and_bad_ones_change_nothing(admin: AdminClient) -> None:
    assert (await admin.send_policy())["caps"] == []
    settings = {
        "control_pct": 5,
        "caps": [{"limit": 2, "days": 1}],
        "quiet": {"start": "21:00", "end": "08:00"},
    }
    stored = await admin.set_send_policy(settings)
    assert stored["caps"] == [{"limit": 2, "days": 1}] and stored["quiet"] == {
        "start": "21:00",
        "end": "08:00",
    }
    assert await refused(admin.set_send_policy({"caps": [{"limit": 0, "days": 1}]})) == (
        422,
        "policy_invalid",
    )
    assert await refused(admin.set_send_policy({"quiet": {"start": "9pm", "end": "08:00"}})) == (
        422,
        "policy_invalid",
    )
    assert await refused(admin.set_send_policy({"colour": 1})) == (422, "invalid_request")
    assert (await admin.send_policy())["caps"] == [{"limit": 2, "days": 1}], "unchanged by the refusals"


async def test_templates_are_checked_and_pushes_are_idempotent(node: RunningNode, admin: AdminClient) -> None:
    assert await admin.check_template(HELLO) == ["user"]
    unknown = {"versions": {"en": {"text": "Hi {{zeta}} {{alpha|x}}"}}, "default": "en"}
    with pytest.raises(AdminError) as err:
        await admin.check_template(unknown)
    assert (err.value.status, err.value.code) == (422, "template_variable_unknown")
    assert "alpha, zeta" in err.value.detail
    bad = {"versions": {"en": {"text": "Hi {{user"}}, "default": "en"}
    assert await refused(admin.check_template(bad)) == (422, "template_invalid")
    pid = await profile(node, "ann")
    first = await admin.push("order-1", pid, HELLO)
    assert first["outcome"] == "sent" and first["mid"]
    assert (await admin.push("order-1", pid, HELLO))["outcome"] == "duplicate"
    receipt = await admin.push("receipt-1", pid, HELLO, topic=None, transactional=True)
    assert receipt["outcome"] == "sent"
    assert len(await official_messages(node, "ann")) == 2
    assert await refused(admin.push("x", pid, HELLO, topic=None)) == (422, "invalid_request")


async def test_a_campaign_from_definition_to_done(node: RunningNode, admin: AdminClient) -> None:
    pids = [await profile(node, f"u{i}") for i in range(6)]
    variants = [{"id": "a", "weight": 70, "template": HELLO}, {"id": "b", "weight": 20, "template": HELLO}]
    bad = {"name": "Sale", "topic": "marketing", "pids": pids, "variants": variants}
    with pytest.raises(AdminError) as err:
        await admin.create_campaign(bad)
    assert (err.value.status, err.value.code) == (422, "campaign_invalid") and "100" in err.value.detail
    assert await refused(admin.create_campaign({**bad, "variants": variants[:1], "start_at": 1})) == (
        422,
        "campaign_invalid",
    )
    one_arm = [{"id": "a", "weight": 100, "template": HELLO}]
    no_segment = {**bad, "variants": one_arm, "pids": [], "segment": "nope"}
    assert await refused(admin.create_campaign(no_segment)) == (404, "segment_not_found")
    assert await admin.campaigns() == [], "nothing half-stored"
    variants[1]["weight"] = 30
    created = await admin.create_campaign({**bad, "variants": variants})
    cid = created["cid"]
    preview = await admin.preview_campaign(cid, pids[0], variant="b")
    assert preview["text"] == "Hi u0" and preview["campaign"]["variant"] == "b"
    for _ in range(200):
        campaign = await admin.campaign(cid)
        if campaign["state"] == "done":
            break
        await asyncio.sleep(0.05)
    assert campaign["state"] == "done" and campaign["counts"] == {"sent": 6}
    assert await refused(admin.pause_campaign(cid)) == (409, "campaign_state")
    assert await refused(admin.campaign("cmp_missing")) == (404, "campaign_not_found")
    assert [c["cid"] for c in await admin.campaigns()] == [cid]


async def test_the_openapi_document_lists_the_marketing_routes(node: RunningNode) -> None:
    async with httpx.AsyncClient(base_url=node.http) as client:
        paths = (await client.get("/openapi.json")).json()["paths"]
    for path in (
        "/v1/marketing/policy",
        "/v1/marketing/push",
        "/v1/campaigns",
        "/v1/campaigns/{cid}/pause",
        "/v1/campaigns/{cid}/results",
    ):
        assert path in paths
