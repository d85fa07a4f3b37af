/**
 * @module streams
 * Exactly-once, in-order delivery of messages per conversation (pure logic;
 * mirrors `proto/positions.py` and `sdk/streams.py`).
 *
 * Per conversation the client keeps the last contiguous seq it delivered and the
 * stream epoch. Each incoming message is classified: deliver it (the next seq),
 * drop it (at or below the position: a duplicate) or hold it back (beyond the
 * next seq: a gap, to be refilled with `sync`). When a sync closes the gap the
 * held messages are released in order. The client performs the syncs; this
 * module only decides.
 */

/** @typedef {import("./schema.js").Message} Message */
/** @typedef {import("./schema.js").Position} Position */
/** @typedef {import("./schema.js").SyncedFrame} SyncedFrame */
/** @typedef {import("./schema.js").SyncState} SyncState */

/**
 * What a `synced` reply means for the app and for the next sync round.
 * @typedef {object} SyncOutcome
 * @property {Message[]} deliver messages released because the sync closed a gap, in order
 * @property {SyncState[]} resets conversations whose stream was reset (refetch with history)
 * @property {Set<string>} again conversations to sync again from their new position
 */

export class Streams {
  /**
   * @param {Iterable<Position>} [positions] where a previous session stood (e.g. from storage)
   */
  constructor(positions = []) {
    /** @type {Map<string, number>} last contiguous seq delivered, per conversation */
    this.seqs = new Map();
    /** @type {Map<string, string>} stream epoch, per conversation */
    this.epochs = new Map();
    /** @type {Map<string, Map<number, Message>>} messages held behind a gap */
    this.heldBack = new Map();
    /** False until the first sync completes: a first-ever session starts at the server's positions. */
    this.baseline = false;
    /** While true (a reconnect's sync), messages of unknown conversations count from seq 0. */
    this.strict = false;
    for (const p of positions) {
      this.reset(p.conv, p.seq, p.epoch ?? "");
      this.baseline = true;
    }
  }

  /**
   * Last contiguous seq delivered for `conv` (undefined if untracked).
   * @param {string} conv
   */
  position(conv) {
    return this.seqs.get(conv);
  }

  /**
   * Positions to put in a `sync` (all tracked conversations when `convs` is omitted).
   * @param {Iterable<string>} [convs]
   * @returns {Position[]}
   */
  positions(convs) {
    const names = convs === undefined ? [...this.seqs.keys()] : [...convs].filter((c) => this.seqs.has(c));
    return names.map((conv) => ({ conv, seq: /** @type {number} */ (this.seqs.get(conv)), epoch: this.epochs.get(conv) ?? "" }));
  }

  /**
   * Seqs held back for `conv` waiting for a gap to fill (sorted).
   * @param {string} conv
   * @returns {number[]}
   */
  held(conv) {
    return [...(this.heldBack.get(conv)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /**
   * Classify message `seq` of `conv` without changing state.
   * @param {string} conv
   * @param {number} seq
   * @returns {"deliver" | "duplicate" | "gap"}
   */
  classify(conv, seq) {
    const last = this.seqs.get(conv);
    if (last === undefined || seq === last + 1) return "deliver";
    return seq <= last ? "duplicate" : "gap";
  }

  /**
   * Merge one incoming message.
   * @param {Message} m
   * @returns {{deliver: Message[], syncNeeded: boolean}} messages to deliver now; whether a new gap opened
   */
  onMessage(m) {
    if (this.strict && !this.seqs.has(m.conv)) this.seqs.set(m.conv, 0);
    const verdict = this.classify(m.conv, m.seq);
    if (verdict === "duplicate") return { deliver: [], syncNeeded: false };
    if (verdict === "gap") {
      let held = this.heldBack.get(m.conv);
      const fresh = !held;
      if (!held) this.heldBack.set(m.conv, (held = new Map()));
      held.set(m.seq, m);
      return { deliver: [], syncNeeded: fresh };
    }
    this.seqs.set(m.conv, Math.max(m.seq, this.seqs.get(m.conv) ?? 0));
    return { deliver: [m, ...this.drain(m.conv)], syncNeeded: false };
  }

  /**
   * Apply a `synced` reply to a sync that listed the conversations `listed`.
   * @param {SyncedFrame} synced
   * @param {Iterable<string>} listed
   * @returns {SyncOutcome}
   */
  onSynced(synced, listed) {
    const asked = new Set(listed);
    /** @type {SyncOutcome} */
    const out = { deliver: [], resets: [], again: new Set() };
    for (const s of synced.convs) {
      if (s.reset) {
        out.resets.push(s);
        if (!s.epoch) {
          this.forget(s.conv); // gone, or the user left it
          continue;
        }
        this.reset(s.conv, s.last_seq, s.epoch);
      } else if (asked.has(s.conv)) {
        this.epochs.set(s.conv, s.epoch);
        if (s.more || (this.seqs.get(s.conv) ?? 0) < s.last_seq) out.again.add(s.conv);
      } else if (!this.seqs.has(s.conv)) {
        // A conversation the client did not know: after the baseline, fetch it all.
        if (this.baseline) {
          this.reset(s.conv, 0, s.epoch);
          if (s.last_seq > 0) out.again.add(s.conv);
        } else {
          this.reset(s.conv, s.last_seq, s.epoch);
        }
      } else if (!this.epochs.get(s.conv)) {
        this.epochs.set(s.conv, s.epoch);
      }
      out.deliver.push(...this.drain(s.conv));
      if (this.heldBack.get(s.conv)?.size) out.again.add(s.conv);
    }
    return out;
  }

  /**
   * Learn of `conv` (joined, created): start at `lastSeq` unless already tracked.
   * @param {string} conv
   * @param {number} lastSeq
   * @param {string} epoch
   */
  track(conv, lastSeq, epoch) {
    if (!this.seqs.has(conv)) this.reset(conv, lastSeq, epoch);
    else if (!this.epochs.get(conv)) this.epochs.set(conv, epoch);
  }

  /**
   * Start tracking `conv` afresh at `seq` in stream `epoch`.
   * @param {string} conv
   * @param {number} seq
   * @param {string} epoch
   */
  reset(conv, seq, epoch) {
    this.seqs.set(conv, seq);
    this.epochs.set(conv, epoch);
  }

  /**
   * Give up on a gap the server cannot fill: jump to the first held message.
   * @param {string} conv
   * @returns {Message[]}
   */
  skipGap(conv) {
    const held = this.held(conv);
    if (!held.length) return [];
    this.seqs.set(conv, held[0] - 1);
    return this.drain(conv);
  }

  /**
   * Stop tracking `conv` (the user left it, or it is gone).
   * @param {string} conv
   */
  forget(conv) {
    this.seqs.delete(conv);
    this.epochs.delete(conv);
    this.heldBack.delete(conv);
  }

  /**
   * Release the held messages of `conv` that are now in order.
   * @param {string} conv
   * @returns {Message[]}
   */
  drain(conv) {
    const held = this.heldBack.get(conv);
    if (!held) return [];
    let pos = this.seqs.get(conv) ?? 0;
    for (const seq of [...held.keys()]) if (seq <= pos) held.delete(seq);
    const out = [];
    while (held.has(pos + 1)) {
      pos += 1;
      out.push(/** @type {Message} */ (held.get(pos)));
      held.delete(pos);
    }
    if (out.length) this.seqs.set(conv, Math.max(pos, this.seqs.get(conv) ?? 0));
    if (!held.size) this.heldBack.delete(conv);
    return out;
  }
}
