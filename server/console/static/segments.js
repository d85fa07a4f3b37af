// @ts-check
/**
 * The segment builder: the rule as a form and as one line of text, kept in sync through the
 * server (each edit is sent to POST /console/api/segments/parse, which answers with both forms,
 * printed and parsed by the Python grammar, plus the live count and a sample), "why is this
 * profile in it" (explain), and saving.
 */
import "./i18n_mkt.js";
import { ApiError, call, clearErrors, keep, showError } from "./api.js";
import { el } from "./chat.js";
import { t } from "./i18n.js";
import { blank, clauseOf, row } from "./seg_form.js";
import { startShell } from "./shell.js";

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const rows = $("seg-rows");
const join = /** @type {HTMLSelectElement} */ ($("seg-join"));
const text = /** @type {HTMLTextAreaElement} */ ($("seg-text"));
/** Answers to older edits are dropped: only the latest edit's answer is drawn. */
let seq = 0;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let timer;
/** The last rule the server accepted (what explain and save use). */
let accepted = "";

/**
 * Show a refused rule next to the field it came from (without taking the focus from the user).
 * @param {unknown} error
 * @param {string} fallback
 */
function refused(error, fallback) {
  const field = error instanceof ApiError && error.field ? error.field : fallback;
  const path = error instanceof ApiError ? error.path : "";
  const target = document.getElementById(`${field}-error`) ?? $(`${fallback}-error`);
  const message = error instanceof Error ? error.message : String(error);
  target.textContent = path && !message.includes(path) ? `${message} (${path})` : message;
  $(field)?.setAttribute("aria-invalid", "true");
}

function clearRuleErrors() {
  for (const id of ["seg-text", "seg-form"]) {
    $(`${id}-error`).textContent = "";
    $(id).removeAttribute("aria-invalid");
  }
}

/** The rule the form stands for (null: no condition yet). */
function formRule() {
  const clauses = [...rows.children].map((li) => clauseOf(/** @type {HTMLElement} */ (li)));
  if (!clauses.length) return null;
  return clauses.length === 1 ? clauses[0] : { type: join.value, items: clauses };
}

/** Draw the form from the server's answer. @param {any} answer */
function drawForm(answer) {
  const r = answer.rule;
  const nested = r.type === "and" || r.type === "or";
  join.value = nested ? r.type : "and";
  const items = nested ? r.items.map((/** @type {any} */ c, /** @type {number} */ i) => [c, answer.items[i].text]) : [[r, answer.text]];
  rows.replaceChildren(...items.map(([c, s]) => row(c, s, edited)));
  $("seg-empty").hidden = rows.children.length > 0;
}

/** Count and sample of the accepted rule. @param {any} answer */
function drawPreview(answer) {
  $("seg-count").textContent = String(answer.count);
  $("seg-sample").replaceChildren(
    ...answer.sample.map((/** @type {any} */ p) => {
      const why = el("button", { type: "button", class: "secondary", text: t("seg.why") });
      why.addEventListener("click", () => explain(p.pid));
      const attrs = Object.entries(p.attributes ?? {}).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" · ");
      return el("tr", { "data-pid": p.pid }, [el("td", {}, [el("code", { text: p.pid })]), el("td", { text: attrs }), el("td", {}, [why])]);
    }),
  );
}

/**
 * Send one form of the rule; draw the other from the answer.
 * @param {"text" | "form"} from
 */
async function sync(from) {
  const mine = ++seq;
  const rule = from === "form" ? formRule() : null;
  if (from === "form" && rule === null) {
    text.value = "";
    accepted = "";
    $("seg-count").textContent = "–";
    $("seg-sample").replaceChildren();
    clearRuleErrors();
    return;
  }
  if (from === "text" && !text.value.trim()) return;
  try {
    const answer = await call("POST", "segments/parse", from === "text" ? { text: text.value } : { rule });
    if (mine !== seq) return;
    clearRuleErrors();
    accepted = answer.text;
    if (from === "form") {
      text.value = answer.text;
      text.dispatchEvent(new Event("kept"));
    } else drawForm(answer);
    drawPreview(answer);
  } catch (error) {
    if (mine === seq) refused(error, from === "text" ? "seg-text" : "seg-form");
  }
}

function edited() {
  $("seg-empty").hidden = rows.children.length > 0;
  clearTimeout(timer);
  timer = setTimeout(() => sync("form"), 350);
}

/** @param {string} pid */
async function explain(pid) {
  const input = /** @type {HTMLInputElement} */ ($("seg-pid"));
  input.value = pid;
  $("seg-pid-error").textContent = "";
  try {
    const why = await call("POST", "segments/explain", { text: accepted || text.value, pid });
    $("explain-verdict").textContent = `${pid} ${t(why.member ? "seg.member" : "seg.notMember")}`;
    $("explain-clauses").replaceChildren(
      ...why.clauses.map((/** @type {any} */ c) => el("li", { class: c.held ? "held" : "failed", style: `margin-left:${(c.path.split("/").length - 1) * 12}px` }, [
        el("span", { "aria-hidden": "true", text: c.held ? "✓ " : "✗ " }),
        el("code", { text: c.text }),
        el("span", { class: "muted", text: ` — ${t(c.held ? "seg.held" : "seg.failed")}` }),
      ])),
    );
  } catch (error) {
    showError(error, $("seg-pid-error"));
  }
}

async function drawSaved() {
  const saved = await call("GET", "segments");
  $("seg-list").replaceChildren(
    ...(saved.length ? saved.map((/** @type {any} */ s) => {
      const open = el("button", { type: "button", class: "link", text: s.id });
      open.addEventListener("click", () => { text.value = s.text; sync("text"); text.focus(); });
      return el("tr", {}, [el("td", {}, [open]), el("td", { text: s.name }), el("td", {}, [el("code", { text: s.text })])]);
    }) : [el("tr", {}, [el("td", { colspan: "3", class: "muted", text: t("seg.none") })])]),
  );
}

await startShell("segments", () => { edited(); drawSaved().catch(() => {}); });
rows.addEventListener("input", edited);
rows.addEventListener("change", edited);
join.addEventListener("change", edited);
$("seg-add").addEventListener("click", () => {
  const type = /** @type {HTMLSelectElement} */ ($("seg-add-type")).value;
  const li = row(blank(type), "", edited);
  rows.append(li);
  edited();
  /** @type {HTMLElement | null} */ (li.querySelector("input, select"))?.focus();
});
keep(text, "seg-text");
const saveKept = text.oninput;
text.oninput = (event) => {
  saveKept?.call(text, event);
  clearTimeout(timer);
  timer = setTimeout(() => sync("text"), 450);
};
text.addEventListener("kept", () => saveKept?.call(text, new Event("input")));
$("explain-form").addEventListener("submit", (event) => {
  event.preventDefault();
  explain(/** @type {HTMLInputElement} */ ($("seg-pid")).value.trim());
});
$("save-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = /** @type {HTMLFormElement} */ (event.target);
  clearErrors(form);
  $("seg-saved-ok").textContent = "";
  try {
    await call("POST", "segments", {
      id: /** @type {HTMLInputElement} */ ($("seg-id")).value.trim(),
      name: /** @type {HTMLInputElement} */ ($("seg-name")).value.trim(),
      text: accepted || text.value,
      replace: /** @type {HTMLInputElement} */ ($("seg-replace")).checked,
    });
    $("seg-saved-ok").textContent = t("seg.savedOk");
    await drawSaved();
  } catch (error) {
    if (error instanceof ApiError && (error.field === "seg-text" || error.field === "seg-form")) refused(error, "seg-text");
    else showError(error, $("save-form-error"));
  }
});
await drawSaved();
if (text.value.trim()) sync("text");
