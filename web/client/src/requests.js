/**
 * @module requests
 * The request side of a session: request ids, replies matched to their requests, bounded
 * waits, frames that fit the server's `max_frame`, and the client's own timers (cleared when
 * it closes, so a closed client keeps nothing alive). {@link Session} builds the connection
 * lifecycle on top of it.
 */
import { encodeFrame, FrameError } from "./codec.js";
import { ConnectionLost, RequestTimeout } from "./errors.js";
import { Outbox } from "./outbox.js";

/** @typedef {import("./socket.js").Socket} Socket */

export class Requests extends EventTarget {
  /** @param {{requestTimeoutMs: number}} options */
  constructor(options) {
    super();
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.outbox = new Outbox();
    /** @type {import("./schema.js").WelcomeFrame | null} the latest `welcome` */
    this.welcome = null;
    /** @type {Socket | null} the current WebSocket (also while resuming) */
    this.socket = null;
    /** True once the current socket is resumed: new requests may go out. */
    this.ready = false;
    /** @type {import("./errors.js").ClientClosed | null} set when the client is closed for good */
    this.closedError = null;
    /** @type {Map<number, {resolve: (f: any) => void, reject: (e: Error) => void}>} requests awaiting replies */
    this.pending = new Map();
    this.nextId = 1;
    /** @type {Set<() => void>} waiters for ready/closed */
    this.waiters = new Set();
    /** @type {Set<ReturnType<typeof setTimeout>>} one-shot timers, cleared when the client closes */
    this.timers = new Set();
  }

  /**
   * Publish `detail` as a CustomEvent of `type`.
   * @param {string} type
   * @param {any} [detail]
   */
  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  /**
   * Run `fn` after `ms` unless the client closes first.
   * @param {() => void} fn
   * @param {number} ms
   */
  later(fn, ms) {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  notify() {
    for (const wake of [...this.waiters]) wake();
  }

  /** Wait until connected; rejects once closed for good. */
  async whenReady() {
    while (!(this.ready && this.socket)) {
      if (this.closedError) throw this.closedError;
      await new Promise((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          resolve(undefined);
        };
        this.waiters.add(wake);
      });
    }
    return this.socket;
  }

  /**
   * Send a request on `socket` and wait for its reply (an `error` rejects with {@link ReplyError}).
   * @param {Socket} socket
   * @param {Record<string, any> & {t: string}} frame without `id`
   * @returns {Promise<any>}
   */
  requestOn(socket, frame) {
    const id = this.nextId++;
    const ms = this.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RequestTimeout(ms));
      }, ms);
      const done = (/** @type {Function} */ fn) => (/** @type {any} */ v) => {
        clearTimeout(timer);
        fn(v);
      };
      this.pending.set(id, { resolve: done(resolve), reject: done(reject) });
      /** @type {Uint8Array} */
      let bytes;
      try {
        bytes = this.sized(encodeFrame({ ...frame, id }));
      } catch (exc) {
        this.pending.delete(id);
        return done(reject)(exc);
      }
      if (!socket.send(bytes)) {
        this.pending.delete(id);
        done(reject)(new ConnectionLost("connection lost before the request went out"));
      }
    });
  }

  /**
   * Send a request once connected and return its reply. An idempotent request is
   * retried across reconnects; others reject with {@link ConnectionLost} when the
   * connection drops before the reply. Bounded by `requestTimeoutMs`.
   * @param {Record<string, any> & {t: string}} frame without `id`
   * @param {{idempotent?: boolean}} [options]
   * @returns {Promise<any>}
   */
  async request(frame, { idempotent = true } = {}) {
    const deadline = Date.now() + this.requestTimeoutMs;
    for (;;) {
      const socket = await withDeadline(this.whenReady(), deadline, this.requestTimeoutMs);
      try {
        return await this.requestOn(/** @type {Socket} */ (socket), frame);
      } catch (exc) {
        const retry = exc instanceof ConnectionLost && idempotent;
        if (!retry || Date.now() >= deadline) throw exc;
      }
    }
  }

  /**
   * Send a frame that has no reply (typing, draft); false if not connected (it is dropped).
   * @param {Record<string, any> & {t: string}} frame
   * @returns {boolean}
   */
  write(frame) {
    return Boolean(this.ready && this.socket?.send(this.sized(encodeFrame(frame))));
  }

  /**
   * Put one unacked send on the wire as a new transmission. A send the server would refuse
   * unread (over its `max_frame`: the refusal could not name the request) fails here instead.
   * @param {Socket} socket
   * @param {import("./outbox.js").OutboxEntry} entry
   */
  transmit(socket, entry) {
    let bytes;
    try {
      bytes = this.sized(encodeFrame(this.outbox.transmit(entry, this.nextId++)));
    } catch (exc) {
      this.outbox.remove(entry);
      return entry.reject(/** @type {Error} */ (exc));
    }
    socket.send(bytes);
  }

  /**
   * `bytes`, if they fit the largest frame the server accepts (from `welcome`).
   * @param {Uint8Array} bytes
   * @returns {Uint8Array}
   */
  sized(bytes) {
    const limit = this.welcome?.max_frame ?? 0;
    if (limit > 0 && bytes.byteLength > limit) {
      throw new FrameError("frame_too_large", `frame of ${bytes.byteLength} bytes exceeds the server's limit of ${limit}`);
    }
    return bytes;
  }
}

/**
 * `promise`, or a {@link RequestTimeout} at `deadline` (epoch ms).
 * @template T
 * @param {Promise<T>} promise
 * @param {number} deadline
 * @param {number} ms the whole timeout, for the message
 * @returns {Promise<T>}
 */
function withDeadline(promise, deadline, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const timeout = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new RequestTimeout(ms)), Math.max(0, deadline - Date.now()));
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout]).finally(() => clearTimeout(timer)));
}
