// The marketer pages in Firefox: the segment builder's live count, a campaign sent from the wizard
// that an online client receives, its results' funnel, the pages at tablet width and by keyboard;
// an agent gets 403 on them. Screenshots: support/console.js.
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import "../../client/test/support/exit.js";
import { eventually, overflow, present, shot, startConsole, TABLET, tabTo, until, untilText } from "./support/console.js";

/** @type {import("./support/console.js").Console} */
let con;

before(async () => {
  con = await startConsole();
});

afterEach(async () => {
  await con?.closeAll();
});

after(async () => {
  await con?.stop();
});

/** @param {import("puppeteer-core").Page} page @param {string} selector @param {string} value */
const untilValue = (page, selector, value) =>
  until(page, ([s, v]) => /** @type {HTMLInputElement | null} */ (document.querySelector(s))?.value === v, [selector, value]);

/** @param {import("puppeteer-core").Page} page @param {string} selector @param {string} text */
async function setText(page, selector, text) {
  await page.$eval(selector, (e) => { /** @type {HTMLInputElement} */ (e).value = ""; });
  await page.type(selector, text);
}

test("a marketer builds a segment (live count), sends a campaign an online client receives and an offline one gets on sync, sees the funnel", async () => {
  const pid = await con.profile("on1");
  await con.profile("off1");
  await con.profile("nope", false);
  const off = await con.customer("off1"); // online once: where it stood is kept for the sync later
  await off.client.convCreate({ kind: "direct", members: ["zed"] });
  const saved = off.client.positions();
  await off.client.close();
  const on = await con.customer("on1");
  const page = await con.loggedIn("mia", "/console/segments");
  await page.select("#seg-add-type", "consent");
  await page.click("#seg-add");
  await untilValue(page, "#seg-text", 'consent("marketing")');
  await until(page, () => document.querySelector("#seg-count")?.textContent === "2"); // 2 of the 3 profiles
  await until(page, () => document.querySelectorAll("#seg-sample tr").length === 2);
  await setText(page, "#seg-id", "fans");
  await setText(page, "#seg-name", "Fans");
  await page.keyboard.press("Enter");
  await untilText(page, "#seg-list", "fans");
  await shot(page, "marketer-segments");

  await page.goto(`${con.http}/console/campaigns`);
  await untilValue(page, "#c-segment", "fans");
  await setText(page, "#c-name", "Winter");
  await page.type("#c-variants [name=en]", "Hi {{user}}");
  await page.type("#c-variants [name='zh-CN']", "你好 {{user}}");
  await setText(page, "#c-preview-pid", pid);
  await page.click("#c-preview");
  await until(page, () => document.querySelectorAll("#c-rendered .bubble").length === 2);
  await untilText(page, "#c-rendered", "你好 on1");
  await page.click("#c-send");
  await until(page, () => (document.querySelector("#c-sent")?.textContent ?? "") !== "");
  await eventually(() => on.messages.some((m) => m.body?.text === "Hi on1"), "the online client to receive the campaign");
  const got = on.messages.find((m) => m.body?.text === "Hi on1");
  assert.equal(got?.sender, "brand");

  await until(page, () => document.querySelector("#c-list tr")?.getAttribute("data-state") === "done");
  await untilText(page, "#c-list tr .counts", "sent 2");
  // keyboard: Tab reaches the campaign's Results button, Enter opens the charts
  await page.mouse.click(2, 2); // into the window first (see agent.test.js)
  await tabTo(page, "#c-list tr button:last-child");
  await page.keyboard.press("Enter");
  await until(page, () => document.querySelector("#results-charts [data-arm=a] rect[data-label=sent]")?.getAttribute("data-value") === "2");
  await on.client.read(got.conv, got.seq);
  // the open results are redrawn every 2 s: the read receipt moves the funnel
  await until(page, () => document.querySelector("#results-charts [data-arm=a] rect[data-label=read]")?.getAttribute("data-value") === "1");
  // the delivered stage (the online client's connection got it; the offline profile's did not) and
  // the results over time: this hour's bucket holds both sends
  await until(page, () => document.querySelector("#results-charts [data-arm=a] rect[data-label=delivered]")?.getAttribute("data-value") === "1");
  await until(page, () => [...document.querySelectorAll("#results-charts .timeline rect[data-series=sent]")]
    .reduce((n, r) => n + Number(r.getAttribute("data-value")), 0) === 2);
  // the offline client comes back: it gets the campaign on sync, which counts as delivered
  const back = await con.customer("off1", saved);
  await eventually(() => back.messages.some((m) => m.body?.text === "Hi off1"), "the offline client to get the campaign on sync");
  await until(page, () => document.querySelector("#results-charts [data-arm=a] rect[data-label=delivered]")?.getAttribute("data-value") === "2");
  await page.select("#results-bucket", "day");
  await until(page, () => document.querySelectorAll("#results-charts .timeline [data-bucket]").length === 1);
  await shot(page, "marketer-results");
  await page.select("#lang", "zh-CN"); // the charts are redrawn in Simplified Chinese
  await untilText(page, "#results-charts", "随时间变化");
  await until(page, () => document.querySelector("#results-charts [data-arm=a] rect[data-label=已送达]")?.getAttribute("data-value") === "2");
  await shot(page, "marketer-results-zh");
  assert.equal((await overflow(page)).scroll, 0, "no horizontal scrolling at desktop width");
});

test("the marketer and admin pages at tablet width: no horizontal overflow, the wizard's error by its field", async () => {
  const page = await con.loggedIn("mia", "/console/segments", TABLET);
  for (const path of ["/console/segments", "/console/campaigns", "/console/journeys"]) {
    await page.goto(`${con.http}${path}`);
    await until(page, () => (document.querySelector("#who")?.textContent ?? "") !== ""); // the shell has drawn
    const layout = await overflow(page);
    assert.equal(layout.scroll, 0, `${path} at 820 px scrolls sideways (too wide: ${layout.wide})`);
    await shot(page, `marketer-tablet${path.replaceAll("/", "-")}`);
  }
  await page.goto(`${con.http}/console/campaigns`);
  await present(page, "#c-variants [name=en]");
  await page.click("input[name=when][value=at]");
  await page.click("#c-send");
  await untilText(page, "#c-schedule-error", "start date");
  const admin = await con.loggedIn("ada", "/console/admin", TABLET);
  await until(admin, () => (document.querySelector("#who")?.textContent ?? "") !== "");
  const layout = await overflow(admin);
  assert.equal(layout.scroll, 0, `/console/admin at 820 px scrolls sideways (too wide: ${layout.wide})`);
  await shot(admin, "admin-tablet");
});

test("an agent gets 403 on the marketer pages and their API, and no marketer link", async () => {
  const page = await con.loggedIn("ann", "/console/inbox");
  // The shell fills the nav: read it only once it has drawn (an empty nav would pass vacuously).
  await until(page, () => (document.querySelector("#who")?.textContent ?? "") !== "");
  const nav = await page.$eval("#nav", (e) => e.textContent ?? "");
  assert.ok(nav.includes("Inbox") || nav.includes("收件箱"), nav);
  assert.ok(!nav.includes("Segments"), nav);
  for (const path of ["/console/segments", "/console/campaigns"]) {
    const response = await page.goto(`${con.http}${path}`);
    assert.equal(response?.status(), 403, path);
  }
  await shot(page, "marketer-forbidden-for-agent");
  const api = await page.evaluate(async () => (await fetch("/console/api/segments")).status);
  assert.equal(api, 403);
});
