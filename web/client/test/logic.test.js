// The pure parts: backoff (the rule of proto/backoff.py), the outbox (resend with the
// same cmid, complete once) and the streams + catch-up (exactly once, in order, gaps
// refilled by sync, resets, pages of conversations, a gap the server cannot fill).
import assert from "node:assert/strict";
import { test } from "node:test";
import { Backoff } from "../src/backoff.js";
import { catchUp, MAX_FRUITLESS } from "../src/catchup.js";
import { Outbox } from "../src/outbox.js";
import { Streams } from "../src/streams.js";

/** @param {string} conv @param {number} seq @returns {import("../src/schema.js").Message} */
const msg = (conv, seq) => ({ conv, seq, mid: `m${seq}`, sender: "u", kind: "text", body: { text: `${seq}` }, ts: seq, cmid: "", mentions: [], edited: 0, recalled: false });

test("backoff: caps double from min to max, like proto/backoff.py", () => {
  const b = new Backoff();
  assert.deepEqual([0, 1, 2, 3, 6, 7, 100, 5000].map((n) => b.cap(n)), [0.2, 0.4, 0.8, 1.6, 12.8, 20, 20, 20]);
  assert.equal(b.cap(-3), 0.2);
});

test("backoff: full jitter within [min, cap]", () => {
  const b = new Backoff({ minDelay: 0.5, maxDelay: 8, factor: 2 });
  assert.equal(b.delay(3, () => 0), 0.5); // never below min
  assert.equal(b.delay(3, () => 0.5), 2); // half of cap 4
  assert.equal(b.delay(10, () => 0.999999) <= 8, true);
  assert.equal(new Backoff({ factor: 1e308 }).cap(64), 20); // overflow: the cap, not Infinity/NaN
});

test("backoff: bad parameters are refused", () => {
  assert.throws(() => new Backoff({ minDelay: 0 }), RangeError);
  assert.throws(() => new Backoff({ minDelay: 2, maxDelay: 1 }), RangeError);
  assert.throws(() => new Backoff({ factor: 0.5 }), RangeError);
});

test("outbox: a send is resent after a drop with the same cmid, in first-send order, and completes once", () => {
  const box = new Outbox();
  /** @type {any[]} */
  const done = [];
  const a = box.add({ conv: "c", cmid: "A", kind: "text", body: { text: "a" }, mentions: [] }, (ack) => done.push(ack.cmid), assert.fail);
  const b = box.add({ conv: "c", cmid: "B", kind: "text", body: { text: "b" }, mentions: [] }, (ack) => done.push(ack.cmid), assert.fail);
  assert.equal(box.transmit(a, 1).cmid, "A");
  assert.equal(box.transmit(b, 2).id, 2);
  assert.deepEqual(box.resendable(), []); // both on the wire
  box.connectionLost();
  assert.deepEqual(box.resendable().map((e) => e.cmid), ["A", "B"]);
  const resent = box.transmit(a, 7);
  assert.equal(resent.cmid, "A");
  assert.equal(box.owns(1), false);
  assert.equal(box.owns(7), true);
  const ack = { t: /** @type {const} */ ("ack"), id: 7, conv: "c", cmid: "A", mid: "m", seq: 1, ts: 1, dup: true, body: null };
  assert.equal(box.ack(ack)?.cmid, "A");
  assert.equal(box.ack(ack), null); // a second ack for the same send finds nothing
  assert.deepEqual(done, ["A"]);
  assert.throws(() => box.add({ conv: "c", cmid: "B", kind: "text", body: {}, mentions: [] }, () => {}, () => {}));
  assert.equal(box.size, 1);
});

test("outbox: failAll rejects every pending send", () => {
  const box = new Outbox();
  /** @type {string[]} */
  const failed = [];
  box.add({ conv: "c", cmid: "A", kind: "text", body: {}, mentions: [] }, assert.fail, (e) => failed.push(e.message));
  box.failAll(new Error("closed"));
  assert.deepEqual(failed, ["closed"]);
  assert.equal(box.size, 0);
});

test("streams: deliver in order, drop duplicates, hold a gap until it is filled", () => {
  const s = new Streams([{ conv: "c", seq: 2, epoch: "e" }]);
  assert.deepEqual(s.onMessage(msg("c", 2)).deliver, []); // duplicate
  assert.deepEqual(s.onMessage(msg("c", 3)).deliver.map((m) => m.seq), [3]);
  const gap = s.onMessage(msg("c", 5));
  assert.deepEqual(gap, { deliver: [], syncNeeded: true });
  assert.equal(s.onMessage(msg("c", 6)).syncNeeded, false); // the same gap
  assert.deepEqual(s.held("c"), [5, 6]);
  assert.deepEqual(s.onMessage(msg("c", 4)).deliver.map((m) => m.seq), [4, 5, 6]);
  assert.deepEqual(s.positions(), [{ conv: "c", seq: 6, epoch: "e" }]);
});

test("streams: synced resets, forgets and learns conversations", () => {
  const s = new Streams([{ conv: "a", seq: 5, epoch: "e1" }, { conv: "gone", seq: 1, epoch: "e" }]);
  const out = s.onSynced(
    {
      t: "synced",
      id: 1,
      next: "",
      convs: [
        { conv: "a", last_seq: 2, epoch: "e2", more: false, reset: true },
        { conv: "gone", last_seq: 0, epoch: "", more: false, reset: true },
        { conv: "new", last_seq: 4, epoch: "e", more: false, reset: false },
      ],
    },
    ["a", "gone"],
  );
  assert.deepEqual(out.resets.map((r) => r.conv), ["a", "gone"]);
  assert.deepEqual(s.positions(), [{ conv: "a", seq: 2, epoch: "e2" }, { conv: "new", seq: 0, epoch: "e" }]);
  assert.deepEqual([...out.again], ["new"]); // after the baseline an unknown conversation is fetched whole
});

/**
 * A fake server for catchUp: `streams` of messages per conversation, answering `sync` like the real one.
 * @param {Streams} streams
 * @param {Record<string, number[]>} have seqs the server can send per conversation
 * @param {number} limit messages per conversation per round
 */
function fakeSync(streams, have, limit) {
  /** @type {import("../src/schema.js").Message[]} */
  const delivered = [];
  let rounds = 0;
  const hooks = {
    /** @param {import("../src/schema.js").Position[]} positions */
    sync: async (positions) => {
      rounds += 1;
      const convs = positions.map((p) => {
        const last = Math.max(...have[p.conv]);
        const send = have[p.conv].filter((s) => s > p.seq).slice(0, limit);
        for (const seq of send) for (const m of streams.onMessage(msg(p.conv, seq)).deliver) delivered.push(m);
        return { conv: p.conv, last_seq: last, epoch: "e", more: send.length === limit && send.at(-1) !== last, reset: false };
      });
      return { t: /** @type {const} */ ("synced"), id: rounds, convs, next: "" };
    },
    /** @param {import("../src/schema.js").Message[]} ms */
    deliver: (ms) => delivered.push(...ms),
    reset: () => assert.fail("no reset expected"),
  };
  return { hooks, delivered, rounds: () => rounds };
}

test("catch-up: several rounds until the backlog is in, each message once and in order", async () => {
  const streams = new Streams([{ conv: "c", seq: 0, epoch: "e" }]);
  streams.baseline = true;
  const fake = fakeSync(streams, { c: Array.from({ length: 25 }, (_, i) => i + 1) }, 10);
  await catchUp(streams, null, fake.hooks);
  assert.deepEqual(fake.delivered.map((m) => m.seq), Array.from({ length: 25 }, (_, i) => i + 1));
  assert.equal(fake.rounds(), 3);
});

test("catch-up: a gap the server cannot fill is skipped after MAX_FRUITLESS rounds", async () => {
  const streams = new Streams([{ conv: "c", seq: 1, epoch: "e" }]);
  streams.onMessage(msg("c", 5)); // held behind a gap the server lost (2..4)
  const fake = fakeSync(streams, { c: [1, 5] }, 10);
  await catchUp(streams, new Set(["c"]), fake.hooks);
  assert.equal(fake.rounds(), MAX_FRUITLESS);
  assert.deepEqual(fake.delivered.map((m) => m.seq), [5]);
  assert.equal(streams.position("c"), 5);
});
