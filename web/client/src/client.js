/**
 * @module client
 * {@link ParleyClient}: the protocol's requests as typed methods on top of the
 * {@link Session} (connect, resume, reconnect, outbox), and its events.
 *
 * Events (listen with `client.on(type, fn)` or `addEventListener`, detail in `event.detail`):
 * - `message` — a message in order and exactly once per (conv, seq): pushed, replayed by
 *   `sync`, or your own send once acked. `edit`/`recall` records come through too (apply
 *   them to `body.target`).
 * - one event per pushed frame type, with the frame: `receipt`, `typing_event`,
 *   `draft_event`, `presence`, `conv_event`, `support_queue_event` (agents), `resync`, `bye`, and `error` for a
 *   connection-level error frame or an undecodable frame (`{code, message, action}`).
 * - `state` — `{state, previous, code?, reason?, error?}` on every connection state change.
 * - `welcome` — each `welcome` (after every reconnect); `reset` — a conversation's stream
 *   was reset by `sync` (`{conv, last_seq, epoch}`): drop local copies, refetch with history.
 */
import { encodeFrame } from "./codec.js";
import { Session } from "./session.js";

/** @typedef {import("./schema.js").Message} Message */

/**
 * What each event carries.
 * @typedef {object} ClientEvents
 * @property {Message} message
 * @property {import("./schema.js").ReceiptFrame} receipt
 * @property {import("./schema.js").TypingEventFrame} typing_event
 * @property {import("./schema.js").DraftEventFrame} draft_event
 * @property {import("./schema.js").PresenceFrame} presence
 * @property {import("./schema.js").ConvEventFrame} conv_event
 * @property {import("./schema.js").SupportQueueEventFrame} support_queue_event
 * @property {import("./schema.js").ResyncFrame} resync
 * @property {import("./schema.js").ByeFrame} bye
 * @property {import("./schema.js").ErrorFrame} error
 * @property {import("./schema.js").WelcomeFrame} welcome
 * @property {import("./schema.js").SyncState} reset
 * @property {{state: string, previous: string, code?: number | null, reason?: string, error?: Error}} state
 */

/**
 * A fresh client message id: 32 hex digits from the platform's secure random source
 * (works on plain http pages too, where `crypto.randomUUID` is missing).
 * @returns {string}
 */
export function newCmid() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * For requests that change state and are not safe to repeat (like the Python SDK): if the
 * connection drops before the reply they reject with `ConnectionLost` instead of being resent.
 */
const ONCE = { idempotent: false };

export class ParleyClient extends Session {
  /**
   * Listen to one kind of event; returns a function that stops listening.
   * @template {keyof ClientEvents} K
   * @param {K} type
   * @param {(detail: ClientEvents[K]) => void} listener
   * @returns {() => void}
   */
  on(type, listener) {
    /** @param {Event} event */
    const handler = (event) => listener(/** @type {CustomEvent} */ (event).detail);
    this.addEventListener(type, handler);
    return () => this.removeEventListener(type, handler);
  }

  // ----------------------------------------------------------------- messages

  /**
   * Send a message; resolves with its `ack` once stored. Survives reconnects: the
   * send is resent with the same `cmid` until acked, and stored exactly once. It has no
   * timeout (an outbox outlives an offline spell); it rejects on a refusal (`ReplyError`
   * with action `fatal`) or when the client closes (`ClientClosed`).
   * @param {string} conv
   * @param {Record<string, any>} body e.g. `{text: "hi"}`
   * @param {{kind?: "text" | "rich" | "custom", mentions?: string[], cmid?: string}} [options]
   *   `cmid`: your idempotency key (the draft id when finishing a draft)
   * @returns {Promise<import("./schema.js").AckFrame>}
   */
  send(conv, body, { kind = "text", mentions = [], cmid = newCmid() } = {}) {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      // a frame the server would refuse is refused now, not queued (FrameError invalid_frame)
      encodeFrame({ t: "send", id: 0, conv, cmid, body, kind, mentions });
      const entry = this.outbox.add({ conv, cmid, kind, body, mentions }, resolve, reject);
      if (this.ready && this.socket) this.transmit(this.socket, entry);
    });
  }

  /**
   * Replace the body of your message `seq` (answered with the `ack` of the `edit` record).
   * @param {string} conv
   * @param {number} seq
   * @param {Record<string, any>} body
   * @returns {Promise<import("./schema.js").AckFrame>}
   */
  edit(conv, seq, body) {
    return this.request({ t: "edit", conv, seq, body }, ONCE);
  }

  /**
   * Recall message `seq` (yours, or any as the conversation's owner/admin).
   * @param {string} conv
   * @param {number} seq
   * @returns {Promise<import("./schema.js").AckFrame>}
   */
  recall(conv, seq) {
    return this.request({ t: "recall", conv, seq }, ONCE);
  }

  /**
   * Move your read position to `seq` (members get a `receipt`).
   * @param {string} conv
   * @param {number} seq
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  read(conv, seq) {
    return this.request({ t: "read", conv, seq });
  }

  /**
   * A page of history in ascending seq: the newest `limit`, or `before`/`after` a seq.
   * @param {string} conv
   * @param {{before?: number, after?: number, limit?: number}} [range]
   * @returns {Promise<import("./schema.js").PageFrame>}
   */
  history(conv, range = {}) {
    return this.request({ t: "history", conv, ...range });
  }

  /**
   * Tell members you started (or stopped) typing; false if not connected (dropped).
   * @param {string} conv
   * @param {boolean} [on]
   */
  typing(conv, on = true) {
    return this.write({ t: "typing", conv, on });
  }

  /**
   * Stream a message as it grows (the whole text so far each time); finish with
   * `send(conv, body, {cmid: draft})`, or `done: true` to abandon it.
   * @param {string} conv
   * @param {string} draft the draft id
   * @param {Record<string, any>} body
   * @param {boolean} [done]
   */
  draft(conv, draft, body, done = false) {
    return this.write({ t: "draft", conv, draft, body, done });
  }

  /**
   * Record an audience event of this user (`event` declared in the app's audience schema).
   * `eid` is the idempotency key (a random one by default), kept across the retries of this
   * call, so an event re-sent after a reconnect is stored once (`dup` in the reply).
   * @param {string} event
   * @param {Record<string, any>} [props]
   * @param {{ts?: number, eid?: string}} [options] `ts`: ms since the epoch (default: the server's now)
   * @returns {Promise<import("./schema.js").TrackResultFrame>}
   */
  track(event, props = {}, { ts = 0, eid = `e_${newCmid().slice(0, 24)}` } = {}) {
    return this.request({ t: "track", event, props, ts, eid });
  }

  // ------------------------------------------------------------ conversations

  /**
   * Create a conversation (`direct` returns the existing one for the pair).
   * @param {{kind: "direct" | "group" | "support", members?: string[], name?: string, meta?: Record<string, any>}} spec
   * @returns {Promise<import("./schema.js").ConvResultFrame>}
   */
  async convCreate(spec) {
    const reply = await this.request({ t: "conv_create", ...spec }, { idempotent: spec.kind === "direct" });
    this.streams.track(reply.conv.conv, reply.conv.last_seq, reply.conv.epoch);
    return reply;
  }

  /**
   * One conversation with its members.
   * @param {string} conv
   * @returns {Promise<import("./schema.js").ConvResultFrame>}
   */
  convGet(conv) {
    return this.request({ t: "conv_get", conv });
  }

  /**
   * A page of your conversations in id order (`more`: ask again with `after` = the last id).
   * @param {{after?: string, limit?: number}} [page]
   * @returns {Promise<import("./schema.js").ConvListResultFrame>}
   */
  convList(page = {}) {
    return this.request({ t: "conv_list", ...page });
  }

  /**
   * Change a conversation's name and/or meta.
   * @param {string} conv
   * @param {{name?: string, meta?: Record<string, any>}} change
   * @returns {Promise<import("./schema.js").ConvResultFrame>}
   */
  convUpdate(conv, change) {
    return this.request({ t: "conv_update", conv, ...change });
  }

  /**
   * @param {string} conv
   * @param {string[]} users
   * @param {"owner" | "admin" | "member"} [role]
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  memberAdd(conv, users, role = "member") {
    return this.request({ t: "member_add", conv, users, role });
  }

  /**
   * @param {string} conv
   * @param {string[]} users
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  memberRemove(conv, users) {
    return this.request({ t: "member_remove", conv, users });
  }

  /**
   * @param {string} conv
   * @param {string} user
   * @param {"owner" | "admin" | "member"} role
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  memberRole(conv, user, role) {
    return this.request({ t: "member_role", conv, user, role });
  }

  /**
   * @param {string} conv
   * @param {{after?: string, limit?: number}} [page]
   * @returns {Promise<import("./schema.js").MemberPageFrame>}
   */
  memberList(conv, page = {}) {
    return this.request({ t: "member_list", conv, ...page });
  }

  /**
   * Leave a conversation (not a direct one).
   * @param {string} conv
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  async leave(conv) {
    const reply = await this.request({ t: "leave", conv });
    this.streams.forget(conv);
    return reply;
  }

  // ----------------------------------------------------------------- presence

  /**
   * Watch users' presence (kept across reconnects); their current state arrives as `presence` events.
   * @param {string[]} users
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  async presenceSub(users) {
    const reply = await this.request({ t: "presence_sub", users });
    for (const u of users) this.presence.add(u);
    return reply;
  }

  /**
   * @param {string[]} users
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  async presenceUnsub(users) {
    for (const u of users) this.presence.delete(u);
    return this.request({ t: "presence_unsub", users });
  }

  // ------------------------------------------------------------------ support

  /**
   * Agents: the conversations waiting for an agent (oldest first) and your own.
   * @returns {Promise<import("./schema.js").SupportListFrame>}
   */
  supportQueue() {
    return this.request({ t: "support_queue" });
  }

  /**
   * Ask for a human (the bot or the customer).
   * @param {string} conv
   * @param {{reason?: string, summary?: string}} [why]
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  supportHandoff(conv, why = {}) {
    return this.request({ t: "support_handoff", conv, ...why }, ONCE);
  }

  /**
   * Agents: take a waiting (or bot-handled) conversation; the reply is the conversation
   * (of two agents claiming at once exactly one wins, the other gets an error).
   * @param {string} conv
   * @returns {Promise<import("./schema.js").ConvResultFrame>}
   */
  supportClaim(conv) {
    return this.request({ t: "support_claim", conv }, ONCE);
  }

  /**
   * Hand your conversation to another agent.
   * @param {string} conv
   * @param {string} agent
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  supportTransfer(conv, agent) {
    return this.request({ t: "support_transfer", conv, agent }, ONCE);
  }

  /**
   * Hand your conversation back to the bot.
   * @param {string} conv
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  supportRelease(conv) {
    return this.request({ t: "support_release", conv }, ONCE);
  }

  /**
   * Mark the conversation resolved (the customer is asked for a score).
   * @param {string} conv
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  supportResolve(conv) {
    return this.request({ t: "support_resolve", conv }, ONCE);
  }

  /**
   * The customer's satisfaction score (1…5) for a resolved conversation.
   * @param {string} conv
   * @param {number} score
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  supportRate(conv, score) {
    return this.request({ t: "support_rate", conv, score }, ONCE);
  }

  /**
   * An internal note: agents see it, the customer never does (the reply is the `ack`
   * of the note in the ticket's agents-only notes conversation).
   * @param {string} conv
   * @param {string} text
   * @returns {Promise<import("./schema.js").AckFrame>}
   */
  supportNote(conv, text) {
    return this.request({ t: "support_note", conv, text }, ONCE);
  }

  /**
   * Agents and bots: a customer's profile and tags.
   * @param {string} user
   * @returns {Promise<import("./schema.js").ProfileResultFrame>}
   */
  profileGet(user) {
    return this.request({ t: "profile_get", user });
  }

  /**
   * Agents and bots: add and remove tags, set attributes.
   * @param {string} user
   * @param {{add?: Array<{name: string, confidence?: number, ttl?: number, evidence?: string}>, remove?: string[], source?: string, attributes?: Record<string, any>}} change
   * @returns {Promise<import("./schema.js").OkFrame>}
   */
  profileTag(user, change) {
    return this.request({ t: "profile_tag", user, ...change });
  }
}
