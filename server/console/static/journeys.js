// @ts-check
/**
 * The journeys (read-only): each with its trigger, its steps in order and how many profiles wait
 * at each step now (GET /console/api/journeys; refreshed every 5 s). Journeys are defined with the
 * admin API (/v1/journeys).
 */
import "./i18n_mkt.js";
import { call, showError } from "./api.js";
import { el } from "./chat.js";
import { t } from "./i18n.js";
import { startShell } from "./shell.js";

/** What one step does, in a few words (in the page's language). @param {any} s */
function describe(s) {
  const w = (/** @type {string} */ key, /** @type {Record<string, string | number>} */ vars = {}) =>
    Object.entries(vars).reduce((text, [k, v]) => text.replace(`{${k}}`, String(v)), t(`jr.${key}`));
  switch (s.type) {
    case "wait": return s.until_local ? w("untilLocal", { at: s.until_local }) : w("wait", { n: s.seconds });
    case "wait_event": return w("waitEvent", { event: s.event, n: s.timeout_s });
    case "branch": return w("branch", { n: s.cases.length });
    case "send": return `${w("send")}: ${Object.values(s.template.versions).map((/** @type {any} */ c) => c.text).join(" / ")}`;
    case "update": return `${w("update")}: ${[...s.add_tags ?? [], ...Object.keys(s.set ?? {})].join(", ")}`;
    case "handover": return w("handover");
    case "exit": return w("exit");
    default: return s.type;
  }
}

async function draw() {
  const box = /** @type {HTMLElement} */ (document.getElementById("journeys"));
  try {
    const journeys = await call("GET", "journeys");
    box.replaceChildren(...(journeys.length ? journeys.map((/** @type {any} */ j) => {
      const steps = j.definition.steps.map((/** @type {any} */ s) => el("li", { "data-step": s.id }, [
        el("span", { class: "pill", text: s.id }), el("span", { text: ` ${describe(s)} ` }),
        el("strong", { class: "waiting", text: String(j.waiting[s.id] ?? 0) }), el("span", { class: "muted", text: ` ${t("jr.waiting")}` }),
      ]));
      return el("article", { class: "journey", "data-journey": j.id }, [
        el("h3", { text: `${j.definition.name} ` }, [el("span", { class: `pill state-${j.state}`, text: j.state })]),
        el("p", { class: "muted", text: `${t("jr.trigger")}: ${j.trigger} · ${t("jr.version")} ${j.version}${j.definition.goal ? ` · ${t("jr.goal")}: ${j.definition.goal}` : ""}` }),
        el("ol", { class: "steps" }, steps),
      ]);
    }) : [el("p", { class: "muted", text: t("jr.none") })]));
  } catch (error) {
    showError(error, document.getElementById("journeys-error"));
  }
}

await startShell("journeys", () => draw());
await draw();
setInterval(draw, 5000);
