"""More of the console in a real browser (Debian chromium, Playwright) against a real node: the
campaigns a customer received beside the chat, the admin page's tag definitions, and the queue
pushed to the inbox. Each test writes screenshots (see ``browser.py``)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import msgpack
from playwright.async_api import WebSocket, expect

from parley.proto.templates import Content, Template
from parley.server.services.campaign_defs import CampaignIn, Variant
from tests.harness import RunningNode, running_node
from tests.server.console.browser import chromium, shot
from tests.server.console.conftest import PASSWORD
from tests.server.console.test_inbox_e2e import WAIT, agent_page, audience_of, customer, fill_login


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


async def test_an_admin_defines_changes_and_deletes_tags_by_keyboard_and_sees_field_errors(
    node: RunningNode,
) -> None:
    async with chromium() as browser:
        ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = await ctx.new_page()
        await page.goto(f"{node.http}/console/login")
        await fill_login(page, node, "ada")
        await page.wait_for_url("**/console/admin", timeout=WAIT)
        await expect(page.locator("#tagdefs")).to_contain_text("No tag is defined", timeout=WAIT)
        await page.fill("#td-name", "has space")
        await page.keyboard.press("Enter")  # the form submits from the keyboard
        await expect(page.locator("#td-name-error")).to_contain_text("without spaces", timeout=WAIT)
        await expect(page.locator("#td-name")).to_have_attribute("aria-invalid", "true")
        await page.fill("#td-name", "vip")
        await page.fill("#td-description", "Top customer")
        await page.locator("#td-sources input[value=agent]").focus()
        await page.keyboard.press("Space")
        await page.fill("#td-expiry_s", "3600")
        await page.locator("#td-submit").focus()
        await page.keyboard.press("Enter")
        row = page.locator("tr[data-tagdef='vip']")
        await expect(row).to_contain_text("Top customer", timeout=WAIT)
        await expect(row).to_contain_text("agent")
        await expect(row).to_contain_text("3600 s")
        await page.fill("#td-name", "vip")
        await page.click("#td-submit")
        await expect(page.locator("#td-name-error")).to_contain_text("already defined", timeout=WAIT)
        await page.click("#td-cancel")
        await row.get_by_role("button", name="Edit").click()
        await expect(page.locator("#td-name")).to_have_value("vip")
        await page.select_option("#td-kind", "rule")
        await page.click("#td-submit")
        await expect(row).to_contain_text("rule (computed)", timeout=WAIT)
        async with httpx.AsyncClient(
            base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
        ) as api:
            refused = await api.post(
                "/v1/users/cus9/tags", json={"add": [{"name": "other"}], "source": "agent"}
            )
            assert refused.json()["code"] == "tag_undefined", "the page's definition is the rule's"
        await shot(page, "admin-tag-definitions")
        await page.select_option("#lang", "zh-CN")
        await expect(page.locator("#td-title")).to_have_text("标签定义", timeout=WAIT)
        await expect(row).to_contain_text("规则（自动计算）")
        await shot(page, "admin-tag-definitions-zh")
        await row.get_by_role("button", name="删除").click()
        await expect(row).to_have_count(0, timeout=WAIT)
        await page.fill("#audit-form input[name=action]", "tagdef.")
        await page.click("#audit-form button[type=submit]")
        await expect(page.locator("#audit tr")).to_have_count(3, timeout=WAIT)
        await expect(page.locator("#audit")).to_contain_text("console:ada")
        await ctx.close()


async def test_a_new_waiting_ticket_is_pushed_to_the_inbox_not_polled(tmp_path: Path) -> None:
    async with running_node(tmp_path, agent_max_concurrent=1) as node:
        await node.node.services.console.add_user(node.app.app, "ann", PASSWORD, ["agent"], name="Ann")
        cus1, conv1, _ = await customer(node, "cus1", "First")  # waits: nobody is online yet
        async with (
            chromium() as browser,
            agent_page(browser, node, viewport={"width": 1366, "height": 820}) as page,
        ):
            pushed: list[dict[str, Any]] = []
            sent: list[str] = []

            def on_socket(ws: WebSocket) -> None:
                def received(payload: str | bytes) -> None:
                    frame = msgpack.unpackb(payload) if isinstance(payload, bytes) else {}
                    if frame.get("t") == "support_queue_event":
                        pushed.append(frame)

                def went(payload: str | bytes) -> None:
                    if isinstance(payload, bytes):
                        sent.append(str(msgpack.unpackb(payload).get("t")))

                ws.on("framereceived", received)
                ws.on("framesent", went)

            page.on("websocket", on_socket)
            await page.wait_for_url(f"{node.http}/console/inbox", timeout=WAIT)
            await page.reload()  # the socket is watched from its first frame
            await expect(page.locator(f"#waiting li[data-conv='{conv1}']")).to_be_visible(timeout=WAIT)
            await page.click(f"[data-claim='{conv1}']")  # ann is now at her limit of one
            await expect(page.locator(f"#mine li[data-conv='{conv1}']")).to_be_visible(timeout=WAIT)
            await expect(page.locator("#conn")).to_have_attribute("data-state", "connected", timeout=WAIT)
            cus2, conv2, _ = await customer(node, "cus2", "Second")
            await expect(page.locator(f"#waiting li[data-conv='{conv2}']")).to_be_visible(timeout=WAIT)
            assert {"t": "support_queue_event", "conv": conv2, "state": "waiting_for_agent"} in pushed
            # the page asked for the queue after the event (its fallback poll is once a minute)
            assert "support_queue" in sent
            await expect(page.locator("#waiting-count")).to_have_text("1")
            await shot(page, "inbox-queue-pushed")
        await cus1.close()
        await cus2.close()


async def test_an_admin_sees_a_knowledge_sources_versions_by_keyboard(node: RunningNode) -> None:
    versions = []
    async with httpx.AsyncClient(
        base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
    ) as api:
        for n in (2, 4):
            body = {"chunks": [{"id": f"faq::{i}", "text": "x"} for i in range(n)], "vectors": []}
            versions.append((await api.put("/v1/knowledge/sources/faq.md", json=body)).json()["version"])
    async with chromium() as browser:
        ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = await ctx.new_page()
        await page.goto(f"{node.http}/console/login")
        await fill_login(page, node, "ada")
        await page.wait_for_url("**/console/admin", timeout=WAIT)
        row = page.locator("tr[data-source='faq.md']")
        await expect(row).to_contain_text("4 chunks", timeout=WAIT)
        toggle = row.get_by_role("button", name="Versions")
        await toggle.focus()
        await page.keyboard.press("Enter")
        items = page.locator("[data-versions='faq.md'] li")
        await expect(items).to_have_count(2, timeout=WAIT)
        await expect(items.first).to_contain_text(f"Version {versions[1]} · 4 chunks")
        await expect(items.first).to_contain_text("live (the bot answers from it)")
        await expect(items.nth(1)).to_contain_text(f"Version {versions[0]} · 2 chunks")
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        await shot(page, "admin-knowledge-versions")
        await ctx.close()


async def test_an_admin_uploads_a_knowledge_file_and_follows_it_until_the_bot_ingested_it(
    node: RunningNode,
) -> None:
    async with chromium() as browser:
        ctx = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        page = await ctx.new_page()
        await page.goto(f"{node.http}/console/login")
        await fill_login(page, node, "ada")
        await page.wait_for_url("**/console/admin", timeout=WAIT)
        await page.locator("#kb-form button[type=submit]").click()
        await expect(page.locator("#kb-file-error")).to_have_text("Choose a file first.", timeout=WAIT)
        await page.set_input_files(
            "#kb-file", files=[{"name": "notes.pdf", "mimeType": "application/pdf", "buffer": b"%PDF"}]
        )
        await page.locator("#kb-form button[type=submit]").click()
        await expect(page.locator("#kb-file-error")).to_contain_text("the bot reads", timeout=WAIT)
        faq = "# Hours\n\n## Opening {#hours}\nWe open at nine. 我们九点开门。\n".encode()
        await page.set_input_files(
            "#kb-file", files=[{"name": "hours.md", "mimeType": "text/markdown", "buffer": faq}]
        )
        await page.locator("#kb-file").focus()
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")  # the Upload button, by keyboard
        row = page.locator("#kb-uploads tr").first
        await expect(row).to_contain_text("hours.md", timeout=WAIT)
        await expect(row).to_contain_text("waiting for the bot service")
        await shot(page, "admin-knowledge-upload-pending")
        async with httpx.AsyncClient(
            base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
        ) as bot:
            (upload,) = (await bot.get("/v1/knowledge/uploads", params={"state": "pending"})).json()[
                "uploads"
            ]
            assert "九点" in upload["content"]
            body = {"chunks": [{"id": "hours::0", "text": "We open at nine."}], "vectors": []}
            version = (await bot.put("/v1/knowledge/sources/hours.md", json=body)).json()["version"]
            await bot.post(f"/v1/knowledge/uploads/{upload['id']}", json={"version": version})
        await expect(row).to_contain_text(f"ingested · Version {version}", timeout=WAIT)
        await expect(page.locator("tr[data-source='hours.md']")).to_contain_text("1 chunks", timeout=WAIT)
        await shot(page, "admin-knowledge-upload-ingested")
        await ctx.close()
