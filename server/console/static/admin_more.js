// @ts-check
/** The admin page's other cards: API keys, the review queue, word lists, knowledge sources, the audit log. */
import { call, clearErrors, loadMe, showError } from "./api.js";
import { el } from "./chat.js";
import { t } from "./i18n.js";
import "./i18n_more.js";

await loadMe(); // the CSRF token (admin.js draws the header)
const $ = (/** @type {string} */ id) => document.getElementById(id);
const when = (/** @type {number} */ ms) => new Date(ms).toLocaleString();

/** @param {string} text @param {() => Promise<unknown>} work @param {string} errorBox @param {string} [cls] */
function button(text, work, errorBox, cls = "secondary") {
  const b = el("button", { type: "button", class: cls, text });
  b.addEventListener("click", () => work().catch((e) => showError(e, $(errorBox))));
  return b;
}

async function drawKeys() {
  const keys = await call("GET", "keys");
  $("keys")?.replaceChildren(...keys.map((/** @type {any} */ k) => el("tr", { "data-key": k.id }, [
    el("td", {}, [el("code", { text: k.id })]),
    el("td", { text: when(k.created) }),
    el("td", {}, [button(t("admin.revoke"), async () => { await call("DELETE", `keys/${k.id}`); await drawKeys(); }, "keys-error", "danger")]),
  ])));
}
$("new-key")?.addEventListener("click", async () => {
  try {
    const made = await call("POST", "keys");
    const out = $("new-key-value");
    if (out) out.textContent = `${t("admin.shownOnce")} ${made.api_key}`;
    await drawKeys();
  } catch (e) { showError(e, $("keys-error")); }
});

async function drawReviews() {
  const items = await call("GET", "reviews");
  const resolve = (/** @type {string} */ id, /** @type {string} */ outcome) => async () => {
    await call("POST", `reviews/${encodeURIComponent(id)}/resolve`, { outcome });
    await drawReviews();
  };
  $("reviews")?.replaceChildren(...(items.length ? items.map((/** @type {any} */ r) => el("tr", { "data-review": r.id }, [
    el("td", { text: r.author }),
    el("td", { text: r.excerpt }),
    el("td", { text: `${r.reason} (${r.source})` }),
    el("td", { class: "tools" }, [
      button(t("admin.dismiss"), resolve(r.id, "dismiss"), "reviews-error"),
      ...(r.seq ? [button(t("admin.recall"), resolve(r.id, "recall"), "reviews-error", "danger")] : []),
      button(t("admin.actioned"), resolve(r.id, "actioned"), "reviews-error"),
    ]),
  ])) : [el("tr", {}, [el("td", { class: "muted", colspan: "4", text: t("admin.noReviews") })])]));
}

async function drawWords() {
  const lists = await call("GET", "words");
  $("words")?.replaceChildren(...lists.map((/** @type {any} */ w) => el("p", { "data-list": w.name }, [
    el("strong", { text: w.name }), ` · ${w.action} · ${w.words.length} · `,
    button(t("admin.delete"), async () => { await call("DELETE", `words/${encodeURIComponent(w.name)}`); await drawWords(); }, "words-form-error", "danger"),
  ])));
}
const wordsForm = /** @type {HTMLFormElement} */ ($("words-form"));
wordsForm?.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(wordsForm);
  const data = new FormData(wordsForm);
  const words = String(data.get("words") ?? "").split("\n").map((w) => w.trim()).filter(Boolean);
  try {
    await call("PUT", `words/${encodeURIComponent(String(data.get("name") ?? ""))}`, { action: data.get("action"), words });
    wordsForm.reset();
    await drawWords();
  } catch (e) { showError(e, $("words-form-error"), wordsForm); }
});

async function drawKnowledge() {
  const kb = await call("GET", "knowledge");
  const version = $("kb-version");
  if (version) version.textContent = `${t("admin.version")} ${kb.version}`;
  $("kb")?.replaceChildren(...kb.sources.flatMap((/** @type {any} */ k) => {
    const name = encodeURIComponent(k.source);
    const list = el("ol", { class: "tickets", "data-versions": k.source, hidden: "" });
    const versions = button(t("admin.versions"), async () => {
      const revisions = await call("GET", `knowledge/${name}/versions`);
      list.replaceChildren(...revisions.map((/** @type {any} */ r, /** @type {number} */ i) => el("li", { "data-version": String(r.version) }, [
        `${t("admin.version")} ${r.version} · ${r.chunks ? `${r.chunks} ${t("admin.chunks")}` : t("admin.deleted")} · ${when(r.ts)}${i === 0 && r.chunks ? ` · ${t("admin.live")}` : ""}`,
      ])));
      list.hidden = !list.hidden;
      versions.setAttribute("aria-expanded", String(!list.hidden));
    }, "kb-error");
    versions.setAttribute("aria-expanded", "false");
    return [
      el("tr", { "data-source": k.source }, [
        el("td", { text: k.source }), el("td", { text: `${k.chunks} ${t("admin.chunks")}` }),
        el("td", { class: "tools" }, [versions, button(t("admin.delete"), async () => { await call("DELETE", `knowledge/${name}`); await drawKnowledge(); }, "kb-error", "danger")]),
      ]),
      el("tr", {}, [el("td", { colspan: "3" }, [list])]),
    ];
  }));
}

let auditNext = "";
/** @param {boolean} more */
async function drawAudit(more) {
  const form = /** @type {HTMLFormElement} */ ($("audit-form"));
  const params = new URLSearchParams(/** @type {any} */ (new FormData(form)));
  if (more) params.set("after", auditNext);
  const page = await call("GET", `audit?${params}`);
  auditNext = page.next;
  const rows = page.records.map((/** @type {any} */ r) => el("tr", {}, [
    el("td", { text: when(r.ts) }), el("td", { text: r.actor }), el("td", { text: r.action }), el("td", { text: r.target }),
  ]));
  const body = $("audit");
  if (more) body?.append(...rows);
  else body?.replaceChildren(...rows);
  const moreButton = $("audit-more");
  if (moreButton) moreButton.hidden = !auditNext;
}
document.addEventListener("kb-changed", () => { drawKnowledge().catch(() => {}); }); // an upload was ingested
// the cards' script-drawn words (Revoke, Nothing to review, Version N, …) follow the EN/中文 switch
$("lang")?.addEventListener("change", () => { Promise.all([drawKeys(), drawReviews(), drawWords(), drawKnowledge()]).catch(() => {}); });
$("audit-form")?.addEventListener("submit", (e) => { e.preventDefault(); drawAudit(false); });
$("audit-more")?.addEventListener("click", () => drawAudit(true));

await Promise.all([drawKeys(), drawReviews(), drawWords(), drawKnowledge(), drawAudit(false)]);
