// A TCP proxy between one client and the server that the test can break like a
// network: cut every connection, refuse new ones, hold back what the server sends
// (so an ack is lost when the connection is then cut), or inject raw bytes into the
// client's stream (an undecodable frame).
import { connect, createServer } from "node:net";

export class Proxy {
  /** @param {number} target the server's port */
  constructor(target) {
    this.target = target;
    /** @type {Set<{client: import("node:net").Socket, upstream: import("node:net").Socket}>} */
    this.pairs = new Set();
    this.refusing = false;
    this.holding = false;
    this.server = createServer((client) => this.accept(client));
  }

  /** @returns {Promise<string>} the WebSocket URL through the proxy */
  listen() {
    return new Promise((ok) => {
      this.server.listen(0, "127.0.0.1", () => {
        const { port } = /** @type {import("node:net").AddressInfo} */ (this.server.address());
        ok(`ws://127.0.0.1:${port}/ws`);
      });
    });
  }

  /** @param {import("node:net").Socket} client */
  accept(client) {
    if (this.refusing) return client.destroy();
    const upstream = connect(this.target, "127.0.0.1");
    const pair = { client, upstream };
    this.pairs.add(pair);
    client.on("data", (d) => upstream.write(d));
    upstream.on("data", (d) => {
      if (!this.holding) client.write(d); // held bytes are dropped with the connection
    });
    const end = () => {
      this.pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", end).on("error", end);
    upstream.on("close", end).on("error", end);
  }

  /** Drop every connection at once, as a network failure would (no close handshake). */
  cut() {
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  /**
   * Write one unmasked binary WebSocket frame holding `payload` to every client.
   * @param {Uint8Array} payload shorter than 126 bytes
   */
  inject(payload) {
    for (const { client } of this.pairs) client.write(Buffer.concat([Buffer.from([0x82, payload.length]), payload]));
  }

  /** Stop listening and drop every connection. */
  async close() {
    this.cut();
    await new Promise((ok) => this.server.close(ok));
  }
}
