"""Console polish in a real browser (Debian chromium, Playwright): keyboard claim from a queue row,
the admin page's script-drawn words following the language switch."""

from __future__ import annotations

import httpx
import msgspec
from playwright.async_api import WebSocketRoute, expect

from tests.harness import RunningNode
from tests.server.console.browser import chromium, shot
from tests.server.console.test_inbox_e2e import WAIT, agent_page, customer, fill_login


async def test_enter_on_a_queue_rows_claim_button_claims_instead_of_opening(node: RunningNode) -> None:
    cus, conv, _ = await customer(node, "cus1", "Where is my order?")
    async with chromium() as browser, agent_page(browser, node) as page:
        claim = page.locator(f"#waiting [data-claim='{conv}']")
        await expect(claim).to_be_visible(timeout=WAIT)
        await expect(page.locator("#conn")).to_have_attribute("data-state", "connected", timeout=WAIT)
        await claim.focus()
        await page.keyboard.press("Enter")  # the row's own keydown must leave this to the button
        await expect(page.locator(f"#mine li[data-conv='{conv}']")).to_be_visible(timeout=WAIT)
        await expect(page.locator("#chat-state")).to_have_text("with an agent", timeout=WAIT)
        # the row itself still opens the conversation with Enter
        row = page.locator(f"#mine li[data-conv='{conv}']")
        await row.focus()
        await page.keyboard.press("Enter")
        await expect(row).to_have_attribute("aria-selected", "true", timeout=WAIT)
        await shot(page, "inbox-claim-by-keyboard")
    await cus.close()


async def test_the_admin_cards_words_follow_the_language_switch(node: RunningNode) -> None:
    async with chromium() as browser:
        ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = await ctx.new_page()
        await page.goto(f"{node.http}/console/login")
        await fill_login(page, node, "ada")
        await page.wait_for_url("**/console/admin", timeout=WAIT)
        await page.click("#new-key")
        revoke = page.locator("#keys tr button").first
        await expect(revoke).to_have_text("Revoke", timeout=WAIT)
        await expect(page.locator("#reviews")).to_contain_text("Nothing to review.", timeout=WAIT)
        await page.select_option("#lang", "zh-CN")
        await expect(revoke).to_have_text("吊销", timeout=WAIT)
        await expect(page.locator("#reviews")).to_contain_text("没有待审核内容。", timeout=WAIT)
        await expect(page.locator("#kb-version")).to_contain_text("版本", timeout=WAIT)
        await shot(page, "admin-zh-CN")
        await ctx.close()


async def test_a_file_that_is_not_utf8_is_refused_beside_the_file_input(node: RunningNode) -> None:
    async with chromium() as browser:
        ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = await ctx.new_page()
        await page.goto(f"{node.http}/console/login")
        await fill_login(page, node, "ada")
        await page.wait_for_url("**/console/admin", timeout=WAIT)
        latin1 = "Öffnungszeiten: neun Uhr\n".encode("latin-1")
        await page.set_input_files(
            "#kb-file", files=[{"name": "de.md", "mimeType": "text/markdown", "buffer": latin1}]
        )
        await page.locator("#kb-form button[type=submit]").click()
        await expect(page.locator("#kb-file-error")).to_contain_text("not UTF-8", timeout=WAIT)
        await shot(page, "admin-knowledge-upload-not-utf8")
        await ctx.close()
        async with httpx.AsyncClient(
            base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
        ) as bot:
            assert (await bot.get("/v1/knowledge/uploads", params={"state": "pending"})).json() == {
                "uploads": []
            }, "nothing with replacement characters reached the bot"


async def test_the_queue_heals_soon_when_the_answers_to_its_first_requests_are_lost(
    node: RunningNode,
) -> None:
    """The page asks for the queue twice as it connects; both answers are dropped on the way (as a
    busy node or a reconnect may lose them). The ticket must still show well before the slow
    one-minute poll: a failed queue request is asked again within seconds."""
    cus, conv, _ = await customer(node, "cus1", "Where is my order?")
    dropped: list[int] = []

    def route(ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()
        ws.on_message(lambda m: server.send(m))

        def from_server(message: str | bytes) -> None:
            frame = msgspec.msgpack.decode(message) if isinstance(message, bytes) else {}
            if frame.get("t") == "support_list" and len(dropped) < 2:
                dropped.append(frame["id"])
                return
            ws.send(message)

        server.on_message(from_server)

    async with chromium() as browser:
        ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        await ctx.route_web_socket("**/ws", route)
        page = await ctx.new_page()
        await page.goto(f"{node.http}/console/inbox")
        await fill_login(page, node, "ann")
        # ceiling 40 s: each lost answer costs the client's 10 s request timeout first
        await expect(page.locator(f"#waiting li[data-conv='{conv}']")).to_be_visible(timeout=2 * WAIT)
        assert len(dropped) == 2, "both first answers were dropped"
        await ctx.close()
    await cus.close()
