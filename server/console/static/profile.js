// @ts-check
/** The customer beside the chat: attributes, tags with provenance and confidence, consent, recent
 * events, the campaigns received (read / clicked) and earlier tickets. */
import { call } from "./api.js";
import { el } from "./chat.js";
import { t } from "./i18n.js";
import "./i18n_more.js";
import { originText } from "./origin.js";

/**
 * Draw the profile panel for `customer` (profile over the WebSocket, tickets from the console API).
 * @param {import("./parley-client.js").ParleyClient} client
 * @param {string} customer
 * @param {string} current the conversation on screen (marked in the ticket list)
 */
export async function drawProfile(client, customer, current) {
  const panel = document.getElementById("profile");
  if (!panel || !customer) return;
  const who = encodeURIComponent(customer);
  const [reply, tickets, audience, got] = await Promise.all([
    client.profileGet(customer).catch(() => null),
    call("GET", `customers/${who}/tickets`).catch(() => []),
    call("GET", `customers/${who}/audience`).catch(() => ({ profile: null, events: [] })),
    call("GET", `customers/${who}/campaigns`).catch(() => ({ campaigns: [] })),
  ]);
  const profile = reply?.profile ?? { tags: [], attributes: {}, counters: {} };
  const seen = new Set((profile.tags ?? []).map((/** @type {any} */ tag) => tag.name));
  // the audience profile's tags (segments, rules, models) beside the chat profile's
  profile.tags = [...(profile.tags ?? []), ...(audience.profile?.tags ?? []).filter((/** @type {any} */ tag) => !seen.has(tag.name))];
  const attrs = Object.entries({ ...(audience.profile?.attributes ?? {}), ...(profile.attributes ?? {}) });
  const consent = Object.entries(audience.profile?.consent ?? {});
  const consentList = el("dl", {}, consent.flatMap(([topic, c]) => [el("dt", { text: topic }), el("dd", { "data-consent": topic, text: t(`consent.${c.state}`) })]));
  const events = el("ul", { class: "tickets" }, audience.events.map((/** @type {any} */ e) =>
    el("li", { "data-event": e.name }, [`${new Date(e.ts).toLocaleString()} · ${e.name}`])));
  const dl = el("dl", {}, attrs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: typeof v === "string" ? v : JSON.stringify(v) })]));
  const tags = (profile.tags ?? []).map((/** @type {any} */ tag) =>
    el("div", { class: "tag", "data-tag": tag.name }, [
      el("span", { text: tag.name }),
      el("small", { text: `${t("profile.source")}: ${tag.source} · ${t("profile.confidence")}: ${Math.round((tag.confidence ?? 1) * 100)}%` }),
    ]),
  );
  const list = el("ul", { class: "tickets" }, tickets.map((/** @type {any} */ k) =>
    el("li", { "data-ticket": k.conv }, [
      `${new Date(k.created).toLocaleDateString()} · ${t(`state.${k.state}`)}${k.agent ? ` · ${k.agent}` : ""}${k.score ? ` · ★${k.score}` : ""}${originText(k.origin, customer) ? ` · ${originText(k.origin, customer)}` : ""}${k.conv === current ? " ◀" : ""}`,
    ]),
  ));
  const campaigns = el("ul", { class: "tickets" }, got.campaigns.map((/** @type {any} */ c) =>
    el("li", { "data-campaign": c.campaign }, [
      `${new Date(c.sent).toLocaleString()} · ${c.name} · ${t("profile.variant")} ${c.variant} · ${t(c.read ? "profile.read" : "profile.unread")}${c.clicked ? ` · ${t("profile.clicked")}` : ""}`,
    ])));
  const none = () => el("p", { class: "muted", text: t("profile.none") });
  panel.replaceChildren(
    el("h2", { id: "profile-title", text: `${t("profile.title")}: ${customer}` }),
    el("h3", { text: t("profile.attributes") }),
    attrs.length ? dl : none(),
    el("h3", { text: t("profile.tags") }),
    ...(tags.length ? tags : [none()]),
    el("h3", { text: t("profile.consent") }),
    consent.length ? consentList : none(),
    el("h3", { text: t("profile.events") }),
    audience.events.length ? events : none(),
    el("h3", { text: t("profile.campaigns") }),
    got.campaigns.length ? campaigns : none(),
    el("h3", { text: t("profile.tickets") }),
    tickets.length ? list : none(),
  );
}
