// The session's decisions that a real server cannot be made to provoke on demand, against
// a scripted fake WebSocket that speaks the protocol with the client's own codec: the
// heartbeat closing a silent connection, a close code that forbids reconnecting, a send
// retried after a temporary error with the same cmid, an own message overtaking others
// (synced only if the gap stays open), a stream reset reported.
import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import "./support/exit.js";
import { decodeClientFrame, encodeFrame } from "../src/codec.js";
import { Backoff } from "../src/backoff.js";
import { ClientClosed, ConnectionLost, ParleyClient } from "../src/index.js";

/** Sockets the fake opened, newest last; each records what the client sent. */
class FakeNet {
  constructor() {
    /** @type {FakeSocket[]} */
    this.sockets = [];
    /** @type {Promise<unknown>} new sockets open when it resolves */
    this.opening = Promise.resolve();
    /** @type {(socket: FakeSocket, frame: any) => void} answers each frame the client sends */
    this.answer = (socket, frame) => socket.standard(frame);
    const net = this;
    /** A WebSocket constructor bound to this fake network. */
    this.WebSocket = /** @type {any} */ (
      class extends FakeSocket {
        /** @param {string} url */
        constructor(url) {
          super(url, net);
          net.sockets.push(this);
        }
      }
    );
  }
}

class FakeSocket extends EventTarget {
  /** @param {string} url @param {FakeNet} net */
  constructor(url, net) {
    super();
    this.url = url;
    this.net = net;
    this.readyState = 0;
    this.binaryType = "blob";
    /** Opens when this resolves (the test may hold a socket in CONNECTING). */
    this.opening = net.opening;
    /** @type {any[]} */
    this.sent = [];
    /** Heartbeat of the welcome this socket answers with. */
    this.heartbeatMs = 0;
    this.opening.then(() => {
      if (this.readyState !== 0) return;
      this.readyState = 1;
      this.dispatchEvent(new Event("open"));
    });
  }

  /** @param {Uint8Array} bytes */
  send(bytes) {
    const frame = decodeClientFrame(bytes);
    this.sent.push(frame);
    setTimeout(() => this.net.answer(this, frame), 1);
  }

  /** @param {any} frame */
  push(frame) {
    if (this.readyState !== 1) return;
    const data = encodeFrame(frame);
    this.dispatchEvent(Object.assign(new Event("message"), { data: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) }));
  }

  /** What a healthy server answers. @param {any} frame */
  standard(frame) {
    if (frame.t === "hello") {
      const welcome = { t: "welcome", v: 1, session: "s", app: "a", user: "me", node: "n", ts: 1, heartbeat_ms: this.heartbeatMs, max_frame: 65536 };
      this.push(welcome);
    } else if (frame.t === "sync") {
      this.push({ t: "synced", id: frame.id, convs: [] });
    }
  }

  /** @param {number} [code] */
  close(code = 1005) {
    if (this.readyState >= 2) return;
    this.readyState = 3;
    setTimeout(() => this.dispatchEvent(Object.assign(new Event("close"), { code, reason: "" })), 1);
  }
}

const fast = new Backoff({ minDelay: 0.01, maxDelay: 0.02 });
/** Every test is bounded, so a lost reply fails the test instead of hanging the run. */
const LIMIT = { timeout: 60_000 };
/** @type {ParleyClient[]} clients of the running test, closed after it (pass or fail) */
let clients = [];
afterEach(async () => {
  for (const client of clients) await client.close();
  clients = [];
});

/** @param {FakeNet} net @param {Partial<ConstructorParameters<typeof ParleyClient>[0]>} [options] */
function fakeClient(net, options = {}) {
  const client = new ParleyClient({ url: "ws://fake/ws", token: "t", WebSocket: net.WebSocket, backoff: fast, requestTimeoutMs: 10_000, ...options });
  clients.push(client);
  return client;
}

/** @param {() => unknown} check @param {string} what */
async function until(check, what) {
  for (let i = 0; i < 1000; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** @param {string} conv @param {number} seq @param {string} [sender] */
const message = (conv, seq, sender = "other") => ({ conv, seq, mid: `m${seq}`, sender, kind: "text", body: { text: `${seq}` }, ts: seq });

test("a connection silent for two heartbeats is closed and replaced", LIMIT, async () => {
  const net = new FakeNet();
  net.answer = (socket, frame) => {
    socket.heartbeatMs = 40;
    if (frame.t !== "ping") socket.standard(frame); // pings go unanswered: the line is dead
  };
  const client = fakeClient(net);
  await client.connect();
  await until(() => net.sockets.length === 2, "a second socket");
  assert.ok(net.sockets[0].sent.filter((f) => f.t === "ping").length >= 2, "pings went out meanwhile");
  assert.equal(net.sockets[0].readyState, 3);
  await client.close();
});

test("a close that forbids reconnecting (4010: the user is disabled) closes the client for good", LIMIT, async () => {
  const net = new FakeNet();
  const client = fakeClient(net);
  await client.connect();
  net.sockets[0].push({ t: "error", code: "user_disabled", message: "disabled", action: "fatal" });
  net.sockets[0].close(4010);
  await until(() => client.state === "closed", "closed");
  assert.equal(client.closedError?.code, 4010);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(net.sockets.length, 1);
});

test("a send refused with a temporary error is resent after a backoff with the same cmid", LIMIT, async () => {
  const net = new FakeNet();
  let refused = 0;
  net.answer = (socket, frame) => {
    if (frame.t !== "send") return socket.standard(frame);
    if (refused++ === 0) return socket.push({ t: "error", id: frame.id, code: "rate_limited", message: "slow down", action: "retry" });
    socket.push({ t: "ack", id: frame.id, conv: frame.conv, cmid: frame.cmid, mid: "m1", seq: 1, ts: 5 });
  };
  const client = fakeClient(net);
  await client.connect();
  const ack = await client.send("c", { text: "hi" }, { cmid: "k1" });
  const sends = net.sockets[0].sent.filter((f) => f.t === "send");
  assert.deepEqual(sends.map((f) => f.cmid), ["k1", "k1"]);
  assert.notEqual(sends[0].id, sends[1].id);
  assert.equal(ack.mid, "m1");
  await client.close();
});

test("an own message that overtakes others is held; sync only if the gap is still open after the grace", LIMIT, async () => {
  const net = new FakeNet();
  /** @type {any[]} */
  const syncs = [];
  net.answer = (socket, frame) => {
    if (frame.t === "sync") {
      syncs.push(frame);
      if (syncs.length === 1) return socket.push({ t: "synced", id: frame.id, convs: [{ conv: "g", last_seq: 1, epoch: "e" }] });
      socket.push({ t: "msg", m: message("g", 4) }); // the refill
      return socket.push({ t: "synced", id: frame.id, convs: [{ conv: "g", last_seq: 5, epoch: "e" }] });
    }
    if (frame.t === "send") {
      const seq = frame.cmid === "a" ? 3 : 5;
      return socket.push({ t: "ack", id: frame.id, conv: "g", cmid: frame.cmid, mid: `m${seq}`, seq, ts: seq });
    }
    socket.standard(frame);
  };
  // a long grace, so that "no sync yet" below never depends on how busy the machine is
  const client = fakeClient(net, { positions: [{ conv: "g", seq: 1, epoch: "e" }], ownGapGraceMs: 3000 });
  /** @type {number[]} */
  const seen = [];
  client.on("message", (m) => seen.push(m.seq));
  await client.connect();
  net.sockets[0].push({ t: "msg", m: message("g", 2) });
  await client.send("g", { text: "a" }, { cmid: "a" }); // seq 3 right after 2: delivered
  await client.send("g", { text: "b" }, { cmid: "b" }); // seq 5: 4 is still on its way
  await until(() => seen.length === 2, "2 and 3");
  assert.deepEqual(seen, [2, 3]);
  const sentSyncs = () => net.sockets[0].sent.filter((f) => f.t === "sync");
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(sentSyncs().length, 1, "no sync within the grace (only the resume's)");
  await until(() => seen.length === 4, "the gap refilled by a sync after the grace");
  assert.deepEqual(seen, [2, 3, 4, 5]);
  assert.equal(sentSyncs().length, 2);
  assert.deepEqual(sentSyncs()[1].positions, [{ conv: "g", seq: 3, epoch: "e" }]);
  await client.close();
});

test("a stream reset by sync is reported and tracked afresh", LIMIT, async () => {
  const net = new FakeNet();
  net.answer = (socket, frame) => {
    if (frame.t !== "sync") return socket.standard(frame);
    socket.push({ t: "synced", id: frame.id, convs: [{ conv: "r", last_seq: 7, epoch: "new", reset: true }] });
  };
  const client = fakeClient(net, { positions: [{ conv: "r", seq: 40, epoch: "old" }] });
  /** @type {any[]} */
  const resets = [];
  client.on("reset", (r) => resets.push(r));
  await client.connect();
  assert.deepEqual(resets, [{ conv: "r", last_seq: 7, epoch: "new", more: false, reset: true }]);
  assert.deepEqual(client.positions(), [{ conv: "r", seq: 7, epoch: "new" }]);
  await client.close();
});

test("close() while the socket is opening leaves no socket open", LIMIT, async () => {
  const net = new FakeNet();
  /** @type {(v?: unknown) => void} */
  let letOpen = () => {};
  net.opening = new Promise((r) => (letOpen = r));
  const client = fakeClient(net);
  const connecting = client.connect();
  await until(() => net.sockets.length === 1, "the socket");
  await client.close();
  letOpen(); // it opens after close(): the client must close it
  await assert.rejects(connecting, ClientClosed);
  await until(() => net.sockets[0].readyState === 3, "the socket closed");
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(net.sockets.length, 1);
});

test("a closed client holds no timers (its process can exit)", LIMIT, async () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
  await new Promise((r) => setTimeout(r, 20));
  const before = timers();
  const net = new FakeNet();
  net.answer = (socket, frame) => {
    socket.heartbeatMs = 10_000; // a heartbeat interval runs
    if (frame.t === "send") return socket.push({ t: "ack", id: frame.id, conv: "g", cmid: frame.cmid, mid: "m9", seq: 9, ts: 9 });
    if (frame.t !== "history") socket.standard(frame); // history: never answered, its timeout runs
  };
  const client = fakeClient(net, { positions: [{ conv: "g", seq: 1, epoch: "e" }], ownGapGraceMs: 600_000 });
  await client.connect();
  await client.send("g", { text: "overtakes" }); // seq 9 after 1: a grace timer runs
  const history = client.history("g").catch((exc) => exc);
  assert.ok(timers() > before);
  await client.close();
  assert.ok((await history) instanceof ClientClosed);
  await until(() => timers() === before, "every timer gone");
});

test("track is retried across a reconnect with the same eid", LIMIT, async () => {
  const net = new FakeNet();
  /** @type {any[]} */
  const tracks = [];
  net.answer = (socket, frame) => {
    if (frame.t !== "track") return socket.standard(frame);
    tracks.push(frame);
    if (tracks.length === 1) return socket.close(1006); // the connection drops before the reply
    socket.push({ t: "tracked", id: frame.id, eid: frame.eid, dup: true });
  };
  const client = fakeClient(net);
  await client.connect();
  const reply = await client.track("product_viewed", { price: 5 });
  assert.equal(net.sockets.length, 2);
  assert.equal(tracks.length, 2);
  assert.equal(tracks[0].eid, tracks[1].eid);
  assert.deepEqual([reply.eid, reply.dup], [tracks[0].eid, true]);
});

test("a state-changing request whose connection drops is not resent: it fails with ConnectionLost", LIMIT, async () => {
  const net = new FakeNet();
  /** @type {any[]} */
  const claims = [];
  net.answer = (socket, frame) => {
    if (frame.t !== "support_claim") return socket.standard(frame);
    claims.push(frame);
    socket.close(1006); // dropped: did the claim happen? only the server knows
  };
  const client = fakeClient(net);
  await client.connect();
  await assert.rejects(client.supportClaim("c_sup"), ConnectionLost);
  await until(() => client.state === "connected" && net.sockets.length === 2, "the reconnect");
  assert.equal(claims.length, 1);
});
