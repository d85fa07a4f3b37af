"""A case on the brand conversation (a reply to a real campaign) in the agent inbox, in chromium:
the queue row and the chat header show the campaign and variant it answered, with a link to the
campaign's results for a marketer; the agent claims, answers and resolves it there."""

from __future__ import annotations

from playwright.async_api import expect

from parley.sdk import AdminClient, Client, MessageEvent
from tests.harness import RunningNode
from tests.server.console.browser import chromium, shot
from tests.server.console.conftest import PASSWORD
from tests.server.console.test_inbox_e2e import WAIT, agent_page, received
from tests.server.services.test_brand_support import ticket_of
from tests.server.services.test_send_policy import profile

HELLO = {"versions": {"en": {"text": "Hi {{user}}"}}, "default": "en"}


async def test_a_reply_to_a_campaign_shows_its_origin_and_is_claimed_answered_resolved(
    node: RunningNode,
) -> None:
    app = node.app.app
    await node.node.services.console.add_user(app, "lea", PASSWORD, ["agent", "marketer"], name="Lea")
    pid = await profile(node, "cus9")
    cus = Client(node.url, token=await node.token("cus9"))
    await cus.connect()
    events = cus.events(MessageEvent)
    async with AdminClient(node.http, node.api_key) as admin:
        variants = [{"id": "b", "weight": 100, "template": HELLO}]
        made = await admin.create_campaign(
            {"name": "Spring sale", "topic": "marketing", "pids": [pid], "variants": variants}
        )
    got = await received(events, "Hi cus9")
    conv = got.message.conv  # the brand conversation (kind direct, meta.official)
    await cus.send(conv, text="Do you have size 42?")
    await ticket_of(node, conv, "bot")  # the reply opened a case, bot first
    await cus.handoff(conv, reason="wants a person")
    assert (await ticket_of(node, conv, "waiting_for_agent")).origin["campaign"] == made["cid"]
    async with chromium() as browser, agent_page(browser, node, "lea", locale="en-US") as page:
        row = page.locator(f"#waiting li[data-conv='{conv}']")
        await expect(row.locator("[data-origin='campaign']")).to_have_text(
            "Reply to campaign Spring sale (variant B)", timeout=WAIT
        )
        await shot(page, "inbox-origin-queue")
        await page.click(f"[data-claim='{conv}']")
        await expect(page.locator(f"#mine li[data-conv='{conv}']")).to_be_visible(timeout=WAIT)
        origin = page.locator("#chat-origin")
        await expect(origin).to_contain_text("Reply to campaign Spring sale (variant B)", timeout=WAIT)
        link = origin.get_by_role("link", name="Results")
        await expect(link).to_have_attribute("href", f"/console/campaigns#results={made['cid']}")
        await expect(page.locator(".messages")).to_contain_text("Do you have size 42?", timeout=WAIT)
        ticket = page.locator(f"#profile [data-ticket='{conv}']")  # the customer panel's ticket row
        await expect(ticket).to_contain_text("Reply to campaign Spring sale (variant B)", timeout=WAIT)
        await page.fill("#reply", "Yes, in black.")
        await page.press("#reply", "Enter")
        assert (await received(events, "Yes, in black.")).message.sender == "lea"
        await page.select_option("#lang", "zh-CN")
        await expect(origin).to_contain_text("回复营销活动 Spring sale (版本 B)", timeout=WAIT)
        await shot(page, "inbox-origin-chat-zh")
        await page.click("#resolve")
        await expect(page.locator("#chat-state")).to_have_text("已解决", timeout=WAIT)
        await origin.locator("a").click()  # a marketer follows the link to the campaign's results
        await expect(page.locator("#results-title")).to_contain_text("Spring sale", timeout=WAIT)
    await cus.close()


async def test_a_journeys_hand_over_shows_the_journey_and_step_and_is_claimed(node: RunningNode) -> None:
    app, s = node.app.app, node.node.services
    steps = [{"id": "agent", "type": "handover", "reason": "VIP order: call them"}]
    await s.journeys.create(
        app, "vip", {"name": "VIP follow-up", "trigger": {"event": "big_order"}, "steps": steps}
    )
    pid = await profile(node, "cus8")
    conv = await s.brand_support.handover(
        app, pid, "VIP order: call them", journey="vip", run="r1", step="agent"
    )
    assert conv
    async with chromium() as browser, agent_page(browser, node, "ann", locale="en-US") as page:
        row = page.locator(f"#waiting li[data-conv='{conv}']")
        await expect(row.locator("[data-origin='journey']")).to_have_text(
            "Journey VIP follow-up, step agent", timeout=WAIT
        )
        await page.click(f"[data-claim='{conv}']")
        await expect(page.locator(f"#mine li[data-conv='{conv}']")).to_be_visible(timeout=WAIT)
        origin = page.locator("#chat-origin")
        await expect(origin).to_have_text("Journey VIP follow-up, step agent", timeout=WAIT)
        await expect(origin.locator("a")).to_have_count(0)  # an agent only: no link to results
        await shot(page, "inbox-origin-journey")
        status = await page.evaluate("fetch('/console/api/journeys/nope/name').then((r) => r.status)")
        assert status == 404
