"""The marketer pages in a real browser (Debian chromium, Playwright) against a real node and SDK clients.

Each test also writes screenshots of the pages it visits (see ``browser.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from playwright.async_api import Browser, Page, expect

from parley.sdk import AdminClient, CampaignEvent, Client
from tests.harness import RunningNode
from tests.sdk.helpers import take
from tests.server.console.browser import chromium, shot
from tests.server.console.conftest import login
from tests.server.console.test_inbox_e2e import fill_login
from tests.server.journeys.test_journeys import CART
from tests.server.journeys.test_journeys_admin import SCHEMA
from tests.server.services.test_send_policy import profile

WAIT = 20_000  # ms: generous ceilings for a loaded machine, never a timing assertion


@asynccontextmanager
async def page_as(browser: Browser, node: RunningNode, username: str, path: str) -> AsyncIterator[Page]:
    """A tab that asked for ``path``, logged in through the login form and came back to it."""
    ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page = await ctx.new_page()
        await page.goto(f"{node.http}{path}")
        await fill_login(page, node, username)
        await page.wait_for_url(f"{node.http}{path}")
        yield page
    finally:
        await ctx.close()


async def build_segment(page: Page) -> None:
    """Consent as a form row; the text follows; a broken text shows the server's error; a fixed
    text redraws the form; saved as ``fans``."""
    await page.select_option("#seg-add-type", "consent")
    await page.click("#seg-add")
    await expect(page.locator("#seg-text")).to_have_value('consent("marketing")', timeout=WAIT)
    await expect(page.locator("#seg-count")).to_have_text("2", timeout=WAIT)
    await expect(page.locator("#seg-sample tr")).to_have_count(2)
    await page.fill("#seg-text", 'consent("marketing") and')
    await expect(page.locator("#seg-text-error")).to_contain_text("@", timeout=WAIT)
    await expect(page.locator("#seg-text")).to_have_attribute("aria-invalid", "true")
    await shot(page, "marketer-segment-error")
    await page.fill("#seg-text", 'consent("marketing") and not open_ticket')
    await expect(page.locator("#seg-rows li")).to_have_count(2, timeout=WAIT)
    await expect(page.locator("#seg-text-error")).to_have_text("")
    await expect(page.locator("#seg-count")).to_have_text("2")
    await page.locator("#seg-sample button").first.click()
    await expect(page.locator("#explain-verdict")).to_contain_text("is a member", timeout=WAIT)
    await page.fill("#seg-id", "fans")
    await page.fill("#seg-name", "Fans")
    await page.press("#seg-name", "Enter")
    await expect(page.locator("#seg-list")).to_contain_text("fans", timeout=WAIT)
    await shot(page, "marketer-segments")


async def send_campaign(page: Page, pid: str) -> None:
    """The wizard: audience ``fans``, two languages previewed, a refused weight shown by its field, sent."""
    await page.goto(page.url.replace("/segments", "/campaigns"))
    await expect(page.locator("#c-segment")).to_have_value("fans", timeout=WAIT)
    await page.fill("#c-name", "Winter")
    await page.fill("#c-variants [name=en]", "Hi {{user}}")
    await page.fill("#c-variants [name='zh-CN']", "你好 {{user}}")
    await page.fill("#c-preview-pid", pid)
    await page.click("#c-preview")
    await expect(page.locator("#c-rendered .bubble")).to_have_count(2, timeout=WAIT)
    await expect(page.locator("#c-rendered")).to_contain_text("你好 on1")
    await expect(page.locator("#c-policy")).to_contain_text("UTC")
    await page.fill("#c-variants [name=weight]", "90")
    await page.click("#c-send")
    await expect(page.locator("#c-variants-error")).to_contain_text("100", timeout=WAIT)
    await shot(page, "marketer-campaign-wizard")
    await page.fill("#c-variants [name=weight]", "100")
    await page.click("#c-send")
    await expect(page.locator("#c-sent")).not_to_be_empty(timeout=WAIT)


async def test_a_marketer_builds_a_segment_and_sends_a_campaign_that_sdk_clients_get(
    node: RunningNode,
) -> None:
    on_pid = await profile(node, "on1")
    await profile(node, "off1")
    await profile(node, "nope", consent=False)
    async with Client(node.url, token=await node.token("off1")) as off:  # online once: positions saved
        await off.create_direct("zed")
        saved = off.positions
    async with Client(node.url, token=await node.token("on1")) as on, chromium() as browser:
        got = on.events(CampaignEvent)
        async with page_as(browser, node, "mia", "/console/segments") as page:
            await build_segment(page)
            await send_campaign(page, on_pid)
            (event,) = await take(got, 1, timeout=WAIT / 1000)
            assert event.message.text == "Hi on1" and event.message.sender == "brand"
            async with Client(node.url, token=await node.token("off1"), positions=saved) as back:
                (synced,) = await take(back.events(CampaignEvent), 1, timeout=WAIT / 1000)
                assert synced.message.text == "Hi off1", "the offline client gets it on sync"
            row = page.locator("#c-list tr").first
            await expect(row).to_have_attribute("data-state", "done", timeout=WAIT)
            await expect(row.locator(".counts")).to_have_text("sent 2", timeout=WAIT)
            await row.get_by_role("button", name="Results").click()
            arm = page.locator("#results-charts [data-arm=a]")
            await expect(arm.locator("rect[data-label=sent]")).to_have_attribute(
                "data-value", "2", timeout=WAIT
            )
            await expect(arm.locator("rect[data-label=read]")).to_have_attribute("data-value", "0")
            await on.read(event.message.conv, event.message.seq)
            # the open results are redrawn every 2 s: the read receipt moves the funnel
            await expect(arm.locator("rect[data-label=read]")).to_have_attribute(
                "data-value", "1", timeout=WAIT
            )
            # delivered to both: the online client's connection, the offline one's sync
            await expect(arm.locator("rect[data-label=delivered]")).to_have_attribute("data-value", "2")
            sent = page.locator("#results-charts .timeline rect[data-series=sent]")
            await expect(sent.first).to_be_attached(timeout=WAIT)
            values = [int(v or 0) for v in await sent.evaluate_all("rs => rs.map(r => r.dataset.value)")]
            assert sum(values) == 2, values
            await expect(page.locator("#results-charts .suppressed")).to_contain_text(
                "No recipient was suppressed"
            )
            await shot(page, "marketer-campaigns")
            await page.select_option("#lang", "zh-CN")
            await expect(page.locator("#new-title")).to_have_text("新建营销活动")
            await shot(page, "marketer-campaigns-zh")


async def test_an_agent_cannot_reach_the_marketer_pages(node: RunningNode) -> None:
    async with chromium() as browser:
        ctx = await browser.new_context()
        page = await ctx.new_page()
        await page.goto(f"{node.http}/console/login")
        await fill_login(page, node, "ann")
        await page.wait_for_url("**/console/inbox")
        await expect(page.locator("#nav")).not_to_contain_text("Segments")
        response = await page.goto(f"{node.http}/console/segments")
        assert response is not None and response.status == 403
        await shot(page, "marketer-forbidden-for-agent")
        api = await page.request.get(f"{node.http}/console/api/segments")
        assert api.status == 403
        await ctx.close()


async def test_a_marketer_sees_the_journeys_and_who_waits_at_each_step(node: RunningNode) -> None:
    async with AdminClient(node.http, node.api_key) as admin:
        await admin.set_audience_schema(SCHEMA)
        await admin.create_journey("cart", CART)
        await profile(node, "ann1")
        await admin.ingest_events(
            [{"eid": "a1", "user": "ann1", "event": "add_to_cart", "props": {"cart_id": "c1"}}]
        )
    async with chromium() as browser, page_as(browser, node, "mia", "/console/journeys") as page:
        journey = page.locator("[data-journey=cart]")
        await expect(journey.locator("[data-step=wait] .waiting")).to_have_text("1", timeout=WAIT)
        await expect(journey.locator("[data-step=coupon] .waiting")).to_have_text("0")
        await expect(journey).to_contain_text("add_to_cart")
        await shot(page, "marketer-journeys")
        await page.set_viewport_size({"width": 800, "height": 1000})  # a tablet
        await page.goto(f"{node.http}/console/campaigns")
        await page.check("input[name=when][value=at]")
        await page.click("#c-send")
        await expect(page.locator("#c-schedule-error")).to_contain_text("start date", timeout=WAIT)
        await page.keyboard.press("Tab")
        await shot(page, "marketer-campaigns-tablet")


async def test_an_ended_session_keeps_what_the_marketer_typed_in_the_wizard(node: RunningNode) -> None:
    async with chromium() as browser, page_as(browser, node, "mia", "/console/campaigns") as page:
        await page.fill("#c-name", "Spring")
        await page.fill("#c-variants [name=en]", "Hello {{user}}")
        async with httpx.AsyncClient(base_url=node.http, timeout=20) as other:  # another device
            csrf = await login(other, node.app.app, "mia")
            await other.post("/console/api/logout-everywhere", headers={"x-csrf-token": csrf})
        await page.wait_for_url("**/console/login?**", timeout=WAIT)  # the list's refresh found out
        await fill_login(page, node, "mia")
        await page.wait_for_url("**/console/campaigns", timeout=WAIT)
        await expect(page.locator("#c-name")).to_have_value("Spring", timeout=WAIT)
        await expect(page.locator("#c-variants [name=en]")).to_have_value("Hello {{user}}")
