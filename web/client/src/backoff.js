/**
 * @module backoff
 * Jittered exponential backoff, the same rule as `proto/backoff.py`:
 * the cap before retry `attempt` (0-based) is `min * factor**attempt`, at most
 * `max`; each delay is drawn uniformly from `[0, cap]` ("full jitter") but never
 * below `min`, which spreads a reconnect storm after a node dies. Seconds, like
 * the Python original; the client converts to milliseconds.
 */

export class Backoff {
  /**
   * @param {{minDelay?: number, maxDelay?: number, factor?: number}} [options] seconds
   */
  constructor({ minDelay = 0.2, maxDelay = 20.0, factor = 2.0 } = {}) {
    if (!(0 < minDelay && minDelay <= maxDelay) || !(factor >= 1)) {
      throw new RangeError("need 0 < minDelay <= maxDelay and factor >= 1");
    }
    /** @readonly */ this.minDelay = minDelay;
    /** @readonly */ this.maxDelay = maxDelay;
    /** @readonly */ this.factor = factor;
  }

  /**
   * Upper bound of the delay before retry number `attempt` (0-based), in seconds.
   * @param {number} attempt
   * @returns {number}
   */
  cap(attempt) {
    const n = Math.min(Math.max(0, attempt), 64);
    const raw = this.minDelay * this.factor ** n;
    return Number.isFinite(raw) ? Math.min(this.maxDelay, raw) : this.maxDelay;
  }

  /**
   * A jittered delay for retry number `attempt`, in seconds.
   * @param {number} attempt
   * @param {() => number} [random] uniform in [0, 1); `Math.random` by default
   * @returns {number}
   */
  delay(attempt, random = Math.random) {
    return Math.max(this.minDelay, random() * this.cap(attempt));
  }
}
