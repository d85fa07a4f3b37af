// A real `parley serve` on loopback for the integration test: a fresh SQLite file in a
// temporary folder, one app, HS256 tokens signed here with the app's secret. The
// process is stopped by stop() (the test's after hook) and, as a last resort, when
// this node process exits or is signalled, so a failing test leaves nothing running.
import { execFileSync, spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(fileURLToPath(new URL("../../../../", import.meta.url)));

/** Servers still running, killed when this process ends. */
const live = new Set();
process.on("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});
// a signal ends node without its exit handlers: stop the servers first
for (const signal of /** @type {const} */ (["SIGTERM", "SIGINT", "SIGHUP"])) {
  process.once(signal, () => process.exit(128 + { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 }[signal]));
}

/** The `parley` command: $PARLEY_BIN, else the repository's .venv (what scripts/test installs). */
export function parleyBin() {
  const bin = process.env.PARLEY_BIN || join(REPO, ".venv", "bin", "parley");
  if (!existsSync(bin)) throw new Error(`no parley command at ${bin}: run scripts/test (or set PARLEY_BIN)`);
  return bin;
}

/** @returns {Promise<number>} a loopback port that was free a moment ago */
function freePort() {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once("error", fail);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import("node:net").AddressInfo} */ (srv.address());
      srv.close(() => ok(port));
    });
  });
}

/** @param {string} s */
const b64url = (s) => Buffer.from(s).toString("base64url");

/**
 * Start `parley serve` on `port`; null if it exited before answering (the port was taken).
 * @param {string[]} args
 * @param {number} port
 */
async function launch(args, port) {
  const child = spawn(parleyBin(), ["serve", "--host", "127.0.0.1", "--port", String(port), ...args], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  live.add(child);
  const exited = new Promise((ok) => child.once("exit", ok)).then(() => live.delete(child));
  if (await ready(`http://127.0.0.1:${port}/healthz`, exited)) return { child, exited };
  await exited;
  return null;
}

/**
 * Stop a server: SIGTERM (it drains: `bye`, then close 1012), SIGKILL after 10 s.
 * @param {{child: import("node:child_process").ChildProcess, exited: Promise<unknown>}} proc
 */
async function halt({ child, exited }) {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

/**
 * Start a server; retries on a new port if it could not bind (another process took the port).
 * @param {string[]} [extra] more `parley serve` options
 * @param {(store: {db: string, app: Record<string, string>}) => void} [setup] runs once the app
 *   exists and before the server starts (e.g. `parley console-user add` on the same SQLite file)
 */
export async function startServer(extra = [], setup = undefined) {
  const dir = mkdtempSync(join(tmpdir(), "parley-web-client-"));
  const db = join(dir, "parley.db");
  const create = ["app", "create", "--name", "web-client-test", "--format", "json", "--sqlite-path", db];
  const app = JSON.parse(execFileSync(parleyBin(), create, { encoding: "utf8" }));
  setup?.({ db, app });
  const args = ["--sqlite-path", db, "--log-level", "warning", ...extra];
  let port = 0;
  let proc = null;
  for (let attempt = 0; attempt < 3 && !proc; attempt++) proc = await launch(args, (port = await freePort()));
  if (!proc) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error("parley serve did not start in 3 attempts");
  }
  let current = proc;
  return {
    url: `ws://127.0.0.1:${port}/ws`,
    port,
    app,
    /**
     * A user token signed with the app's secret (what an app's back-end does).
     * @param {string} user
     * @param {{role?: string, ttl?: number}} [claims] `ttl` in seconds; negative: already expired
     */
    token(user, { role = "user", ttl = 3600 } = {}) {
      const now = Math.floor(Date.now() / 1000);
      const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
      const body = b64url(JSON.stringify({ iss: app.PARLEY_APP, sub: user, aud: "parley", iat: now, exp: now + ttl, role }));
      const sig = createHmac("sha256", app.PARLEY_APP_SECRET).update(`${head}.${body}`).digest("base64url");
      return `${head}.${body}.${sig}`;
    },
    /**
     * Register a user through the admin API (an agent must be registered to be routed to).
     * @param {string} user
     * @param {"user" | "agent" | "bot"} role
     */
    async createUser(user, role) {
      await this.admin("POST", "/v1/users", { user, role });
    },
    /**
     * One admin API call with the app's key; throws unless it succeeds.
     * @param {string} method
     * @param {string} path
     * @param {unknown} body
     */
    async admin(method, path, body) {
      const response = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${app.PARLEY_API_KEY}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
      return response.json();
    },
    /** Stop the server gracefully (clients get `bye` and close 1012) and start it again on the same port and store. */
    async restart() {
      await halt(current);
      const again = await launch(args, port);
      if (!again) throw new Error(`parley serve could not listen on ${port} again`);
      current = again;
    },
    /** Stop the server and remove its files. */
    async stop() {
      await halt(current);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Poll `url` until it answers 200 (true) or the process exits (false); 60 s at most.
 * @param {string} url
 * @param {Promise<unknown>} exited
 */
async function ready(url, exited) {
  let gone = false;
  exited.then(() => (gone = true));
  for (let i = 0; i < 600 && !gone; i++) {
    try {
      if ((await fetch(url)).ok) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (!gone) throw new Error(`${url} did not answer within 60 s`);
  return false;
}
