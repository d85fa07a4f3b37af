// @ts-check
/**
 * A campaign's results as plain SVG charts: the funnel per arm (targeted → sent → delivered → read
 * → clicked → converted), suppressions by reason, the conversion uplift against control with its
 * 95 % interval, the split check, and the funnel over time (per hour or day). The document is
 * GET /console/api/campaigns/{cid}/results?bucket=hour|day; a server without `delivered` or
 * `timeline` (older) still draws the rest.
 */
import { bars, interval, timeline } from "./charts.js";
import { el } from "./chat.js";
import { t } from "./i18n.js";

const FUNNEL = ["targeted", "sent", "delivered", "read", "clicked", "replied", "converted"];
/** The series drawn over time, with their colours. */
const OVER_TIME = [["sent", "#0b5cad"], ["delivered", "#2e7d32"], ["read", "#8e24aa"], ["clicked", "#ef6c00"], ["converted", "#b3261e"]];

/** @param {string} arm */
const armName = (arm) => (arm === "control" ? t("res.control") : `${t("cmp.variant")} ${arm}`);

/**
 * The funnel over time, with the hour/day switch.
 * @param {any[] | undefined} buckets the document's `timeline`
 * @param {string} bucket "hour" or "day"
 * @param {(bucket: string) => void} onBucket
 */
function overTime(buckets, bucket, onBucket) {
  const out = [el("h3", { text: t("res.overTime") })];
  if (!Array.isArray(buckets)) return [...out, el("p", { class: "muted", text: t("res.noTimeline") })];
  const pick = /** @type {HTMLSelectElement} */ (el("select", { id: "results-bucket", "aria-label": t("res.bucket") }));
  pick.append(new Option(t("res.hour"), "hour"), new Option(t("res.day"), "day"));
  pick.value = bucket;
  pick.addEventListener("change", () => onBucket(pick.value));
  out.push(el("label", { class: "muted" }, [t("res.bucket"), " ", pick]));
  if (!buckets.length) return [...out, el("p", { class: "muted", text: t("res.noneYet") })];
  const label = (/** @type {number} */ ms) => {
    const d = new Date(ms);
    return bucket === "day" ? d.toLocaleDateString() : `${d.toLocaleDateString()} ${String(d.getHours()).padStart(2, "0")}:00`;
  };
  const series = OVER_TIME.map(([name, color]) => ({ name, color, label: t(`res.${name}`) }));
  const rows = buckets.map((b) => ({ start: b.start, label: label(b.start), values: OVER_TIME.map(([k]) => b[k] ?? 0) }));
  const box = el("div", { class: "chart-scroll" });
  box.append(timeline(t("res.overTime"), rows, series));
  return [...out, box];
}

/**
 * The charts of one results document.
 * @param {any} doc
 * @param {{bucket?: string, onBucket?: (bucket: string) => void}} [over] the timeline's bucket and its switch
 * @returns {HTMLElement[]}
 */
export function resultCharts(doc, over = {}) {
  const out = [el("h3", { text: t("res.funnel") })];
  for (const [arm, a] of Object.entries(doc.arms)) {
    const stages = FUNNEL.filter((k) => k in a); // a stage the server does not report is left out, not drawn as 0
    const rows = /** @type {[string, number][]} */ (stages.map((k) => [t(`res.${k}`), a[k] ?? 0]));
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
  out.push(...overTime(doc.timeline, over.bucket ?? "hour", over.onBucket ?? (() => {})));
  return out;
}
