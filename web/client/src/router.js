/**
 * @module router
 * Where each frame from the server goes (mirrors `sdk/router.py`): a reply completes its
 * request, an `ack`/`error` for a send completes or retries the outbox entry, a pushed frame
 * updates what the session tracks (streams, gaps to sync, `bye`'s delay, a token to refresh)
 * and is published as an event of its type; messages go through the streams, so each is
 * delivered once and in order.
 */
import { ReplyError } from "./errors.js";

/** @typedef {import("./session.js").Session} Session */

/** Milliseconds an own message (known from its ack) may wait for earlier ones before its gap is synced. */
export const OWN_GAP_GRACE_MS = 500;

/**
 * Handle one decoded frame: a reply to its request or send, or a pushed frame.
 * @param {Session} s
 * @param {import("./schema.js").ServerFrame} frame
 */
export function route(s, frame) {
  if (frame.t === "ack" && s.outbox.owns(frame.id)) return acked(s, frame);
  if (frame.t === "error" && frame.id !== null && s.outbox.owns(frame.id)) return sendRefused(s, frame);
  const id = "id" in frame ? frame.id : null;
  if (id !== null && id !== undefined && frame.t !== "pong") {
    const waiter = s.pending.get(id);
    if (waiter) {
      s.pending.delete(id);
      if (frame.t === "error") waiter.reject(new ReplyError(frame.code, frame.message, frame.action));
      else waiter.resolve(frame);
    }
    return;
  }
  pushed(s, frame);
}

/**
 * A frame the server pushed (no request id): update what the session tracks, then publish it.
 * @param {Session} s
 * @param {import("./schema.js").ServerFrame} frame
 */
function pushed(s, frame) {
  switch (frame.t) {
    case "msg":
      return merge(s, frame.m, false);
    case "conv_event":
      if (frame.event === "left") s.streams.forget(frame.conv.conv);
      else s.streams.track(frame.conv.conv, frame.conv.last_seq, frame.conv.epoch);
      break;
    case "resync":
      for (const conv of frame.convs.length ? frame.convs : [...s.streams.seqs.keys()]) s.want(conv);
      break;
    case "bye":
      s.byeMs = frame.reconnect_ms;
      break;
    case "error":
      if (frame.code === "token_expired" || frame.code === "token_revoked") s.refresh = true;
      break;
  }
  if (frame.t !== "pong") s.emit(frame.t, frame);
}

/**
 * Merge a message into its stream; deliver what is now in order, sync a new gap.
 * @param {Session} s
 * @param {import("./schema.js").Message} m
 * @param {boolean} own built from our own send's ack (it may overtake others' messages)
 */
function merge(s, m, own) {
  const { deliver, syncNeeded } = s.streams.onMessage(m);
  s.deliver(deliver);
  if (!syncNeeded) return;
  if (!own) return s.want(m.conv);
  s.later(() => {
    if (s.streams.held(m.conv).length) s.want(m.conv);
  }, s.options.ownGapGraceMs ?? OWN_GAP_GRACE_MS);
}

/**
 * A send is stored: complete it and merge the message it made (the server does not echo it).
 * @param {Session} s
 * @param {import("./schema.js").AckFrame} ack
 */
function acked(s, ack) {
  const entry = s.outbox.ack(ack);
  if (!entry) return;
  const { conv, cmid, kind, mentions } = entry;
  const body = ack.body ?? entry.body;
  merge(s, { conv, seq: ack.seq, mid: ack.mid, sender: s.user, kind, body, ts: ack.ts, cmid, mentions, edited: 0, recalled: false }, true);
}

/**
 * A send was refused: fail it (fatal), reconnect (reconnect) or resend it after a backoff (retry).
 * @param {Session} s
 * @param {import("./schema.js").ErrorFrame} error
 */
function sendRefused(s, error) {
  const entry = s.outbox.answered(error.id);
  if (!entry) return;
  const reply = new ReplyError(error.code, error.message, error.action);
  if (reply.action === "fatal") {
    s.outbox.remove(entry);
    return entry.reject(reply);
  }
  if (reply.action === "reconnect") return s.reconnectNow(); // resent after the resume
  entry.attempts += 1; // temporary: resend after a backoff, unless a reconnect resends it first
  s.later(() => {
    if (s.outbox.entries.get(entry.cmid) === entry && entry.requestId === null && s.ready && s.socket) {
      s.transmit(s.socket, entry);
    }
  }, s.backoff.delay(entry.attempts - 1) * 1000);
}
