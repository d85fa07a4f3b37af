// @ts-check
/**
 * A campaign's results as plain SVG charts: the funnel per arm (targeted → sent → read → clicked
 * → converted), suppressions by reason, the conversion uplift against control with its 95 %
 * interval, and the split check. The document is GET /console/api/campaigns/{cid}/results.
 */
import { bars, interval } from "./charts.js";
import { el } from "./chat.js";
import { t } from "./i18n.js";

const FUNNEL = ["targeted", "sent", "read", "clicked", "replied", "converted"];

/** @param {string} arm */
const armName = (arm) => (arm === "control" ? t("res.control") : `${t("cmp.variant")} ${arm}`);

/**
 * The charts of one results document.
 * @param {any} doc
 * @returns {HTMLElement[]}
 */
export function resultCharts(doc) {
  const out = [el("h3", { text: t("res.funnel") })];
  for (const [arm, a] of Object.entries(doc.arms)) {
    const rows = /** @type {[string, number][]} */ (FUNNEL.map((k) => [t(`res.${k}`), a[k] ?? 0]));
    const box = el("div", { class: "arm", "data-arm": arm }, [el("h4", { text: armName(arm) })]);
    box.append(bars(`${t("res.funnel")} · ${armName(arm)}`, rows, arm === "control" ? "#5e6c84" : "#0b5cad"));
    out.push(box);
  }
  if (!doc.goal) out.push(el("p", { class: "muted", text: t("res.noGoal") }));
  /** @type {Record<string, number>} */
  const suppressed = {};
  for (const a of Object.values(doc.arms)) {
    for (const [reason, n] of Object.entries(/** @type {any} */ (a).decisions)) {
      if (reason !== "sent") suppressed[reason] = (suppressed[reason] ?? 0) + /** @type {number} */ (n);
    }
  }
  out.push(el("h3", { text: t("res.suppressed") }));
  const reasons = /** @type {[string, number][]} */ (Object.entries(suppressed).sort((x, y) => y[1] - x[1]));
  const supp = el("div", { class: "suppressed" });
  supp.append(reasons.length ? bars(t("res.suppressed"), reasons, "#b3261e") : el("p", { class: "muted", text: t("res.noSuppressed") }));
  out.push(supp);
  out.push(el("h3", { text: t("res.uplift") }));
  const diffs = /** @type {[string, any][]} */ ([["pooled", doc.uplift.pooled], ...Object.entries(doc.uplift.variants)]);
  const shown = diffs.filter(([, d]) => d);
  if (!shown.length) out.push(el("p", { class: "muted", text: t("res.noUplift") }));
  for (const [name, d] of shown) {
    const label = name === "pooled" ? t("res.pooled") : armName(name);
    out.push(el("div", { class: "uplift", "data-arm": name }, [el("h4", { text: label })]));
    /** @type {HTMLElement} */ (out[out.length - 1]).append(interval(`${t("res.uplift")} · ${label}`, d.difference, d.low, d.high));
  }
  const srm = doc.srm;
  out.push(el("p", { class: srm.mismatch ? "form-error" : "muted",
    text: `${t("res.srm")}: ${t(srm.mismatch ? "res.srmBad" : "res.srmOk")} (χ² ${srm.chi2.toFixed(2)}, p ${srm.p_value.toFixed(3)})` }));
  out.push(el("p", { class: "muted", text: t("res.overTime") }));
  return out;
}
