// A real `parley serve` on loopback for the integration test: a fresh SQLite file in a
// temporary folder, one app, HS256 tokens signed here with the app's secret. The
// process is stopped by stop() (the test's after hook) and, as a last resort, when
// this node process exits, so a failing test leaves nothing running.
import { spawn, execFileSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const REPO = resolve(fileURLToPath(new URL("../../../../", import.meta.url)));

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
 * Start a server; retries on a new port if it could not bind (another process took the port).
 * @param {string[]} [extra] more `parley serve` options
 */
export async function startServer(extra = []) {
  const bin = parleyBin();
  const dir = mkdtempSync(join(tmpdir(), "parley-web-client-"));
  const db = join(dir, "parley.db");
  const app = JSON.parse(execFileSync(bin, ["app", "create", "--name", "web-client-test", "--format", "json", "--sqlite-path", db], { encoding: "utf8" }));
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = ["serve", "--host", "127.0.0.1", "--port", String(port), "--sqlite-path", db, "--log-level", "warning"];
    const child = spawn(bin, [...args, ...extra], {
      stdio: ["ignore", "inherit", "inherit"],
    });
    const killNow = () => child.kill("SIGKILL");
    process.on("exit", killNow);
    // a signal ends node without its exit handlers: stop the server first
    for (const signal of /** @type {const} */ (["SIGTERM", "SIGINT", "SIGHUP"])) {
      process.once(signal, () => {
        killNow();
        process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGHUP" ? 1 : 15));
      });
    }
    const exited = new Promise((ok) => child.once("exit", ok));
    const up = await ready(`http://127.0.0.1:${port}/healthz`, exited);
    if (!up) {
      child.kill("SIGKILL");
      await exited;
      process.off("exit", killNow);
      continue;
    }
    return {
      url: `ws://127.0.0.1:${port}/ws`,
      port,
      app,
      /**
       * A user token signed with the app's secret (what an app's back-end does).
       * @param {string} user
       * @param {{role?: string, ttl?: number}} [claims]
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
        const response = await fetch(`http://127.0.0.1:${port}/v1/users`, {
          method: "POST",
          headers: { authorization: `Bearer ${app.PARLEY_API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ user, role }),
        });
        if (response.status !== 201) throw new Error(`POST /v1/users: ${response.status} ${await response.text()}`);
      },
      /** Stop the server (SIGTERM, SIGKILL after 10 s) and remove its files. */
      async stop() {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const timer = setTimeout(killNow, 10_000);
          await exited;
          clearTimeout(timer);
        }
        process.off("exit", killNow);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error("parley serve did not start in 3 attempts");
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
