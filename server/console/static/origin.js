// @ts-check
/**
 * Where a support case came from, for the inbox: a reply to a campaign (its name and variant, with a
 * link to its results for roles that may see them), a journey's hand-over or reply (journey and
 * step), or a plain reply to the brand. The ticket carries it as `meta.support.origin`; campaign
 * names come from the customer's received campaigns (`/console/api/customers/{user}/campaigns`,
 * asked once per customer), journey names from `/console/api/journeys/{id}/name` (once per
 * journey), since an agent may not read the marketing API.
 */
import { call } from "./api.js";
import { el } from "./chat.js";
import { t, WORDS } from "./i18n.js";

Object.assign(WORDS.en, {
  "origin.campaign": "Reply to campaign", "origin.variant": "variant", "origin.journey": "Journey",
  "origin.step": "step", "origin.message": "Reply to a brand message", "origin.results": "Results",
});
Object.assign(WORDS["zh-CN"], {
  "origin.campaign": "回复营销活动", "origin.variant": "版本", "origin.journey": "旅程",
  "origin.step": "步骤", "origin.message": "回复品牌消息", "origin.results": "效果",
});

/** customer → (campaign id → name), filled once per customer */
const names = new Map();
/** journey id → name ("" while asked) */
const journeys = new Map();

/**
 * Learn the names of the campaigns `customer` received and of the case's journey (each once);
 * `redraw` runs when they arrive.
 * @param {string} customer @param {any} origin @param {() => void} redraw
 */
export function learnNames(customer, origin, redraw) {
  const jid = origin?.kind === "journey" ? String(origin.journey ?? "") : "";
  if (jid && !journeys.has(jid)) {
    journeys.set(jid, "");
    call("GET", `journeys/${encodeURIComponent(jid)}/name`).then((r) => { journeys.set(jid, r.name); redraw(); }).catch(() => {});
  }
  if (!customer || names.has(customer)) return;
  names.set(customer, new Map());
  call("GET", `customers/${encodeURIComponent(customer)}/campaigns`).then((r) => {
    for (const c of r.campaigns ?? []) if (c.name) names.get(customer).set(c.campaign, c.name);
    redraw();
  }).catch(() => {});
}

/**
 * The origin as one line of text ("" when the case has none).
 * @param {any} origin `meta.support.origin` @param {string} customer
 */
export function originText(origin, customer) {
  if (!origin?.kind) return "";
  if (origin.kind === "campaign") {
    const name = names.get(customer)?.get(origin.campaign) || origin.campaign;
    return `${t("origin.campaign")} ${name}${origin.variant ? ` (${t("origin.variant")} ${String(origin.variant).toUpperCase()})` : ""}`;
  }
  if (origin.kind === "journey") return `${t("origin.journey")} ${journeys.get(origin.journey) || origin.journey}, ${t("origin.step")} ${origin.step}`;
  return t("origin.message");
}

/**
 * The chat header's origin line; a campaign's links to its results for marketers and admins.
 * @param {any} origin @param {string} customer @param {string[]} roles
 */
export function originLine(origin, customer, roles) {
  const text = originText(origin, customer);
  if (!text) return el("span", { id: "chat-origin", hidden: "" });
  const line = el("p", { class: "muted origin", id: "chat-origin", "data-kind": origin.kind, text });
  if (origin.kind === "campaign" && roles.some((r) => r === "marketer" || r === "admin")) {
    line.append(" · ", el("a", { href: `/console/campaigns#results=${encodeURIComponent(origin.campaign)}`, text: t("origin.results") }));
  }
  return line;
}
