/**
 * @module errors
 * What can go wrong, as Error classes, and what to do about an error code
 * (from the one table in `proto/errors.py`, generated into schema.js).
 */
import { ERROR_ACTIONS } from "./schema.js";

/**
 * What a client should do after error `code`: "retry", "reconnect" or "fatal" (unknown codes: fatal).
 * @param {string} code
 * @returns {"retry" | "reconnect" | "fatal"}
 */
export function actionFor(code) {
  const action = Object.hasOwn(ERROR_ACTIONS, code) ? ERROR_ACTIONS[code] : "fatal";
  return /** @type {"retry" | "reconnect" | "fatal"} */ (action);
}

/** The server refused a request with an `error` frame. */
export class ReplyError extends Error {
  /**
   * @param {string} code a protocol error code (`forbidden`, `not_found`, ...)
   * @param {string} message the server's explanation
   * @param {string} [action] what to do; from the error table when omitted
   */
  constructor(code, message, action) {
    super(`${code}: ${message}`);
    this.name = "ReplyError";
    this.code = code;
    this.action = action || actionFor(code);
  }
}

/** The connection under a request dropped before its reply (the client reconnects by itself). */
export class ConnectionLost extends Error {
  /** @param {string} [message] */
  constructor(message = "connection lost before the reply") {
    super(message);
    this.name = "ConnectionLost";
  }
}

/** No reply within the request timeout. */
export class RequestTimeout extends Error {
  /** @param {number} ms */
  constructor(ms) {
    super(`no reply within ${ms} ms`);
    this.name = "RequestTimeout";
  }
}

/** The client is closed for good: by `close()`, or by the server (bad token, banned, too many connections). */
export class ClientClosed extends Error {
  /**
   * @param {string} message
   * @param {number | null} [code] the WebSocket close code, when the server closed
   * @param {string} [errorCode] the protocol error code that preceded the close, if any
   */
  constructor(message, code = null, errorCode = "") {
    super(message);
    this.name = "ClientClosed";
    this.code = code;
    this.errorCode = errorCode;
  }
}
