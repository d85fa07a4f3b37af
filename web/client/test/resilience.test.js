// Reconnects against a real `parley serve` (its own server: one test restarts it):
// a graceful restart (`bye`, close 1012) with a send queued while it is down; a refused
// expired token refreshed through getToken; a new session resuming from the positions a
// previous one saved; presence watched again after a reconnect.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import "./support/exit.js";
import { ParleyClient } from "../src/index.js";
import { Proxy } from "./support/proxy.js";
import { startServer } from "./support/server.js";

const LIMIT = { timeout: 90_000 };
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
 * @param {ConstructorParameters<typeof ParleyClient>[0]} options
 */
function client(options) {
  const c = new ParleyClient({ requestTimeoutMs: 15_000, ...options });
  open.push(c);
  return c;
}

/**
 * @param {() => unknown} check
 * @param {string} what
 */
async function until(check, what) {
  for (let i = 0; i < 600; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** @param {import("../src/schema.js").Message[]} ms @param {string} conv */
const texts = (ms, conv) => ms.filter((m) => m.conv === conv && m.kind === "text").map((m) => m.body.text);

test("getToken: a stale token is replaced before connecting, a revoked one after the server's close", LIMIT, async () => {
  let calls = 0;
  const ida = client({
    url: server.url,
    token: server.token("ida", { ttl: -120 }), // expired: replaced before the first hello
    getToken: async () => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 1100)); // a new second: after the revocation below
      return server.token("ida");
    },
  });
  const errors = [];
  ida.on("error", (e) => errors.push(e.code));
  const states = [];
  ida.on("state", (s) => states.push(s));
  await ida.connect();
  assert.equal(ida.user, "ida");
  assert.equal(calls, 1);
  await server.admin("POST", "/v1/users/ida/revoke-tokens", {}); // live connections: error token_revoked, close 4011
  await until(() => states.some((s) => s.code === 4011), "the close 4011");
  await until(() => ida.state === "connected" && calls === 2, "a reconnect with a fresh token");
  assert.ok(errors.includes("token_revoked"));
});

test("a new session resumes from the positions the previous one saved", LIMIT, async () => {
  const jo = client({ url: server.url, token: server.token("jo") });
  const kim = client({ url: server.url, token: server.token("kim") });
  await Promise.all([jo.connect(), kim.connect()]);
  const { conv } = await kim.convCreate({ kind: "group", members: ["jo"], name: "positions" });
  const seen = [];
  jo.on("message", (m) => seen.push(m));
  await kim.send(conv.conv, { text: "before" });
  await until(() => texts(seen, conv.conv).length === 1, "the first message");
  const saved = jo.positions();
  await jo.close();
  for (const text of ["after 1", "after 2"]) await kim.send(conv.conv, { text });
  const jo2 = client({ url: server.url, token: server.token("jo"), positions: saved });
  const replayed = [];
  jo2.on("message", (m) => replayed.push(m));
  await jo2.connect(); // resolves after the resume's sync
  assert.deepEqual(texts(replayed, conv.conv), ["after 1", "after 2"]);
});

test("presence stays watched across a reconnect", LIMIT, async () => {
  const proxy = new Proxy(server.port);
  open.push(proxy);
  const lu = client({ url: await proxy.listen(), token: server.token("lu") });
  await lu.connect();
  await lu.convCreate({ kind: "direct", members: ["mo"] }); // presence is visible to those who share a conversation
  const events = [];
  lu.on("presence", (p) => events.push(p));
  await lu.presenceSub(["mo"]);
  proxy.cut();
  await until(() => lu.state === "connecting", "the drop");
  await until(() => lu.state === "connected", "the reconnect");
  const mo = client({ url: server.url, token: server.token("mo") });
  await mo.connect();
  await until(() => events.some((p) => p.user === "mo" && p.online), "mo online, seen after the reconnect");
});

test("a graceful restart: bye, reconnect, the send queued meanwhile is stored once", LIMIT, async () => {
  const nia = client({ url: server.url, token: server.token("nia") });
  const oz = client({ url: server.url, token: server.token("oz") });
  await Promise.all([nia.connect(), oz.connect()]);
  const { conv } = await nia.convCreate({ kind: "direct", members: ["oz"] });
  const ozSeen = [];
  oz.on("message", (m) => ozSeen.push(m));
  const byes = [];
  nia.on("bye", (b) => byes.push(b));
  const restarting = server.restart();
  await until(() => nia.state === "connecting", "nia disconnected");
  const queued = nia.send(conv.conv, { text: "sent while the server was down" });
  await restarting;
  const ack = await queued;
  await until(() => texts(ozSeen, conv.conv).length === 1, "oz gets it after both reconnect");
  assert.equal(byes.length, 1);
  const page = await oz.history(conv.conv);
  assert.deepEqual(texts(page.messages, conv.conv), ["sent while the server was down"]);
  assert.equal(page.messages.find((m) => m.kind === "text")?.mid, ack.mid);
});
