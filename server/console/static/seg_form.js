// @ts-check
/**
 * The segment builder's form rows: one row per top-level condition. Attribute, tag, event-count
 * and consent conditions get fields; any other condition (nested and/or, RFM, lifecycle, ...)
 * is shown as its text and edited in the text box. Parsing and printing the text form is the
 * server's (POST /console/api/segments/parse): this module only maps rows to JSON clauses and back.
 */
import { el } from "./chat.js";
import { t } from "./i18n.js";

const ATTR_OPS = ["eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "exists", "between", "prefix"];
const CMP_OPS = ["eq", "ne", "lt", "le", "gt", "ge"];
const SYMBOL = /** @type {Record<string, string>} */ ({ eq: "=", ne: "≠", lt: "<", le: "≤", gt: ">", ge: "≥" });
export const EDITABLE = ["attr", "tag", "events", "consent"];

/**
 * A literal typed into a value field: a JSON number, boolean or string when it reads as one, else the text.
 * @param {string} raw
 * @returns {unknown}
 */
function literal(raw) {
  const s = raw.trim();
  if (/^(-?\d+(\.\d+)?|true|false|".*")$/.test(s)) {
    try { return JSON.parse(s); } catch { /* plain text */ }
  }
  return s;
}

/** @param {unknown} v */
function shown(v) {
  if (Array.isArray(v)) return v.map((x) => (typeof x === "string" ? x : JSON.stringify(x))).join(", ");
  return v === undefined || v === null ? "" : String(v);
}

/**
 * @param {string} name field name @param {string} label i18n key @param {string} value
 * @param {string} [type]
 */
function input(name, label, value, type = "text") {
  const i = el("input", { name, type, value, "aria-label": t(label), placeholder: t(label), class: `f-${name}` });
  if (type === "number") i.setAttribute("step", "any");
  return i;
}

/** @param {string} name @param {string[]} options @param {string} value @param {(o: string) => string} [label] */
function select(name, options, value, label = (o) => SYMBOL[o] ?? o) {
  const s = el("select", { name, "aria-label": name, class: `f-${name}` });
  for (const o of options) s.append(new Option(label(o), o, false, o === value));
  return s;
}

/**
 * One row for `clause` (its `text` shown when the row has no fields).
 * @param {any} clause
 * @param {string} text
 * @param {() => void} onRemove
 */
export function row(clause, text, onRemove) {
  const li = el("li", { "data-type": clause.type, class: "seg-row" });
  li.dataset.clause = JSON.stringify(clause);
  /** @type {HTMLElement[]} */
  let fields;
  switch (clause.type) {
    case "attr":
      fields = [input("key", "seg.key", clause.key ?? ""), select("op", ATTR_OPS, clause.op ?? "eq"),
        input("value", "seg.value", shown(clause.value))];
      break;
    case "tag":
      fields = [input("name", "seg.tagName", clause.name ?? ""), input("min", "seg.minConf", shown(clause.min), "number")];
      break;
    case "events":
      fields = [input("event", "seg.event", clause.event ?? ""), input("window", "seg.window", clause.window ?? "7d"),
        select("op", CMP_OPS, clause.op ?? "ge"), input("value", "seg.value", shown(clause.value ?? 1), "number")];
      break;
    case "consent":
      fields = [input("topic", "seg.topic", clause.topic ?? "marketing"),
        select("state", ["granted", "denied", "withdrawn"], clause.state ?? "granted", (o) => o)];
      break;
    default:
      fields = [el("code", { text }), el("span", { class: "muted", text: ` ${t("seg.otherRow")}` })];
  }
  const kind = el("span", { class: "pill", text: EDITABLE.includes(clause.type) ? t(`seg.type.${clause.type}`) : clause.type });
  const remove = el("button", { type: "button", class: "secondary", text: t("seg.remove") });
  remove.addEventListener("click", () => { li.remove(); onRemove(); });
  li.append(kind, ...fields, remove);
  return li;
}

/**
 * The JSON clause a row stands for (a row without fields keeps the clause it was made from).
 * @param {HTMLElement} li
 * @returns {any}
 */
export function clauseOf(li) {
  const type = li.dataset.type ?? "";
  /** @param {string} n */
  const v = (n) => /** @type {HTMLInputElement | null} */ (li.querySelector(`[name=${n}]`))?.value ?? "";
  switch (type) {
    case "attr": {
      const op = v("op");
      const c = /** @type {any} */ ({ type, key: v("key").trim(), op });
      if (op === "in" || op === "between") c.value = v("value").split(",").map(literal);
      else if (op !== "exists") c.value = literal(v("value"));
      return c;
    }
    case "tag": {
      const c = /** @type {any} */ ({ type, name: v("name").trim() });
      if (v("min").trim()) c.min = Number(v("min"));
      return c;
    }
    case "events":
      return { type, agg: "count", event: v("event").trim(), window: v("window").trim(), op: v("op"), value: Number(v("value")) };
    case "consent":
      return { type, topic: v("topic").trim(), state: v("state") };
    default:
      return JSON.parse(li.dataset.clause ?? "{}");
  }
}

/** A blank clause of `type` for "add a condition". @param {string} type */
export function blank(type) {
  return /** @type {Record<string, any>} */ ({
    attr: { type, key: "", op: "eq", value: "" },
    tag: { type, name: "" },
    events: { type, agg: "count", event: "", window: "7d", op: "ge", value: 1 },
    consent: { type, topic: "marketing", state: "granted" },
  })[type];
}
