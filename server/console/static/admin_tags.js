// @ts-check
/** The admin page's tag definitions: list, define, change (Edit fills the form) and delete. */
import { ApiError, call, clearErrors, loadMe, showError } from "./api.js";
import { el } from "./chat.js";
import { t } from "./i18n.js";
import "./i18n_more.js";

await loadMe(); // the CSRF token (admin.js draws the header)
const $ = (/** @type {string} */ id) => document.getElementById(id);
const form = /** @type {HTMLFormElement} */ ($("td-form"));
const nameInput = /** @type {HTMLInputElement} */ ($("td-name"));
/** The definition being edited ("" while defining a new one). */
let editing = "";

/** The form's fields are `td-<field>`: an API problem's `field` is shown next to its input. @param {unknown} e */
function fieldError(e) {
  if (e instanceof ApiError && e.field) e.field = `td-${e.field}`;
  showError(e, $("td-form-error"), form);
}

/** @param {any} d */
function fill(d) {
  editing = d.name;
  nameInput.value = d.name;
  nameInput.readOnly = true;
  /** @type {HTMLInputElement} */ ($("td-description")).value = d.description;
  /** @type {HTMLSelectElement} */ ($("td-kind")).value = d.kind;
  /** @type {HTMLInputElement} */ ($("td-expiry_s")).value = String(d.expiry_s);
  for (const box of form.querySelectorAll("input[name=sources]")) {
    const b = /** @type {HTMLInputElement} */ (box);
    b.checked = d.sources.includes(b.value);
  }
  const submit = $("td-submit");
  if (submit) submit.textContent = t("tags.update");
  nameInput.focus();
}

function reset() {
  editing = "";
  form.reset();
  nameInput.readOnly = false;
  const submit = $("td-submit");
  if (submit) submit.textContent = t("tags.define");
}

async function draw() {
  const { definitions } = await call("GET", "tagdefs");
  const rows = definitions.map((/** @type {any} */ d) => {
    const edit = el("button", { type: "button", class: "secondary", text: t("tags.edit") });
    edit.addEventListener("click", () => fill(d));
    const remove = el("button", { type: "button", class: "danger", text: t("admin.delete") });
    remove.addEventListener("click", () => call("DELETE", `tagdefs/${encodeURIComponent(d.name)}`).then(draw).catch((e) => showError(e, $("td-form-error"))));
    return el("tr", { "data-tagdef": d.name }, [
      el("td", {}, [el("code", { text: d.name })]),
      el("td", { text: d.description }),
      el("td", { text: t(`tags.kind.${d.kind}`) }),
      el("td", { text: d.sources.length ? d.sources.join(", ") : t("tags.anySource") }),
      el("td", { text: d.expiry_s ? `${d.expiry_s} s` : t("tags.never") }),
      el("td", { class: "tools" }, [edit, remove]),
    ]);
  });
  $("tagdefs")?.replaceChildren(...(rows.length ? rows : [el("tr", {}, [el("td", { class: "muted", colspan: "6", text: t("tags.none") })])]));
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearErrors(form);
  const data = new FormData(form);
  const body = {
    description: String(data.get("description") ?? ""),
    kind: String(data.get("kind") ?? "manual"),
    sources: data.getAll("sources").map(String),
    expiry_s: Number(data.get("expiry_s") || 0),
  };
  try {
    if (editing) await call("PUT", `tagdefs/${encodeURIComponent(editing)}`, body);
    else await call("POST", "tagdefs", { name: String(data.get("name") ?? ""), ...body });
    reset();
    await draw();
  } catch (e) { fieldError(e); }
});
$("td-cancel")?.addEventListener("click", reset);
$("lang")?.addEventListener("change", () => { draw().catch(() => {}); }); // the table's words follow the switch
await draw();
