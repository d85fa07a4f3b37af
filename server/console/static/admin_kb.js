// @ts-check
/** The admin page's knowledge uploads: pick a file, upload it for the bot service to ingest (the
 * server cannot parse or embed), and follow each upload from pending to ingested (its version) or
 * failed (the parser's reason). */
import { call, clearErrors, loadMe, showError } from "./api.js";
import { el } from "./chat.js";
import { t } from "./i18n.js";
import "./i18n_more.js";

await loadMe(); // the CSRF token (admin.js draws the header)
const $ = (/** @type {string} */ id) => document.getElementById(id);
const form = /** @type {HTMLFormElement} */ ($("kb-form"));
const input = /** @type {HTMLInputElement} */ ($("kb-file"));
/** While any upload is pending the list is asked again every few seconds (the bot polls too). */
const PENDING_POLL_MS = 3000;
let timer = 0;
let ingested = new Set();

/**
 * The file's bytes in base64: the server checks they are UTF-8 (`file.text()` would silently turn
 * another encoding's bytes into replacement characters) and the size limit.
 * @param {File} file
 */
async function base64Of(file) {
  const bytes = new Uint8Array(await file.arrayBuffer());
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** @param {any} u */
function stateText(u) {
  if (u.state === "ingested") return `${t("kb.ingested")} · ${t("admin.version")} ${u.version}`;
  if (u.state === "failed") return `${t("kb.failed")}: ${u.error}`;
  return t("kb.pending");
}

async function draw() {
  const { uploads } = await call("GET", "knowledge/uploads");
  $("kb-uploads")?.replaceChildren(...uploads.map((/** @type {any} */ u) => el("tr", { "data-upload": u.id, "data-state": u.state }, [
    el("td", { text: u.source }), el("td", { text: u.by }), el("td", { text: new Date(u.created).toLocaleString() }),
    el("td", { class: u.state === "failed" ? "field-error" : "", text: stateText(u) }),
  ])));
  const now = new Set(uploads.filter((/** @type {any} */ u) => u.state === "ingested").map((/** @type {any} */ u) => u.id));
  if ([...now].some((id) => !ingested.has(id))) document.dispatchEvent(new Event("kb-changed"));
  ingested = now;
  window.clearTimeout(timer);
  if (uploads.some((/** @type {any} */ u) => u.state === "pending")) timer = window.setTimeout(() => { draw().catch(() => {}); }, PENDING_POLL_MS);
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const file = input.files?.[0];
  try {
    if (!file) throw new Error(t("kb.pick"));
    await call("POST", "knowledge/uploads", { source: file.name, content_base64: await base64Of(file) });
    form.reset();
    await draw();
  } catch (e) { showError(e, $("kb-file-error"), form); }
});
$("lang")?.addEventListener("change", () => { draw().catch(() => {}); });
await draw();
