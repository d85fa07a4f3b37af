/**
 * @module session
 * One logical session kept alive over successive WebSockets (mirrors
 * `sdk/connection.py`). Per WebSocket: `hello` → `welcome`; `sync` of every
 * known position (refilling missed messages); re-subscription to presence;
 * resend of every unacked send with its original cmid; only then is the client
 * "connected" and new requests go out. After a drop it reconnects with
 * jittered backoff ({@link Backoff}), or after the delay a `bye` asked for;
 * after a close code that forbids it (bad token, banned, too many connections)
 * it closes for good. Requests and replies are {@link Requests}' (its base class);
 * incoming frames go to `router.js`.
 */
import { Backoff } from "./backoff.js";
import { catchUp } from "./catchup.js";
import { decodeFrame, encodeFrame, FrameError } from "./codec.js";
import { ClientClosed, ConnectionLost, ReplyError, RequestTimeout } from "./errors.js";
import { Requests } from "./requests.js";
import { route } from "./router.js";
import { NO_RECONNECT, PROTOCOL_VERSION, REFRESH_TOKEN } from "./schema.js";
import { Socket } from "./socket.js";
import { Streams } from "./streams.js";

/** Refresh a token this many seconds before its `exp`. */
const REFRESH_MARGIN_S = 30;

/**
 * @typedef {object} SessionOptions
 * @property {string} url the server's WebSocket URL, e.g. `wss://chat.example/ws`
 * @property {string} [token] a JWT from the app's backend
 * @property {() => Promise<string>} [getToken] fetches a fresh JWT (on expiry, revocation, or when none is set)
 * @property {string} [device] a device id, shown in the server's logs
 * @property {string} [clientName] the client's name and version (`hello.client`)
 * @property {import("./schema.js").Position[]} [positions] where a previous session stood (see `positions()`)
 * @property {Backoff} [backoff] reconnect delays; 0.2 s up to 20 s by default
 * @property {number} [requestTimeoutMs] bound of one request, reconnects included (default 10 000)
 * @property {typeof WebSocket} [WebSocket] the WebSocket constructor; `globalThis.WebSocket` by default
 * @property {number} [ownGapGraceMs] how long an own message may wait for earlier ones before
 *   their gap is synced (default `OWN_GAP_GRACE_MS` of router.js, 500)
 */

/** @typedef {"disconnected" | "connecting" | "connected" | "closed"} ClientState */

/** Raised inside the supervisor for a refusal that must not be retried. */
class Fatal extends Error {
  /** @param {ClientClosed} closed */
  constructor(closed) {
    super(closed.message);
    this.closed = closed;
  }
}

export class Session extends Requests {
  /** @param {SessionOptions} options */
  constructor(options) {
    const WebSocketCtor = options.WebSocket ?? globalThis.WebSocket;
    if (!WebSocketCtor) throw new TypeError("no WebSocket: pass options.WebSocket");
    const all = { device: "", clientName: "parley-js/0.1", requestTimeoutMs: 10_000, ...options, WebSocket: WebSocketCtor };
    super(all);
    this.options = all;
    this.backoff = options.backoff ?? new Backoff();
    this.token = options.token ?? "";
    this.streams = new Streams(options.positions ?? []);
    /** @type {ClientState} */
    this.state = "disconnected";
    /** Users whose presence is watched (re-subscribed after each reconnect). */
    this.presence = new Set();
    this.refresh = false;
    /** @type {number | null} */
    this.byeMs = null;
    /** @type {Set<string>} conversations with a gap to sync */
    this.wanted = new Set();
    this.gapWorker = false;
    /** @type {(() => void) | null} interrupts a backoff sleep */
    this.wakeSleep = null;
    this.running = false;
    /** When the current socket last received anything (epoch ms). */
    this.lastHeard = 0;
  }

  /** The authenticated user id ("" before the first `welcome`). */
  get user() {
    return this.welcome?.user ?? "";
  }

  /**
   * Start (idempotent) and wait until the session is connected and resumed.
   * Rejects with {@link ClientClosed} if the client closes for good first (e.g. a bad token).
   * @returns {Promise<import("./schema.js").WelcomeFrame>}
   */
  async connect() {
    if (!this.running && !this.closedError) {
      this.running = true;
      this.supervise().catch((exc) => this.shutdown(new ClientClosed(`client failed: ${exc}`)));
    }
    await this.whenReady();
    return /** @type {import("./schema.js").WelcomeFrame} */ (this.welcome);
  }

  /** Close for good: pending requests and sends fail with {@link ClientClosed}. */
  async close() {
    this.shutdown(new ClientClosed("client closed"));
  }

  /**
   * Where the session stands per conversation; store it and pass it as `positions` next time.
   * @returns {import("./schema.js").Position[]}
   */
  positions() {
    return this.streams.positions();
  }

  /**
   * Close the current WebSocket so that the session reconnects (and resumes) at once.
   * Also how tests simulate a dropped network.
   */
  reconnectNow() {
    this.byeMs = 0;
    this.socket?.close();
  }

  // ----------------------------------------------------------------- events

  /**
   * @param {ClientState} state
   * @param {{code?: number | null, reason?: string, error?: Error}} [info]
   */
  setState(state, info = {}) {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.emit("state", { state, previous, ...info });
  }

  // ------------------------------------------------------------- supervisor

  async supervise() {
    let attempt = 0;
    while (!this.closedError) {
      this.setState("connecting");
      /** @type {import("./socket.js").CloseInfo} */
      let closeInfo = { code: null, reason: "" };
      try {
        const socket = await this.open();
        if (this.closedError) {
          socket.close(); // close() came while the socket was opening
          return;
        }
        this.socket = socket;
        const heartbeat = this.heartbeat(socket);
        try {
          socket.listen((data) => this.receive(data));
          try {
            await this.resume(socket);
            attempt = 0;
            this.ready = true;
            this.setState("connected");
            this.notify();
            const [gap] = this.wanted; // gaps noticed while resuming
            if (gap !== undefined) this.want(gap);
          } catch (exc) {
            socket.close(); // the resume failed (or the client closed): start over on a new socket
            if (!(exc instanceof ConnectionLost || exc instanceof RequestTimeout || exc instanceof ReplyError)) throw exc;
          }
          closeInfo = await socket.closed;
        } finally {
          clearInterval(heartbeat);
          this.lost();
        }
        if (this.closedError) return;
        if (closeInfo.code !== null && NO_RECONNECT.includes(closeInfo.code) && this.byeMs === null) {
          throw new Fatal(new ClientClosed(`server closed the connection: ${closeInfo.reason}`, closeInfo.code));
        }
        if (closeInfo.code !== null && REFRESH_TOKEN.includes(closeInfo.code)) this.refresh = true;
      } catch (exc) {
        if (exc instanceof Fatal) return this.shutdown(exc.closed);
        this.emit("debug", { message: `connect failed: ${exc}` });
      }
      if (this.closedError) return;
      this.setState("connecting", closeInfo);
      const delayMs = this.byeMs ?? this.backoff.delay(attempt) * 1000;
      this.byeMs = null;
      attempt += 1;
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delayMs);
        this.wakeSleep = () => {
          clearTimeout(timer);
          resolve(undefined);
        };
      });
      this.wakeSleep = null;
    }
  }

  /** @returns {Promise<Socket>} an authenticated socket (its `welcome` stored) */
  async open() {
    const token = await this.currentToken();
    const timeout = this.options.requestTimeoutMs;
    const socket = await Socket.open(this.options.url, this.options.WebSocket, timeout);
    const hello = { t: "hello", v: PROTOCOL_VERSION, token, device: this.options.device, client: this.options.clientName };
    socket.send(encodeFrame(hello));
    const data = await socket.next(timeout);
    /** @type {any} */
    let frame = null;
    try {
      frame = data && decodeFrame(data);
    } catch (exc) {
      socket.close();
      throw exc;
    }
    if (frame?.t === "welcome") {
      this.welcome = frame;
      this.emit("welcome", frame);
      return socket;
    }
    socket.close();
    const info = await socket.closed;
    if (frame?.t === "error") {
      const error = new ReplyError(frame.code, frame.message, frame.action);
      this.emit("error", frame);
      if ((error.code === "token_expired" || error.code === "token_revoked") && this.options.getToken) {
        this.refresh = true;
        throw error;
      }
      if (error.action === "retry") throw error;
      throw new Fatal(new ClientClosed(`${error.code}: ${error.message}`, info.code, error.code));
    }
    throw new ConnectionLost(`expected welcome, got ${frame ? frame.t : "no frame"}`);
  }

  /** @returns {Promise<string>} the token to use, refreshed when needed */
  async currentToken() {
    const getToken = this.options.getToken;
    if (getToken) {
      const exp = tokenExpiry(this.token);
      const stale = exp !== null && exp - Date.now() / 1000 < REFRESH_MARGIN_S;
      if (this.refresh || !this.token || stale) {
        this.token = await getToken();
        this.refresh = false;
      }
    }
    if (!this.token) throw new Fatal(new ClientClosed("no token and no getToken callback"));
    return this.token;
  }

  /**
   * After `welcome`: sync, re-subscribe presence, resend the outbox.
   * @param {Socket} socket
   */
  async resume(socket) {
    this.wanted.clear();
    this.streams.strict = this.streams.baseline;
    try {
      await this.syncOn(socket, null);
    } finally {
      this.streams.strict = false;
    }
    if (this.presence.size) {
      try {
        await this.requestOn(socket, { t: "presence_sub", users: [...this.presence].sort() });
      } catch (exc) {
        if (!(exc instanceof ReplyError)) throw exc;
        this.presence.clear(); // no longer allowed: dropped rather than failing every reconnect
      }
    }
    for (const entry of this.outbox.resendable()) this.transmit(socket, entry);
  }

  /**
   * Send `ping` every `heartbeat_ms`; a socket silent for two heartbeats is dead: close it.
   * @param {Socket} socket
   * @returns {ReturnType<typeof setInterval> | undefined}
   */
  heartbeat(socket) {
    const every = this.welcome?.heartbeat_ms ?? 0;
    if (every <= 0) return undefined;
    this.lastHeard = Date.now();
    return setInterval(() => {
      if (Date.now() - this.lastHeard > 2 * every + 1000) socket.close();
      else socket.send(encodeFrame({ t: "ping", ts: Date.now() }));
    }, every);
  }

  /** The socket went away: fail requests in flight, mark every send for resending. */
  lost() {
    this.ready = false;
    this.socket = null;
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(new ConnectionLost());
    this.outbox.connectionLost();
  }

  /** @param {ClientClosed} error */
  shutdown(error) {
    if (this.closedError) return;
    this.closedError = error;
    this.ready = false;
    this.socket?.close();
    this.wakeSleep?.();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(error);
    this.outbox.failAll(error);
    this.setState("closed", { code: error.code, reason: error.message, error });
    this.notify();
  }

  // ---------------------------------------------------------------- syncing

  /**
   * Run sync rounds on `socket` for `convs` (all when null).
   * @param {Socket} socket
   * @param {Set<string> | null} convs
   */
  async syncOn(socket, convs) {
    await catchUp(this.streams, convs, {
      sync: (positions, after) => this.requestOn(socket, { t: "sync", positions, after }),
      deliver: (messages) => this.deliver(messages),
      reset: (state) => this.emit("reset", state),
    });
  }

  /**
   * Sync `conv` to fill a gap: now if connected, else in the next resume (which syncs everything).
   * @param {string} conv
   */
  want(conv) {
    this.wanted.add(conv);
    if (!this.ready || this.gapWorker) return;
    this.gapWorker = true;
    (async () => {
      try {
        while (this.wanted.size && this.ready && this.socket) {
          const convs = new Set(this.wanted);
          this.wanted.clear();
          await this.syncOn(this.socket, convs);
        }
      } catch (exc) {
        this.emit("debug", { message: `gap sync failed: ${exc}` });
      } finally {
        this.gapWorker = false;
      }
    })();
  }

  /** @param {import("./schema.js").Message[]} messages */
  deliver(messages) {
    for (const m of messages) this.emit("message", m);
  }


  // ---------------------------------------------------------------- routing

  /** @param {Uint8Array} data one WebSocket message */
  receive(data) {
    this.lastHeard = Date.now();
    let frame;
    try {
      frame = decodeFrame(data);
    } catch (exc) {
      if (!(exc instanceof FrameError)) throw exc;
      // one bad frame never ends the session: report it and go on
      this.emit("error", { t: "error", code: exc.code, message: exc.message, action: "fatal", id: null });
      return;
    }
    route(this, frame);
  }
}

/**
 * The `exp` claim of a JWT (unverified, seconds), or null if absent or unreadable.
 * @param {string} token
 * @returns {number | null}
 */
export function tokenExpiry(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
    return typeof claims?.exp === "number" ? claims.exp : null;
  } catch {
    return null;
  }
}
