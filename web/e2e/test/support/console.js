// The web console in Debian's firefox-esr, driven over WebDriver BiDi by puppeteer-core (which
// downloads no browser), against a real `parley serve` (SQLite in a temporary folder, started by
// web/client's test support) with console users made by the CLI (`parley console-user add`).
// The customer side is web/client's ParleyClient in this node process.
//
// Everything started here is stopped by `stop()` (the test file's after hook) and, as a last
// resort, when the process exits or is signalled (server.js kills the server; puppeteer kills
// its browser), so a failing test leaves nothing running.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";
import { ParleyClient } from "../../../client/src/index.js";
import { parleyBin, startServer } from "../../../client/test/support/server.js";

/** Debian's Firefox ESR ($PARLEY_FIREFOX overrides; scripts/test installs it with apt). */
export const FIREFOX = process.env.PARLEY_FIREFOX || "/usr/bin/firefox-esr";
/** Console users of every test: one per role. */
export const PASSWORD = "correct horse battery";
const USERS = [["ada", "admin"], ["ann", "agent"], ["mia", "marketer"]];
/** Ceiling of every wait (a loaded machine), never a timing assertion. */
export const WAIT = 20_000;
/** Ceiling of one try of a wait (an evaluate in a document being replaced may never answer). */
const TRY_MS = 5_000;
/** Desktop and tablet (iPad Air portrait) viewports. */
export const DESKTOP = { width: 1280, height: 900 };
export const TABLET = { width: 820, height: 1180 };

/** Where screenshots go: $PARLEY_SCREENSHOTS/firefox (default: the system's temp folder), never committed. */
export function screenshots() {
  const base = process.env.PARLEY_SCREENSHOTS || join(tmpdir(), "parley-console");
  const folder = join(base, "firefox");
  mkdirSync(folder, { recursive: true });
  return folder;
}

/**
 * A real node with the console users, a headless Firefox, and what the tests need of both.
 * @returns {Promise<Console>}
 */
export async function startConsole() {
  if (!existsSync(FIREFOX)) throw new Error(`${FIREFOX} is missing: scripts/test installs it (apt-get install firefox-esr)`);
  const server = await startServer([], ({ db, app }) => {
    for (const [user, role] of USERS) {
      const args = ["console-user", "add", "--app", app.PARLEY_APP, "--user", user, "--role", role, "--password-stdin", "--sqlite-path", db];
      execFileSync(parleyBin(), args, { input: `${PASSWORD}\n`, stdio: ["pipe", "ignore", "inherit"] });
    }
  });
  /** @type {import("puppeteer-core").Browser | undefined} */
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: FIREFOX,
      headless: true,
      protocol: "webDriverBiDi",
      // English UI unless a test switches it; no first-run pages or updates
      extraPrefsFirefox: { "intl.accept_languages": "en-US", "intl.locale.requested": "en-US", "app.update.enabled": false },
    });
  } catch (error) {
    await server.stop();
    throw error;
  }
  return new Console(server, browser);
}

export class Console {
  /**
   * @param {Awaited<ReturnType<typeof startServer>>} server
   * @param {import("puppeteer-core").Browser} browser
   */
  constructor(server, browser) {
    this.server = server;
    this.browser = browser;
    this.http = `http://127.0.0.1:${server.port}`;
    /** @type {Array<{close(): Promise<unknown>}>} */
    this.open = [];
  }

  /** The app id. */
  get app() {
    return this.server.app.PARLEY_APP;
  }

  /**
   * A fresh tab in its own browser context (its own cookies), at `viewport`.
   * @param {{width: number, height: number}} [viewport]
   */
  async tab(viewport = DESKTOP) {
    const context = await this.browser.createBrowserContext();
    this.open.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT);
    await page.setViewport(viewport);
    return page;
  }

  /**
   * A tab that asked for `path`, was sent to the login form, logged in as `user` and came back.
   * @param {string} user @param {string} path @param {{width: number, height: number}} [viewport]
   */
  async loggedIn(user, path, viewport = DESKTOP) {
    const page = await this.tab(viewport);
    await page.goto(`${this.http}${path}`);
    await until(page, () => location.pathname === "/console/login");
    await this.fillLogin(page, user);
    await arrived(page, path);
    return page;
  }

  /** @param {import("puppeteer-core").Page} page @param {string} user @param {string} [password] */
  async fillLogin(page, user, password = PASSWORD) {
    await present(page, "#app");
    for (const [sel, text] of [["#app", this.app], ["#username", user], ["#password", password]]) {
      await page.$eval(sel, (e) => { /** @type {HTMLInputElement} */ (e).value = ""; });
      await page.type(sel, text);
    }
    await page.keyboard.press("Enter");
  }

  /**
   * A customer online with web/client's ParleyClient; closed by stop().
   * @param {string} user
   * @param {import("../../../client/src/schema.js").Position[]} [positions] where an earlier session stood (resume with sync)
   */
  async customer(user, positions = []) {
    const client = new ParleyClient({ url: this.server.url, token: this.server.token(user), requestTimeoutMs: 15_000, positions });
    this.open.push(client);
    /** @type {import("../../../client/src/schema.js").Message[]} */
    const messages = [];
    client.on("message", (m) => messages.push(m));
    await client.connect();
    return { client, messages };
  }

  /**
   * An audience profile for chat user `user` with `marketing` consent granted (or not); its pid.
   * @param {string} user @param {boolean} [consent]
   */
  async profile(user, consent = true) {
    await this.server.admin("PUT", "/v1/audience/schema", { consent_topics: ["marketing"] });
    const { pid } = await this.server.admin("POST", "/v1/audience/identify", { identifiers: [{ kind: "user", value: user }] });
    if (consent) await this.server.admin("PATCH", `/v1/audience/profiles/${pid}`, { consent: [{ topic: "marketing", state: "granted" }] });
    return pid;
  }

  /** Close the tabs and clients opened so far (a test's after hook: the next starts with nobody online). */
  async closeAll() {
    for (const thing of this.open.splice(0).reverse()) await thing.close().catch(() => {});
  }

  /** Close every tab's context, every client, the browser and the server (each even if another fails). */
  async stop() {
    for (const thing of this.open.reverse()) await thing.close().catch(() => {});
    await this.browser.close().catch(() => {});
    await this.server.stop();
  }
}

/**
 * Wait until `check(arg)` is truthy in the page, failing with its source after WAIT.
 *
 * Polled from here, one evaluate per try, rather than with `page.waitForFunction`: a wait the
 * page runs itself is bound to the document it started in, and in Firefox over WebDriver BiDi a
 * navigation that commits while it runs (a login, a redirect) can leave it waiting on the dead
 * document until the timeout (the likely cause of a CI failure right after the keyboard login).
 * Each try here asks whatever document is current, within TRY_MS; an error from a document being
 * torn down, or a try that never answers, is retried.
 * @template A
 * @param {import("puppeteer-core").Page} page
 * @param {(arg: A) => unknown} check
 * @param {A} [arg]
 */
export async function until(page, check, arg) {
  const deadline = Date.now() + WAIT;
  /** @type {unknown} */
  let last = "never true";
  while (Date.now() < deadline) {
    try {
      const answered = page.evaluate(check, /** @type {any} */ (arg));
      answered.catch(() => {}); // a try abandoned by the race below must not reject unhandled
      /** @type {NodeJS.Timeout | undefined} */
      let timer;
      const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${TRY_MS} ms`)), TRY_MS); });
      try {
        if (await Promise.race([answered, late])) return;
      } finally {
        clearTimeout(timer);
      }
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const where = await page.evaluate(() => location.href).catch(() => "?");
  assert.fail(`timed out in ${where} waiting for ${check.toString()} (${JSON.stringify(arg)}): ${last}`);
}

/**
 * Wait until an element matches `selector` (in the current document, across navigations).
 * @param {import("puppeteer-core").Page} page @param {string} selector
 */
export function present(page, selector) {
  return until(page, (s) => document.querySelector(s) !== null, selector);
}

/**
 * Wait until the tab has navigated to `path` and the new document is parsed (the path changes
 * when the navigation commits, before the document's elements exist).
 * @param {import("puppeteer-core").Page} page @param {string} path
 */
export async function arrived(page, path) {
  await until(page, (p) => location.pathname === p, path);
  await until(page, () => document.readyState !== "loading");
}

/**
 * Wait until the element `selector` contains `text`.
 * @param {import("puppeteer-core").Page} page @param {string} selector @param {string} text
 */
export function untilText(page, selector, text) {
  return until(page, ([s, t]) => (document.querySelector(s)?.textContent ?? "").includes(t), [selector, text]);
}

/**
 * Wait until node-side `check()` is truthy (polled), failing with `what` after WAIT.
 * @param {() => unknown} check @param {string} what
 */
export async function eventually(check, what) {
  for (let waited = 0; waited < WAIT; waited += 50) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting for ${what}`);
}

/** A full-page screenshot `<name>.png` for people to look at. @param {import("puppeteer-core").Page} page @param {string} name */
export async function shot(page, name) {
  await page.screenshot({ path: join(screenshots(), `${name}.png`), fullPage: true });
}

/**
 * Press Tab until `selector` has the focus (at most `limit` presses); fails otherwise.
 * @param {import("puppeteer-core").Page} page @param {string} selector @param {number} [limit]
 */
export async function tabTo(page, selector, limit = 60) {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return i + 1;
  }
  const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  return assert.fail(`Tab did not reach ${selector} in ${limit} presses (focus on ${at})`);
}

/**
 * The main views' horizontal overflow: elements wider than the viewport (none expected).
 * @param {import("puppeteer-core").Page} page
 */
export function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const wide = [...document.querySelectorAll("body *")].filter((e) => {
      const r = e.getBoundingClientRect();
      return r.width > 0 && r.right > width + 1 && getComputedStyle(e).position !== "fixed";
    });
    return { scroll: document.documentElement.scrollWidth - width, wide: wide.slice(0, 5).map((e) => e.id || e.className || e.tagName) };
  });
}
