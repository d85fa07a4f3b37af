/**
 * @module socket
 * One WebSocket as a small promise-based object: open it, read the first frame
 * (the handshake), then hand every further binary message to a listener. Works
 * with the browser's `WebSocket` and with any constructor of the same standard
 * API (node 22's global one, node 20's behind `--experimental-websocket`).
 */

/** @typedef {{code: number | null, reason: string}} CloseInfo */

export class Socket {
  /**
   * @param {WebSocket} ws an open WebSocket
   * @param {Promise<CloseInfo>} closed settles when it closes
   * @param {Array<Uint8Array>} queue messages received before a listener was set
   */
  constructor(ws, closed, queue) {
    this.ws = ws;
    /** Resolves with the close code and reason once the socket is closed. */
    this.closed = closed;
    this.queue = queue;
    /** @type {((data: Uint8Array) => void) | null} */
    this.listener = null;
    /** @type {(() => void) | null} */
    this.wake = null;
  }

  /**
   * Open a WebSocket to `url` (binary frames as ArrayBuffer), within `timeoutMs`.
   * @param {string} url
   * @param {typeof WebSocket} WebSocketCtor
   * @param {number} timeoutMs
   * @returns {Promise<Socket>}
   */
  static open(url, WebSocketCtor, timeoutMs) {
    return new Promise((resolve, reject) => {
      const ws = new WebSocketCtor(url);
      ws.binaryType = "arraybuffer";
      /** @type {Uint8Array[]} */
      const queue = [];
      /** @type {(info: CloseInfo) => void} */
      let closedResolve = () => {};
      /** @type {Promise<CloseInfo>} */
      const closed = new Promise((r) => (closedResolve = r));
      const socket = new Socket(ws, closed, queue);
      const timer = setTimeout(() => {
        reject(new Error(`WebSocket to ${url} did not open within ${timeoutMs} ms`));
        ws.close();
      }, timeoutMs);
      ws.addEventListener("open", () => {
        clearTimeout(timer);
        resolve(socket);
      });
      ws.addEventListener("message", (event) => {
        const data = event.data;
        // a text message is handed on as its UTF-8 bytes: the decoder refuses it as bad_frame
        const bytes = typeof data === "string" ? new TextEncoder().encode(data) : new Uint8Array(data);
        if (socket.listener) socket.listener(bytes);
        else queue.push(bytes);
        socket.wake?.();
      });
      ws.addEventListener("close", (event) => {
        clearTimeout(timer);
        reject(new Error(`WebSocket to ${url} closed before it opened (${event.code})`));
        closedResolve({ code: event.code || null, reason: event.reason || "" });
        socket.wake?.();
      });
    });
  }

  /**
   * The next message, or null if the socket closes or `timeoutMs` passes first.
   * @param {number} timeoutMs
   * @returns {Promise<Uint8Array | null>}
   */
  async next(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!this.queue.length) {
      if (this.ws.readyState >= 2 || Date.now() >= deadline) return null;
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.wake = () => {
          clearTimeout(timer);
          resolve(undefined);
        };
      });
      this.wake = null;
    }
    return /** @type {Uint8Array} */ (this.queue.shift());
  }

  /**
   * Hand every message (those queued first) to `listener` from now on.
   * @param {(data: Uint8Array) => void} listener
   */
  listen(listener) {
    this.listener = listener;
    for (const data of this.queue.splice(0)) listener(data);
  }

  /**
   * Send one frame's bytes; false if the socket is no longer open.
   * @param {Uint8Array} bytes
   * @returns {boolean}
   */
  send(bytes) {
    if (this.ws.readyState !== 1) return false;
    this.ws.send(bytes);
    return true;
  }

  /** Start the close handshake (the `closed` promise settles when it completes). */
  close() {
    if (this.ws.readyState < 2) this.ws.close();
  }
}
