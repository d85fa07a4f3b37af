// The client against a real `parley serve` on loopback (test/support/server.js), some
// clients behind a TCP proxy that breaks the network on demand (test/support/proxy.js).
// Uses the platform's standard WebSocket (node 22, or node 20 with --experimental-websocket).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import "./support/exit.js";
import { ClientClosed, FrameError, newCmid, ParleyClient, ReplyError } from "../src/index.js";
import { Proxy } from "./support/proxy.js";
import { startServer } from "./support/server.js";

/** Every test is bounded, so a lost reply fails the test instead of hanging the run. */
const LIMIT = { timeout: 60_000 };
/** @type {Awaited<ReturnType<typeof startServer>>} */
let server;
/** @type {Array<{close(): Promise<void>}>} */
const open = [];

before(async () => {
  server = await startServer();
});

after(async () => {
  for (const thing of open.reverse()) await thing.close().catch(() => {});
  await server?.stop();
});

/**
 * A connected client for `user`, closed after the tests.
 * @param {string} user
 * @param {{url?: string, role?: string}} [options]
 */
async function connected(user, { url = server.url, role = "user" } = {}) {
  const client = new ParleyClient({ url, token: server.token(user, { role }), requestTimeoutMs: 15_000 });
  open.push(client);
  await client.connect();
  return client;
}

/** @param {string} target */
async function proxied(target = server.url) {
  const proxy = new Proxy(Number(new URL(target).port));
  open.push(proxy);
  return { proxy, url: await proxy.listen() };
}

/**
 * Everything `client` emits of `type`, as it arrives.
 * @template {keyof import("../src/client.js").ClientEvents} K
 * @param {ParleyClient} client
 * @param {K} type
 * @returns {Array<import("../src/client.js").ClientEvents[K]>}
 */
function collect(client, type) {
  /** @type {any[]} */
  const seen = [];
  client.on(type, (detail) => seen.push(detail));
  return seen;
}

/**
 * Wait until `check()` is truthy (polling), failing with `what` after 20 s.
 * @param {() => unknown} check
 * @param {string} what
 */
async function until(check, what) {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** @param {import("../src/schema.js").Message[]} messages @param {string} conv */
const texts = (messages, conv) => messages.filter((m) => m.conv === conv && m.kind === "text").map((m) => m.body.text);

test("hello/welcome, send/ack, push, typing, receipt, presence and history", LIMIT, async () => {
  const alice = await connected("al");
  const bob = await connected("bea");
  assert.equal(alice.user, "al");
  assert.equal(alice.state, "connected");
  const bobMessages = collect(bob, "message");
  const bobTyping = collect(bob, "typing_event");
  const aliceReceipts = collect(alice, "receipt");
  const presence = collect(alice, "presence");

  const { conv } = await alice.convCreate({ kind: "direct", members: ["bea"] });
  await alice.presenceSub(["bea"]);
  await until(() => presence.some((p) => p.user === "bea" && p.online), "bob's presence");
  assert.equal(alice.typing(conv.conv), true);
  await until(() => bobTyping.some((e) => e.user === "al" && e.on), "typing_event");

  const ack = await alice.send(conv.conv, { text: "Hello Bob!" });
  assert.equal(ack.dup, false);
  await until(() => texts(bobMessages, conv.conv).length === 1, "bob's message");
  const [got] = bobMessages.filter((m) => m.kind === "text");
  assert.equal(got.mid, ack.mid);
  assert.equal(got.sender, "al");

  await bob.read(conv.conv, got.seq);
  await until(() => aliceReceipts.some((r) => r.user === "bea" && r.seq === got.seq), "receipt");
  const page = await bob.history(conv.conv, { limit: 10 });
  assert.deepEqual(texts(page.messages, conv.conv), ["Hello Bob!"]);
  await assert.rejects(bob.history(conv.conv, { limit: 501 }), (exc) => exc instanceof Error && /invalid_frame/.test(exc.message));
  await assert.rejects(bob.history("c_nope"), (exc) => exc instanceof ReplyError && exc.action === "fatal");
});

test("drafts stream to members and the final send replaces them (cmid = draft id)", LIMIT, async () => {
  const ann = await connected("ann");
  const ben = await connected("ben");
  const drafts = collect(ben, "draft_event");
  const messages = collect(ben, "message");
  const { conv } = await ann.convCreate({ kind: "direct", members: ["ben"] });
  const draft = newCmid();
  ann.draft(conv.conv, draft, { text: "Our returns" });
  await until(() => drafts.some((d) => d.draft === draft), "draft_event");
  await ann.send(conv.conv, { text: "Our returns window is 30 days." }, { cmid: draft });
  await until(() => messages.some((m) => m.cmid === draft), "the final message");
});

test("an ack lost with the connection: the send is resent with its cmid and stored once", LIMIT, async () => {
  const { proxy, url } = await proxied();
  const cy = await connected("cy", { url });
  const dee = await connected("dee");
  const deeMessages = collect(dee, "message");
  const states = collect(cy, "state");
  const { conv } = await cy.convCreate({ kind: "direct", members: ["dee"] });

  proxy.holding = true; // the server stores and acks, the ack never reaches cy
  const sending = cy.send(conv.conv, { text: "exactly once" });
  await until(() => texts(deeMessages, conv.conv).length === 1, "the stored message");
  proxy.holding = false;
  proxy.cut(); // cy reconnects and resends the unacked send with the same cmid
  const ack = await sending;
  assert.equal(ack.dup, true);
  assert.ok(states.some((s) => s.state === "connecting"));
  const page = await dee.history(conv.conv);
  assert.deepEqual(texts(page.messages, conv.conv), ["exactly once"]);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(texts(deeMessages, conv.conv), ["exactly once"]); // pushed once
});

test("resume with sync: messages sent while offline arrive once, in order", LIMIT, async () => {
  const { proxy, url } = await proxied();
  const eve = await connected("eve", { url });
  const fay = await connected("fay");
  const eveMessages = collect(eve, "message");
  const { conv } = await fay.convCreate({ kind: "group", members: ["eve"], name: "resume" });
  await fay.send(conv.conv, { text: "m1" });
  await until(() => texts(eveMessages, conv.conv).length === 1, "m1 live");

  proxy.refusing = true;
  proxy.cut();
  await until(() => eve.state === "connecting", "eve offline");
  for (const text of ["m2", "m3", "m4"]) await fay.send(conv.conv, { text });
  proxy.refusing = false;
  await until(() => texts(eveMessages, conv.conv).length === 4, "the missed messages");
  assert.deepEqual(texts(eveMessages, conv.conv), ["m1", "m2", "m3", "m4"]);
  const seqs = eveMessages.filter((m) => m.conv === conv.conv).map((m) => m.seq);
  assert.deepEqual(seqs, [...new Set(seqs)].sort((a, b) => a - b)); // no duplicate, in seq order
  assert.deepEqual(eve.positions().find((p) => p.conv === conv.conv)?.seq, seqs.at(-1));
});

test("an undecodable frame is an error event and the session goes on", LIMIT, async () => {
  const { proxy, url } = await proxied();
  const gus = await connected("gus", { url });
  const errors = collect(gus, "error");
  proxy.inject(Uint8Array.from([0xc1]));
  await until(() => errors.length === 1, "the error event");
  assert.equal(errors[0].code, "bad_frame");
  const { conv } = await gus.convCreate({ kind: "group", members: [], name: "still here" });
  assert.equal((await gus.send(conv.conv, { text: "ok" })).seq > 0, true);
});

test("support desk: handoff, queue, note, profile, transfer, release, claim, resolve, rate", LIMIT, async () => {
  await server.createUser("agent1", "agent");
  await server.createUser("agent2", "agent");
  const customer = await connected("cust1");
  const agents = [await connected("agent1", { role: "agent" }), await connected("agent2", { role: "agent" })];
  const customerMessages = collect(customer, "message");
  const { conv } = await customer.convCreate({ kind: "support" });
  await customer.supportHandoff(conv.conv, { reason: "asked for a human" });
  // an online agent is auto-assigned: whoever has it in `mine` owns it
  const mine = await Promise.all(agents.map(async (a) => (await a.supportQueue()).mine.some((c) => c.conv === conv.conv)));
  assert.equal(mine.filter(Boolean).length, 1);
  const owner = agents[mine.indexOf(true)];
  const helper = agents[mine.indexOf(false)];

  await owner.send(conv.conv, { text: "How can I help?" });
  await until(() => texts(customerMessages, conv.conv).includes("How can I help?"), "the agent's answer");
  const note = await owner.supportNote(conv.conv, "VIP customer");
  assert.equal(note.t, "ack");
  await owner.profileTag("cust1", { add: [{ name: "vip", confidence: 0.5 }] });
  const profile = await owner.profileGet("cust1");
  assert.deepEqual(profile.profile.tags.map((t) => [t.name, t.confidence]), [["vip", 0.5]]);

  await owner.supportTransfer(conv.conv, helper.user);
  await helper.supportRelease(conv.conv); // back to the bot
  await assert.rejects(customer.supportClaim(conv.conv), ReplyError); // a customer is no agent
  const claimed = await owner.supportClaim(conv.conv);
  assert.equal(claimed.conv.conv, conv.conv);
  await owner.supportResolve(conv.conv);
  await customer.supportRate(conv.conv, 5);
  await assert.rejects(customer.supportRate(conv.conv, 4), (exc) => exc instanceof ReplyError && exc.code === "invalid_request");
});

test("bad input is refused before it is sent, with the server's codes; the session goes on", LIMIT, async () => {
  const hal = await connected("hal");
  const { conv } = await hal.convCreate({ kind: "group", members: [], name: "limits" });
  await assert.rejects(hal.send("", { text: "x" }), (exc) => exc instanceof FrameError && exc.code === "invalid_frame");
  const big = { blob: "x".repeat(hal.welcome?.max_frame ?? 0) };
  await assert.rejects(hal.send(conv.conv, big, { kind: "custom" }), (exc) => exc instanceof FrameError && exc.code === "frame_too_large");
  await assert.rejects(hal.request({ t: "conv_update", conv: conv.conv, meta: big }), (exc) => exc instanceof FrameError && exc.code === "frame_too_large");
  // refused by the server, with the request's id: the send fails, nothing stays queued
  await assert.rejects(hal.send(conv.conv, { text: "   " }), (exc) => exc instanceof ReplyError && exc.code === "invalid_request");
  await assert.rejects(hal.send(conv.conv, { "a.b": 1 }, { kind: "custom" }), (exc) => exc instanceof ReplyError && exc.code === "invalid_frame");
  assert.equal(hal.outbox.size, 0);
  await assert.rejects(hal.track("not_declared", { x: 1 }), (exc) => exc instanceof ReplyError && exc.code === "event_unknown");
  assert.equal((await hal.send(conv.conv, { text: "fine" })).dup, false);
});

test("a refused token closes the client for good (no reconnect loop)", LIMIT, async () => {
  const client = new ParleyClient({ url: server.url, token: "not-a-jwt" });
  open.push(client);
  const states = collect(client, "state");
  await assert.rejects(client.connect(), (exc) => exc instanceof ClientClosed && exc.errorCode === "token_invalid");
  assert.equal(client.state, "closed");
  await assert.rejects(client.send("c", { text: "x" }), ClientClosed);
  assert.equal(states.filter((s) => s.state === "connecting").length, 1);
});

test("the README's example runs as written", LIMIT, async () => {
  const { execFile } = await import("node:child_process");
  const { readFileSync } = await import("node:fs");
  const example = new URL("../examples/quickstart.mjs", import.meta.url);
  const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
  assert.ok(readme.includes(readFileSync(example, "utf8").trim()), "README.md shows examples/quickstart.mjs verbatim");
  const flags = typeof WebSocket === "function" && process.execArgv.includes("--experimental-websocket") ? ["--experimental-websocket"] : [];
  const env = { ...process.env, PARLEY_URL: server.url, ALICE_TOKEN: server.token("alice"), BOB_TOKEN: server.token("bob") };
  const out = await new Promise((resolve, reject) => {
    execFile(process.execPath, [...flags, example.pathname], { env, timeout: 60_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stdout}${stderr}`)) : resolve(stdout),
    );
  });
  assert.equal(String(out).trim(), "bob got #1 from alice: Hello Bob!");
});
