"""The agent inbox in a real browser (Debian chromium, Playwright) against a real node and SDK customers.

Each test also writes screenshots of the pages it visits (see ``browser.py``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from playwright.async_api import Browser, Page, Route, expect

from parley.sdk import Client, MessageEvent, TypingEvent
from parley.sdk.dispatch import EventStream
from tests.harness import RunningNode
from tests.server.console.browser import chromium, shot
from tests.server.console.conftest import PASSWORD, login

WAIT = 20_000  # ms: generous ceilings for a loaded machine, never a timing assertion


@asynccontextmanager
async def agent_page(
    browser: Browser, node: RunningNode, username: str = "ann", **context: object
) -> AsyncIterator[Page]:
    """A browser tab logged into the console as ``username`` (through the login form)."""
    ctx = await browser.new_context(**context)  # type: ignore[arg-type]
    try:
        page = await ctx.new_page()
        await page.goto(f"{node.http}/console/inbox")
        assert page.url.startswith(f"{node.http}/console/login?next=/console/inbox")
        await fill_login(page, node, username)
        yield page
    finally:
        await ctx.close()


async def fill_login(page: Page, node: RunningNode, username: str, password: str = PASSWORD) -> None:
    await page.fill("#app", node.app.app)
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.press("#password", "Enter")


async def audience_of(api: httpx.AsyncClient, user: str) -> None:
    """Give ``user`` an audience profile: a purchase event and marketing consent granted."""
    schema = {"events": {"purchase": {"properties": {"amount": "number"}}}, "consent_topics": ["marketing"]}
    assert (await api.put("/v1/audience/schema", json=schema)).status_code == 200
    event = {"events": [{"eid": f"o-{user}", "user": user, "event": "purchase", "props": {"amount": 12.5}}]}
    assert (await api.post("/v1/audience/events", json=event)).status_code in (200, 201, 202)
    ids = {"identifiers": [{"kind": "user", "value": user}]}
    pid = (await api.post("/v1/audience/identify", json=ids)).json()["pid"]
    consent = {"consent": [{"topic": "marketing", "state": "granted"}]}
    r = await api.patch(f"/v1/audience/profiles/{pid}", json=consent)
    assert r.status_code == 200, r.text


async def customer(node: RunningNode, user: str, first: str) -> tuple[Client, str, EventStream[MessageEvent]]:
    """An SDK customer who opened a support conversation, wrote ``first`` and asked for a human."""
    client = Client(node.url, token=await node.token(user))
    await client.connect()
    events = client.events(MessageEvent)
    conv = (await client.create_support()).conv
    await client.send(conv, text=first)
    await client.handoff(conv, reason="asked for a human")
    return client, conv, events


async def received(events: EventStream[MessageEvent], text: str) -> MessageEvent:
    """The first message whose text is ``text`` (others are skipped), within the ceiling."""
    async with asyncio.timeout(WAIT / 1000):
        async for event in events:
            if event.message.body.get("text") == text:
                return event
    raise AssertionError(f"the stream ended before {text!r}")


async def test_an_agent_claims_answers_and_the_sdk_customer_receives_it(node: RunningNode) -> None:
    cus, conv, cus_events = await customer(node, "cus1", "Where is my order?")
    async with httpx.AsyncClient(
        base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
    ) as api:
        tags = {
            "add": [{"name": "vip", "confidence": 0.8}],
            "source": "model",
            "attributes": {"city": "Hangzhou"},
        }
        assert (await api.post("/v1/users/cus1/tags", json=tags)).status_code == 200
        await audience_of(api, "cus1")
    async with (
        chromium() as browser,
        agent_page(browser, node, viewport={"width": 1366, "height": 820}) as page,
    ):
        item = page.locator(f"#waiting li[data-conv='{conv}']")
        await expect(item).to_be_visible(timeout=WAIT)
        await expect(page.locator("#conn")).to_have_attribute("data-state", "connected", timeout=WAIT)
        await shot(page, "inbox-queue")
        await page.click(f"[data-claim='{conv}']")
        await expect(page.locator(f"#mine li[data-conv='{conv}']")).to_be_visible(timeout=WAIT)
        await expect(page.locator(".messages")).to_contain_text("Where is my order?", timeout=WAIT)
        await expect(page.locator(".handover")).to_contain_text("asked for a human")
        tag = page.locator("#profile [data-tag='vip']")
        await expect(tag).to_contain_text("source: model · confidence: 80%", timeout=WAIT)
        await expect(page.locator("#profile")).to_contain_text("Hangzhou")
        await expect(page.locator("#profile [data-consent='marketing']")).to_have_text("granted")
        await expect(page.locator("#profile [data-event='purchase']")).to_have_count(1)
        typing = cus.events(TypingEvent)
        await page.type("#reply", "It ships today.")  # keystrokes: the page sends typing
        seen = await asyncio.wait_for(anext(typing), WAIT / 1000)
        assert (seen.conv, seen.user, seen.on) == (conv, "ann", True)
        await page.press("#reply", "Enter")
        got = await received(cus_events, "It ships today.")
        assert got.message.sender == "ann"
        await cus.read(conv, got.message.seq)
        await expect(page.locator(f".msg.mine[data-seq='{got.message.seq}']")).to_contain_text(
            "✓ Read", timeout=WAIT
        )

        await cus.typing(conv, True)
        await expect(page.locator("#typing")).to_contain_text("cus1", timeout=WAIT)
        await cus.send(conv, text="Thanks!")
        await expect(page.locator(".messages")).to_contain_text("Thanks!", timeout=WAIT)
        await page.fill("#note", "VIP customer, be kind")
        await page.click("#add-note")
        await expect(page.locator(".msg.note")).to_contain_text("VIP customer", timeout=WAIT)

        # a second customer while the agent is online: auto-assigned, shown without a reload, unread badge
        cus2, conv2, _ = await customer(node, "cus2", "Hello?")
        mine2 = page.locator(f"#mine li[data-conv='{conv2}']")
        await expect(mine2).to_be_visible(timeout=WAIT)
        await cus2.send(conv2, text="Anyone there?")
        await expect(mine2.locator(".badge")).to_have_text("1", timeout=WAIT)
        await shot(page, "inbox-chat")

        await page.select_option("#lang", "zh-CN")
        await expect(page.locator("#resolve")).to_have_text("解决", timeout=WAIT)
        await shot(page, "inbox-zh")
        await page.select_option("#lang", "en")
        await page.click("#resolve")
        await expect(page.locator("#chat-state")).to_have_text("resolved", timeout=WAIT)
        await cus.close()
        await cus2.close()
    async with httpx.AsyncClient(
        base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
    ) as api:
        history = (await api.get(f"/v1/conversations/{conv}/messages")).json()["messages"]
    assert not [m for m in history if "VIP" in str(m["body"])], (
        "notes never enter the customer's conversation"
    )


async def test_a_user_without_the_role_gets_403_on_the_page_and_the_api(node: RunningNode) -> None:
    async with chromium() as browser:
        ctx = await browser.new_context()
        page = await ctx.new_page()
        await page.goto(f"{node.http}/console/login")
        await fill_login(page, node, "mia", "a wrong password")
        await expect(page.locator("#form-error")).to_have_text(
            "wrong app, user name or password", timeout=WAIT
        )
        await shot(page, "login-error")
        await fill_login(page, node, "mia")
        await page.wait_for_url("**/console/segments", timeout=WAIT)  # a marketer lands on their page
        response = await page.goto(f"{node.http}/console/inbox")
        assert response is not None and response.status == 403
        await shot(page, "forbidden")
        status = await page.evaluate(
            """async () => {
                const me = await (await fetch('/console/api/me')).json();
                const r = await fetch('/console/api/ws-token', {method: 'POST', headers: {'x-csrf-token': me.csrf}});
                return [r.status, (await r.json()).code];
            }"""
        )
        assert status == [403, "forbidden"]
        await ctx.close()


async def test_an_ended_session_goes_to_login_and_keeps_the_typed_reply(node: RunningNode) -> None:
    cus, conv, cus_events = await customer(node, "cus3", "My parcel is late")
    async with chromium() as browser, agent_page(browser, node) as page:
        await page.click(f"[data-claim='{conv}']", timeout=WAIT)
        await expect(page.locator(".messages")).to_contain_text("My parcel is late", timeout=WAIT)
        await page.fill("#reply", "Sorry about that, let me check")
        # the session ends elsewhere (another device logs out everywhere)
        async with httpx.AsyncClient(base_url=node.http, timeout=20) as other:
            csrf = await login(other, node.app.app, "ann")
            r = await other.post("/console/api/logout-everywhere", headers={"x-csrf-token": csrf})
            assert r.json()["sessions"] == 2
        await page.wait_for_url("**/console/login?**", timeout=WAIT)
        await expect(page.locator("#form-error")).to_contain_text("session ended", timeout=WAIT)
        await fill_login(page, node, "ann")
        await page.wait_for_url("**/console/inbox", timeout=WAIT)
        await page.click(f"#mine li[data-conv='{conv}']", timeout=WAIT)
        await expect(page.locator("#reply")).to_have_value("Sorry about that, let me check", timeout=WAIT)
        await page.press("#reply", "Enter")
        await received(cus_events, "Sorry about that, let me check")
    await cus.close()


async def test_a_dropped_websocket_reconnects_and_resumes_without_duplicates(node: RunningNode) -> None:
    cus, conv, _ = await customer(node, "cus4", "first")
    async with chromium() as browser, agent_page(browser, node) as page:
        await page.click(f"[data-claim='{conv}']", timeout=WAIT)
        await expect(page.locator(".messages")).to_contain_text("first", timeout=WAIT)
        await cus.send(conv, text="second")
        await expect(page.locator(".messages")).to_contain_text("second", timeout=WAIT)
        # hold the page's next token request, so it stays offline while the customer writes
        held: asyncio.Future[Route] = asyncio.get_running_loop().create_future()
        await page.route(
            "**/console/api/ws-token", lambda route: held.set_result(route) if not held.done() else None
        )
        async with httpx.AsyncClient(
            base_url=node.http, headers={"authorization": f"Bearer {node.api_key}"}
        ) as api:
            r = await api.post("/v1/users/ann/revoke-tokens", json={})  # closes the agent's socket (4011)
            assert r.status_code == 200, r.text
        route = await asyncio.wait_for(held, WAIT / 1000)
        await expect(page.locator("#conn")).to_have_attribute("data-state", "connecting", timeout=WAIT)
        for text in ("third", "fourth", "fifth"):
            await cus.send(conv, text=text)
        await asyncio.sleep(1.1)  # revocation covers its whole second: the next token is from a later one
        await route.continue_()
        await page.unroute("**/console/api/ws-token")
        await expect(page.locator("#conn")).to_have_attribute("data-state", "connected", timeout=WAIT)
        await expect(page.locator(".messages")).to_contain_text("fifth", timeout=WAIT)
        texts = await page.locator(".messages .msg:not(.system):not(.note)").evaluate_all(
            "els => els.map(e => e.lastChild.textContent)"
        )
        assert texts == ["first", "second", "third", "fourth", "fifth"], texts
    await cus.close()


async def test_admin_page_shows_field_errors_and_tablet_inbox(node: RunningNode) -> None:
    async with chromium() as browser:
        ctx = await browser.new_context(viewport={"width": 1280, "height": 900})
        page = await ctx.new_page()
        await page.goto(f"{node.http}/console/login")
        await shot(page, "login")
        await fill_login(page, node, "ada")
        await page.wait_for_url("**/console/admin", timeout=WAIT)
        await page.fill("#username", "newagent")
        await page.fill("#password", "short")
        await page.check("input[value=agent]")
        await page.click("#user-form button[type=submit]")
        await expect(page.locator("#password-error")).to_contain_text("8 to 1024", timeout=WAIT)
        await page.fill("#password", PASSWORD)
        await page.click("#user-form button[type=submit]")
        await expect(page.locator("tr[data-user='newagent']")).to_be_visible(timeout=WAIT)
        await page.click("#add-canned")
        await page.fill(".canned-row input", "Greeting")
        await page.fill(".canned-row textarea", "Hello! How can I help?")
        await page.click("#save-canned")
        await expect(page.locator("#canned-saved")).to_have_text("Saved.", timeout=WAIT)
        await page.click("#new-key")
        await expect(page.locator("#new-key-value")).to_contain_text("pk_", timeout=WAIT)
        await page.fill("#list-name", "spam")
        await page.fill("#list-words", "cheap pills\nfree money")
        await page.click("#words-form button[type=submit]")
        await expect(page.locator("[data-list='spam']")).to_contain_text("flag · 2", timeout=WAIT)
        await page.fill("#audit-form input[name=action]", "console.user")
        await page.click("#audit-form button[type=submit]")
        await expect(page.locator("#audit")).to_contain_text("newagent", timeout=WAIT)
        await shot(page, "admin")
        await ctx.close()
        cus, conv, _ = await customer(node, "cus5", "Tablet hello")
        async with agent_page(browser, node, "newagent", viewport={"width": 820, "height": 1180}) as tablet:
            item = tablet.locator(f"#waiting li[data-conv='{conv}']")
            await item.focus(timeout=WAIT)
            await tablet.keyboard.press("Enter")  # keyboard: open the waiting conversation
            await expect(tablet.locator("#chat-title")).to_have_text("cus5", timeout=WAIT)
            await tablet.locator("#claim").focus()
            await tablet.keyboard.press("Enter")
            await expect(tablet.locator("#reply")).to_be_visible(timeout=WAIT)
            await tablet.select_option("#canned", label="Greeting")
            await expect(tablet.locator("#reply")).to_have_value("Hello! How can I help?", timeout=WAIT)
            await shot(tablet, "inbox-tablet")
        await cus.close()


async def test_the_bots_streamed_draft_shows_and_its_final_message_replaces_it(node: RunningNode) -> None:
    cus, conv, _ = await customer(node, "cus6", "Do you ship to Macau?")
    await node.node.services.apps.upsert_user(node.app.app, "parley-bot", role="bot")
    bot = Client(node.url, token=await node.token("parley-bot"))
    await bot.connect()
    async with chromium() as browser, agent_page(browser, node) as page:
        await page.click(f"[data-claim='{conv}']", timeout=WAIT)
        await expect(page.locator("#release")).to_be_visible(timeout=WAIT)
        await page.click("#release")  # back to the bot: the agent stays a (plain) member and watches
        await expect(page.locator("#chat-state")).to_have_text("with the bot", timeout=WAIT)
        await bot.draft(conv, "d1", "We ship to")
        await bot.draft(conv, "d1", "We ship to Macau in 3 days")
        draft = page.locator(".msg.draft[data-draft='d1']")
        await expect(draft).to_contain_text("We ship to Macau in 3 days", timeout=WAIT)
        await shot(page, "inbox-draft")
        await bot.send(conv, text="We ship to Macau in 3 days.", cmid="d1")
        await expect(draft).to_have_count(0, timeout=WAIT)
        await expect(page.locator(".messages")).to_contain_text("We ship to Macau in 3 days.", timeout=WAIT)
    await bot.close()
    await cus.close()


async def test_of_two_agents_claiming_at_once_one_wins_and_the_other_is_told(node: RunningNode) -> None:
    await node.node.services.console.add_user(node.app.app, "bea", PASSWORD, ["agent"])
    cus, conv, _ = await customer(node, "cus7", "Help!")
    async with (
        chromium() as browser,
        agent_page(browser, node) as ann,
        agent_page(browser, node, "bea") as bea,
    ):
        for page in (ann, bea):
            await expect(page.locator(f"[data-claim='{conv}']")).to_be_visible(timeout=WAIT)
        await bea.click(f"#waiting li[data-conv='{conv}']")  # bea opens it (its Claim stays on screen)
        await expect(bea.locator("#claim")).to_be_visible(timeout=WAIT)
        await ann.click(f"[data-claim='{conv}']")
        await expect(ann.locator(f"#mine li[data-conv='{conv}']")).to_be_visible(timeout=WAIT)
        await bea.click("#claim")  # too late: the compare-and-set on the ticket refuses it
        await expect(bea.locator("#chat-error")).to_contain_text("not possible while", timeout=WAIT)
        await expect(bea.locator(f"#mine li[data-conv='{conv}']")).to_have_count(0)
    await cus.close()
