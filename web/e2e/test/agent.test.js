// The agent inbox in Firefox: log in, claim a ticket a customer opened, answer it (the customer's
// client receives it), by mouse at desktop width and by keyboard alone at tablet width; a user
// without the role gets 403 on the page and the API. Screenshots: support/console.js.
import assert from "node:assert/strict";
import { after, afterEach, before, test } from "node:test";
import "../../client/test/support/exit.js";
import { arrived, eventually, overflow, present, shot, startConsole, TABLET, tabTo, until, untilText } from "./support/console.js";

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

/**
 * A customer who opened a support conversation, wrote `first` and asked for a human.
 * @param {string} user @param {string} first
 */
async function ticket(user, first) {
  const { client, messages } = await con.customer(user);
  const { conv } = await client.convCreate({ kind: "support" });
  await client.send(conv.conv, { text: first });
  await client.supportHandoff(conv.conv, { reason: "asked for a human" });
  return { client, messages, conv: conv.conv };
}

/** @param {import("../../client/src/schema.js").Message[]} messages @param {string} text */
const got = (messages, text) => messages.find((m) => m.body?.text === text);

test("an agent logs in, claims a customer's ticket and answers; the customer receives it", async () => {
  const cus = await ticket("cus1", "Where is my order?");
  const page = await con.loggedIn("ann", "/console/inbox");
  await present(page, `#waiting li[data-conv='${cus.conv}']`);
  await until(page, () => document.querySelector("#conn")?.getAttribute("data-state") === "connected");
  await shot(page, "inbox-queue");
  await page.click(`[data-claim='${cus.conv}']`);
  await present(page, `#mine li[data-conv='${cus.conv}']`);
  await untilText(page, ".messages", "Where is my order?");
  await untilText(page, ".handover", "asked for a human");
  await page.type("#reply", "It ships today.");
  await page.keyboard.press("Enter");
  await eventually(() => got(cus.messages, "It ships today."), "the customer to receive the answer");
  assert.equal(got(cus.messages, "It ships today.")?.sender, "ann");
  await cus.client.send(cus.conv, { text: "Thanks!" });
  await untilText(page, ".messages", "Thanks!");
  await shot(page, "inbox-chat");
  assert.equal((await overflow(page)).scroll, 0, "no horizontal scrolling at desktop width");
});

test("keyboard only at tablet width: log in, claim with Enter, answer with Enter", async () => {
  const cus = await ticket("cus2", "My parcel is late");
  const other = await ticket("cus3", "Wrong size");
  const page = await con.tab(TABLET);
  await page.goto(`${con.http}/console/inbox`);
  await present(page, "#app");
  // a user first clicks into the window: until the document has the focus, headless Firefox moves
  // the focus with Tab but never activates a button with Enter or Space (measured: the login
  // button and the Claim button stayed unclicked, with no preventDefault anywhere)
  await page.mouse.click(2, 2);
  await tabTo(page, "#app");
  await page.keyboard.type(con.app);
  await tabTo(page, "#username");
  await page.keyboard.type("ann");
  await tabTo(page, "#password");
  await page.keyboard.type("correct horse battery");
  await tabTo(page, "#login-button");
  await page.keyboard.press("Enter");
  await arrived(page, "/console/inbox");
  await present(page, `#waiting li[data-conv='${cus.conv}']`);
  const layout = await overflow(page);
  assert.equal(layout.scroll, 0, `no horizontal scrolling at 820 px (too wide: ${layout.wide})`);
  await shot(page, "inbox-tablet");
  // Enter on a queue row's own Claim button claims (the row's keydown leaves it to the button)
  await tabTo(page, `#waiting [data-claim='${other.conv}']`);
  await page.keyboard.press("Enter");
  await present(page, `#mine li[data-conv='${other.conv}']`);
  await untilText(page, "#chat-state", "with an agent");
  // the queue item is focusable and Enter opens the conversation; Tab reaches its Claim button
  await tabTo(page, `#waiting li[data-conv='${cus.conv}']`);
  await page.keyboard.press("Enter");
  await until(page, (c) => document.querySelector(`#waiting li[data-conv='${c}']`)?.getAttribute("aria-selected") === "true", cus.conv);
  await untilText(page, "#profile-title", "cus2"); // select() has drawn the chat and the profile
  await tabTo(page, "#claim");
  await page.keyboard.press("Enter");
  await present(page, `#mine li[data-conv='${cus.conv}']`);
  await untilText(page, ".messages", "My parcel is late");
  await tabTo(page, "#reply");
  await page.keyboard.type("Checking now");
  await page.keyboard.press("Enter");
  await eventually(() => got(cus.messages, "Checking now"), "the customer to receive the keyboard answer");
  await shot(page, "inbox-keyboard");
});

test("a user without the role gets 403 on the page and the API", async () => {
  const page = await con.loggedIn("mia", "/console/campaigns");
  const response = await page.goto(`${con.http}/console/inbox`);
  assert.equal(response?.status(), 403);
  await shot(page, "inbox-forbidden");
  const api = await page.evaluate(async () => {
    const me = await (await fetch("/console/api/me")).json();
    const r = await fetch("/console/api/ws-token", { method: "POST", headers: { "x-csrf-token": me.csrf } });
    return [r.status, (await r.json()).code];
  });
  assert.deepEqual(api, [403, "forbidden"]);
});
