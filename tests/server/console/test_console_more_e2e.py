"""More of the console in a real browser (Debian chromium, Playwright) against a real node: the
campaigns a customer received beside the chat, the admin page's tag definitions, and the queue
pushed to the inbox. Each test writes screenshots (see ``browser.py``)."""

from __future__ import annotations

import asyncio

import httpx
from playwright.async_api import expect

from parley.proto.templates import Content, Template
from parley.server.services.campaign_defs import CampaignIn, Variant
from tests.harness import RunningNode
from tests.server.console.browser import chromium, shot
from tests.server.console.test_inbox_e2e import WAIT, agent_page, audience_of, customer


async def _sent_campaign(node: RunningNode, name: str, pid: str) -> str:
    """A one-recipient campaign sent to ``pid`` (by the node's own sender); its id."""
    s, app = node.node.services, node.app.app
    hi = Template(versions={"en": Content(text=f"{name}: hi {{{{user}}}}")}, default="en")
    made = await s.campaigns.create(app, CampaignIn(name, "marketing", [Variant("a", 100, hi)], pids=[pid]))
    async with asyncio.timeout(WAIT / 1000):
        while (await s.campaigns.counts(app, made.cid)).get("sent", 0) < 1:
            await asyncio.sleep(0.1)
    return made.cid


async def test_the_customer_panel_lists_the_campaigns_received_read_and_clicked(node: RunningNode) -> None:
    async with httpx.AsyncClient(
        base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
    ) as api:
        await audience_of(api, "cus5")
        pid = (
            await api.post("/v1/audience/identify", json={"identifiers": [{"kind": "user", "value": "cus5"}]})
        ).json()["pid"]
    first = await _sent_campaign(node, "Spring sale", pid)
    await _sent_campaign(node, "New arrivals", pid)
    await node.node.services.measurement.record(node.app.app, f"campaign:{first}", pid, "read", arm="a")
    cus, conv, _ = await customer(node, "cus5", "About my coupon")
    async with (
        chromium() as browser,
        agent_page(browser, node, viewport={"width": 1366, "height": 820}) as page,
    ):
        await page.click(f"[data-claim='{conv}']")
        read = page.locator(f"#profile [data-campaign='{first}']")
        await expect(read).to_contain_text("Spring sale · variant a · read", timeout=WAIT)
        await expect(page.locator("#profile [data-campaign]")).to_have_count(2)
        await expect(page.locator("#profile")).to_contain_text("New arrivals · variant a · not read")
        await shot(page, "inbox-campaigns-received")
        await page.select_option("#lang", "zh-CN")
        await page.click(f"#mine li[data-conv='{conv}']")
        await expect(read).to_contain_text("Spring sale · 版本 a · 已读", timeout=WAIT)
    await cus.close()
