/**
 * @module @parley/client
 * A small client of Parley's WebSocket protocol for browsers (and node):
 * `new ParleyClient({url, token})`, `await client.connect()`, then send,
 * history, typing, drafts, receipts, presence and the support desk's frames;
 * messages arrive once and in order as `message` events across reconnects.
 * See README.md.
 */
export { ParleyClient, newCmid } from "./client.js";
export { Session, tokenExpiry } from "./session.js";
export { OWN_GAP_GRACE_MS } from "./router.js";
export { Requests } from "./requests.js";
export { Backoff } from "./backoff.js";
export { Outbox } from "./outbox.js";
export { Streams } from "./streams.js";
export { catchUp, MAX_FRUITLESS, MAX_SYNC_ROUNDS } from "./catchup.js";
export { decodeFrame, decodeClientFrame, encodeFrame, FrameError, DEFAULT_MAX_FRAME, MAX_DEPTH } from "./codec.js";
export { actionFor, ClientClosed, ConnectionLost, ReplyError, RequestTimeout } from "./errors.js";
export { PROTOCOL_VERSION } from "./schema.js";
