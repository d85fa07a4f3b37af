// @ts-check
/** What every logged-in page shares: who is logged in, the navigation by role, logout, language. */
import { call, loadMe, session } from "./api.js";
import { languageSwitch, t } from "./i18n.js";
import "./i18n_mkt.js";

/** Page → the roles that may see it (the server checks the same table: server/console/pages.py PAGES). */
const PAGES = [
  ["inbox", ["agent"], "nav.inbox"],
  ["admin", ["admin"], "nav.admin"],
  ["segments", ["marketer", "admin"], "nav.segments"],
  ["campaigns", ["marketer", "admin"], "nav.campaigns"],
  ["journeys", ["marketer", "admin"], "nav.journeys"],
];

/**
 * Load the session, draw the header and wire its buttons.
 * @param {string} current this page's name
 * @param {() => void} [rerender] redraw script-made content after a language change
 * @param {() => void} [beforeLogout] e.g. close the WebSocket
 */
export async function startShell(current, rerender, beforeLogout) {
  const me = await loadMe();
  const nav = document.getElementById("nav");
  const draw = () => {
    nav?.replaceChildren(
      ...PAGES.filter(([, roles]) => roles.some((r) => me.roles.includes(r))).map(([page, , key]) => {
        const a = document.createElement("a");
        a.href = `/console/${page}`;
        a.textContent = t(key);
        if (page === current) a.setAttribute("aria-current", "page");
        return a;
      }),
    );
    const who = document.getElementById("who");
    if (who) who.textContent = `${me.name || me.username} · ${me.roles.map((/** @type {string} */ r) => t(`role.${r}`)).join(", ")}`;
  };
  languageSwitch(/** @type {HTMLSelectElement} */ (document.getElementById("lang")), () => {
    draw();
    rerender?.();
  });
  draw();
  const out = async (/** @type {string} */ path) => {
    beforeLogout?.();
    try {
      await call("POST", path);
    } finally {
      location.assign("/console/login");
    }
  };
  document.getElementById("logout")?.addEventListener("click", () => out("logout"));
  document.getElementById("logout-all")?.addEventListener("click", () => out("logout-everywhere"));
  // the session can end elsewhere ("log out everywhere", expiry): notice it within a minute
  setInterval(() => loadMe().catch(() => {}), 60_000);
  return session.me;
}
