// @ts-check
/**
 * The campaign wizard (audience, content with a rendered preview per language, variants and
 * hold-out, schedule, the send policy shown plainly), the campaigns with pause / resume / cancel,
 * and their results. Every refusal is shown next to the field the server names.
 */
import "./i18n_mkt.js";
import { call, clearErrors, forget, keep, showError } from "./api.js";
import { el } from "./chat.js";
import { t } from "./i18n.js";
import { resultCharts } from "./results.js";
import { startShell } from "./shell.js";

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const value = (/** @type {string} */ id) => /** @type {HTMLInputElement} */ ($(id)).value.trim();
const ACTIONS = /** @type {Record<string, string[]>} */ ({ scheduled: ["pause", "cancel"], running: ["pause", "cancel"], paused: ["resume", "cancel"] });
/** @type {any} */
let policy = null;
/** The campaign whose results are open. */
let open = "";
/** The results' timeline bucket: hour or day (the switch under "Over time"). */
let bucket = "hour";

/** One variant's editor. @param {string} id @param {number} weight */
function variantRow(id, weight) {
  // words carry data-i18n so a change of language redraws them (apply() in i18n.js)
  const word = (/** @type {string} */ key) => el("span", { "data-i18n": key, text: t(key) });
  const box = el("fieldset", { class: "variant" }, [
    el("legend", {}, [word("cmp.variant"), el("span", { text: ` ${id}` })]),
    el("input", { name: "vid", value: id, "aria-label": `${t("cmp.variant")} id`, size: "6" }),
    el("input", { name: "weight", type: "number", value: String(weight), min: "0", max: "100", "aria-label": t("cmp.weight"), size: "4" }),
    el("span", { class: "muted" }, [word("cmp.weight")]),
    el("label", {}, [word("cmp.textEn"), el("textarea", { name: "en", rows: "2", class: "wide" })]),
    el("label", {}, [word("cmp.textZh"), el("textarea", { name: "zh-CN", rows: "2", class: "wide" })]),
  ]);
  $("c-variants").append(box);
  // what is typed is kept across a forced login (an ended session), like the inbox's reply box
  for (const lang of ["en", "zh-CN"]) keep(/** @type {HTMLTextAreaElement} */ (box.querySelector(`[name="${lang}"]`)), `c-${id}-${lang}`);
  return box;
}

/** The template of one variant's editor. @param {Element} box */
function templateOf(box) {
  /** @type {Record<string, {text: string}>} */
  const versions = {};
  for (const lang of ["en", "zh-CN"]) {
    const text = /** @type {HTMLTextAreaElement} */ (box.querySelector(`[name="${lang}"]`)).value;
    if (text.trim()) versions[lang] = { text };
  }
  return { versions, default: "en" in versions ? "en" : Object.keys(versions)[0] ?? "en" };
}

function variants() {
  return [...$("c-variants").children].map((box) => ({
    id: /** @type {HTMLInputElement} */ (box.querySelector("[name=vid]")).value.trim(),
    weight: Number(/** @type {HTMLInputElement} */ (box.querySelector("[name=weight]")).value),
    template: templateOf(box),
  }));
}

function drawPolicy() {
  if (!policy) return;
  const unit = (/** @type {any} */ c) => (c.days ? `${c.days} ${t("pol.days")}` : `${c.seconds} ${t("pol.seconds")}`);
  const caps = policy.caps.length ? policy.caps.map((/** @type {any} */ c) => t("pol.cap").replace("{n}", c.limit).replace("{w}", unit(c))).join("; ") : t("pol.noCaps");
  /** @type {[string, string][]} */
  const rows = [
    ["pol.consent", t("pol.consentText")],
    ["pol.control", `${policy.control_pct} %`],
    ["pol.caps", caps],
    ["pol.quiet", policy.quiet ? `${policy.quiet.start} – ${policy.quiet.end}` : t("pol.noQuiet")],
    ["pol.negative", `${policy.negative_hours} ${t("pol.hours")}`],
    ["pol.tz", policy.default_timezone],
    ["pol.sender", `${policy.official_name} (${policy.official_user})`],
  ];
  $("c-policy").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", { text: t(k) }), el("dd", { text: v })]));
}

async function preview() {
  $("c-preview-pid-error").textContent = "";
  $("c-template-error").textContent = "";
  const out = $("c-rendered");
  out.replaceChildren();
  try {
    for (const v of variants()) {
      const got = await call("POST", "campaigns/render", { template: v.template, pid: value("c-preview-pid") });
      for (const [lang, r] of Object.entries(got.languages)) {
        out.append(el("div", { class: "bubble", "data-variant": v.id, "data-lang": lang }, [
          el("span", { class: "pill", text: `${v.id} · ${lang}` }), el("p", { text: /** @type {any} */ (r).text }),
        ]));
      }
    }
  } catch (error) {
    showError(error, $("c-preview-pid-error"));
  }
}

/** @param {number} ms */
const when = (ms) => (ms ? new Date(ms).toLocaleString() : "");

/** Counts of one campaign as text. @param {Record<string, number>} counts */
const countsText = (counts) => Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(" · ") || "–";

async function drawList() {
  // one request: the list carries the newest campaigns' counts (marketer_api.LIST_COUNTED)
  const campaigns = await call("GET", "campaigns");
  const rows = [];
  for (const c of campaigns.slice(0, 20)) {
    const buttons = (ACTIONS[c.state] ?? []).map((action) => {
      const b = el("button", { type: "button", class: action === "cancel" ? "danger" : "secondary", text: t(`cmp.${action}`), "data-action": action });
      b.addEventListener("click", () => control(c.cid, action));
      return b;
    });
    const results = el("button", { type: "button", class: "secondary", text: t("cmp.results") });
    results.addEventListener("click", async () => { open = c.cid; await drawResults(c); $("results").focus(); });
    rows.push(el("tr", { "data-cid": c.cid, "data-state": c.state }, [
      el("td", { text: c.definition.name }), el("td", {}, [el("span", { class: `pill state-${c.state}`, text: t(`state.${c.state}`) })]),
      el("td", { text: when(c.start_at) }), el("td", { class: "counts", text: countsText(c.counts) }),
      el("td", {}, [...buttons, results]),
    ]));
    if (c.cid === open) await drawResults(c);
  }
  $("c-list").replaceChildren(...(rows.length ? rows : [el("tr", {}, [el("td", { colspan: "5", class: "muted", text: t("cmp.none") })])]));
}

/** @param {string} cid @param {string} action */
async function control(cid, action) {
  $("c-list-error").textContent = "";
  try {
    await call("POST", `campaigns/${cid}/${action}`);
    await drawList();
  } catch (error) {
    showError(error, $("c-list-error"));
  }
}

/** The measured results of one campaign, as charts. @param {any} c */
async function drawResults(c) {
  const section = $("results");
  section.hidden = false;
  section.setAttribute("tabindex", "-1");
  $("results-title").textContent = `${t("cmp.results")} · ${c.definition.name}`;
  try {
    const doc = await call("GET", `campaigns/${c.cid}/results?bucket=${bucket}`);
    const redraw = (/** @type {string} */ b) => { bucket = b; drawResults(c).then(() => document.getElementById("results-bucket")?.focus()); };
    $("results-charts").replaceChildren(...resultCharts(doc, { bucket, onBucket: redraw }));
    $("results-note").textContent = "";
  } catch (error) {
    showError(error, $("results-note"));
  }
}

$("c-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ ($("c-form"));
  clearErrors(form);
  $("c-sent").textContent = "";
  const data = new FormData(form);
  const audience = data.get("aud") === "list" ? { pids: value("c-audience").split(/\s+/).filter(Boolean) } : { segment: value("c-segment") };
  const at = data.get("when") === "at" ? Date.parse(value("c-schedule")) : 0;
  if (Number.isNaN(at)) {
    $("c-schedule-error").textContent = t("cmp.pickTime");
    return;
  }
  try {
    await call("POST", "campaigns", {
      name: value("c-name"), topic: value("c-topic"), variants: variants(), ...audience,
      holdout_pct: Number(value("c-holdout") || 0), start_at: at, local_time: value("c-local"), rate: Number(value("c-rate") || 100),
    });
    $("c-sent").textContent = t("cmp.sent");
    for (const v of variants()) for (const lang of ["en", "zh-CN"]) forget(`c-${v.id}-${lang}`);
    forget("c-name");
    await drawList();
  } catch (error) {
    showError(error, $("c-form-error"));
  }
});
$("c-add-variant").addEventListener("click", () => {
  const box = variantRow(String.fromCharCode(97 + $("c-variants").children.length), 0);
  /** @type {HTMLElement} */ (box.querySelector("input"))?.focus();
});
$("c-preview").addEventListener("click", preview);

await startShell("campaigns", () => { drawPolicy(); drawList().catch(() => {}); });
variantRow("a", 100);
keep(/** @type {HTMLInputElement} */ ($("c-name")), "c-name");
const segments = await call("GET", "segments");
$("c-segment").replaceChildren(...segments.map((/** @type {any} */ s) => new Option(`${s.name || s.id} (${s.id})`, s.id)));
policy = await call("GET", "marketing/policy");
drawPolicy();
open = new URLSearchParams(location.hash.slice(1)).get("results") ?? ""; // the inbox links a case's campaign
await drawList();
// the counts move while a campaign sends: refresh the list (and the open results) every 2 s
setInterval(() => drawList().catch(() => {}), 2000);
