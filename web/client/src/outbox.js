/**
 * @module outbox
 * Sends that the server has not acknowledged yet (mirrors `sdk/outbox.py`).
 *
 * An entry lives from `send()` until its `ack` (or a fatal error). If the
 * connection drops in between, the client resends every entry on the next
 * connection, in first-send order, with the SAME `cmid`: the server stores a
 * message once per (conversation, sender, cmid) and answers a resend with the
 * original ack (`dup: true`), so a send survives reconnects and is stored once.
 * Pure bookkeeping: the client drives the transmissions.
 */

/**
 * @typedef {object} OutboxEntry
 * @property {string} conv
 * @property {string} cmid
 * @property {"text" | "rich" | "custom"} kind
 * @property {Record<string, any>} body
 * @property {string[]} mentions
 * @property {number | null} requestId id of the latest transmission; null while off the wire
 * @property {number} attempts transmissions answered by a temporary error so far
 * @property {(ack: import("./schema.js").AckFrame) => void} resolve
 * @property {(error: Error) => void} reject
 */

export class Outbox {
  constructor() {
    /** @type {Map<string, OutboxEntry>} by cmid, in first-send order */
    this.entries = new Map();
    /** @type {Map<number, OutboxEntry>} by the request id of the transmission on the wire */
    this.byRequest = new Map();
  }

  /** Number of pending sends. */
  get size() {
    return this.entries.size;
  }

  /**
   * Queue a send. A cmid may be pending only once.
   * @param {{conv: string, cmid: string, kind: "text" | "rich" | "custom", body: Record<string, any>, mentions: string[]}} send
   * @param {(ack: import("./schema.js").AckFrame) => void} resolve
   * @param {(error: Error) => void} reject
   * @returns {OutboxEntry}
   */
  add(send, resolve, reject) {
    if (this.entries.has(send.cmid)) throw new Error(`a send with cmid ${send.cmid} is already pending`);
    /** @type {OutboxEntry} */
    const entry = { ...send, mentions: [...send.mentions], requestId: null, attempts: 0, resolve, reject };
    this.entries.set(send.cmid, entry);
    return entry;
  }

  /**
   * The `send` frame for one transmission of `entry` as request `requestId` (recorded).
   * @param {OutboxEntry} entry
   * @param {number} requestId
   * @returns {import("./schema.js").SendFrame}
   */
  transmit(entry, requestId) {
    this.detach(entry);
    entry.requestId = requestId;
    this.byRequest.set(requestId, entry);
    const { conv, cmid, kind, body, mentions } = entry;
    return { t: "send", id: requestId, conv, cmid, body, kind, mentions };
  }

  /**
   * Whether `requestId` is a transmission of a pending send.
   * @param {number | null} requestId
   */
  owns(requestId) {
    return requestId !== null && this.byRequest.has(requestId);
  }

  /**
   * Complete the send an ack answers (matched by cmid, else by request id).
   * A second ack for a send already completed (a resend's `dup`) finds nothing.
   * @param {import("./schema.js").AckFrame} ack
   * @returns {OutboxEntry | null} the completed send
   */
  ack(ack) {
    let entry = this.entries.get(ack.cmid);
    if (!entry || entry.conv !== ack.conv) entry = this.byRequest.get(ack.id);
    if (!entry) return null;
    this.remove(entry);
    entry.resolve(ack);
    return entry;
  }

  /**
   * The pending send an error with this request id answers (detached from the wire), or null.
   * @param {number | null} requestId
   * @returns {OutboxEntry | null}
   */
  answered(requestId) {
    const entry = requestId === null ? undefined : this.byRequest.get(requestId);
    if (!entry) return null;
    this.detach(entry);
    return entry;
  }

  /**
   * Drop `entry` for good (acked, or failed with a fatal error).
   * @param {OutboxEntry} entry
   */
  remove(entry) {
    this.detach(entry);
    if (this.entries.get(entry.cmid) === entry) this.entries.delete(entry.cmid);
  }

  /** The connection dropped: every entry is off the wire and will be resent. */
  connectionLost() {
    for (const entry of this.byRequest.values()) entry.requestId = null;
    this.byRequest.clear();
  }

  /**
   * Entries to (re)send on a fresh connection, in first-send order.
   * @returns {OutboxEntry[]}
   */
  resendable() {
    return [...this.entries.values()].filter((e) => e.requestId === null);
  }

  /**
   * Fail every pending send (the client is closing for good).
   * @param {Error} error
   */
  failAll(error) {
    const all = [...this.entries.values()];
    this.entries.clear();
    this.byRequest.clear();
    for (const entry of all) entry.reject(error);
  }

  /** @param {OutboxEntry} entry */
  detach(entry) {
    if (entry.requestId !== null && this.byRequest.get(entry.requestId) === entry) this.byRequest.delete(entry.requestId);
    entry.requestId = null;
  }
}
