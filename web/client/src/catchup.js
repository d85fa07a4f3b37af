/**
 * @module catchup
 * Catching up with `sync` (mirrors `sdk/catchup.py`): one run sends `sync`
 * pages until every conversation asked for is complete. Each `synced` page is
 * merged through {@link Streams}; resets are reported; messages now in order are
 * delivered. A conversation whose gap the server does not fill in
 * {@link MAX_FRUITLESS} rounds is given up on (its held messages are delivered
 * past the gap), and one run sends at most {@link MAX_SYNC_ROUNDS} rounds, so a
 * confused server can never keep a client syncing forever.
 */

/** Most sync rounds one catch-up sends before it stops. */
export const MAX_SYNC_ROUNDS = 1000;
/** Rounds in a row a conversation's position may stay put before its gap is skipped. */
export const MAX_FRUITLESS = 3;

/**
 * @typedef {object} CatchUpHooks
 * @property {(positions: import("./schema.js").Position[], after: string) => Promise<import("./schema.js").SyncedFrame>} sync
 *   send one `sync` and wait for its `synced` (the `msg` frames before it go through the streams)
 * @property {(messages: import("./schema.js").Message[]) => void} deliver
 * @property {(state: import("./schema.js").SyncState) => void} reset
 */

/**
 * Sync `convs` (every tracked conversation when null) until none needs more.
 * @param {import("./streams.js").Streams} streams
 * @param {Set<string> | null} convs
 * @param {CatchUpHooks} hooks
 */
export async function catchUp(streams, convs, hooks) {
  /** @type {Map<string, number>} */
  const fruitless = new Map();
  for (let round = 0; round < MAX_SYNC_ROUNDS; round++) {
    const positions = streams.positions(convs ?? undefined);
    if (convs !== null && !positions.length) return;
    const before = new Map(positions.map((p) => [p.conv, p.seq]));
    /** @type {Set<string>} */
    const again = new Set();
    let after = "";
    for (;;) {
      // one page of conversations per reply; `next` says where the next page starts
      const synced = await hooks.sync(positions.filter((p) => p.conv > after), after);
      const outcome = streams.onSynced(synced, before.keys());
      for (const state of outcome.resets) hooks.reset(state);
      hooks.deliver(outcome.deliver);
      for (const conv of outcome.again) again.add(conv);
      if (!synced.next || synced.next <= after) break;
      after = synced.next;
    }
    streams.baseline = true;
    for (const conv of [...again]) {
      if (before.has(conv) && streams.position(conv) === before.get(conv)) {
        const n = (fruitless.get(conv) ?? 0) + 1;
        fruitless.set(conv, n);
        if (n >= MAX_FRUITLESS) {
          hooks.deliver(streams.skipGap(conv)); // the server cannot fill it: do not wait forever
          again.delete(conv);
        }
      }
    }
    if (!again.size) return;
    convs = again;
  }
}
