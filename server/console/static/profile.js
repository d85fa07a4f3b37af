// @ts-check
/** The customer beside the chat: attributes, tags with provenance and confidence, earlier tickets. */
import { call } from "./api.js";
import { el } from "./chat.js";
import { t } from "./i18n.js";

/**
 * Draw the profile panel for `customer` (profile over the WebSocket, tickets from the console API).
 * @param {import("./parley-client.js").ParleyClient} client
 * @param {string} customer
 * @param {string} current the conversation on screen (marked in the ticket list)
 */
export async function drawProfile(client, customer, current) {
  const panel = document.getElementById("profile");
  if (!panel || !customer) return;
  const [reply, tickets] = await Promise.all([
    client.profileGet(customer).catch(() => null),
    call("GET", `customers/${encodeURIComponent(customer)}/tickets`).catch(() => []),
  ]);
  const profile = reply?.profile ?? { tags: [], attributes: {}, counters: {} };
  const attrs = Object.entries(profile.attributes ?? {});
  const dl = el("dl", {}, attrs.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: typeof v === "string" ? v : JSON.stringify(v) })]));
  const tags = (profile.tags ?? []).map((/** @type {any} */ tag) =>
    el("div", { class: "tag", "data-tag": tag.name }, [
      el("span", { text: tag.name }),
      el("small", { text: `${t("profile.source")}: ${tag.source} · ${t("profile.confidence")}: ${Math.round((tag.confidence ?? 1) * 100)}%` }),
    ]),
  );
  const list = el("ul", { class: "tickets" }, tickets.map((/** @type {any} */ k) =>
    el("li", {}, [
      `${new Date(k.created).toLocaleDateString()} · ${t(`state.${k.state}`)}${k.agent ? ` · ${k.agent}` : ""}${k.score ? ` · ★${k.score}` : ""}${k.conv === current ? " ◀" : ""}`,
    ]),
  ));
  const none = () => el("p", { class: "muted", text: t("profile.none") });
  panel.replaceChildren(
    el("h2", { id: "profile-title", text: `${t("profile.title")}: ${customer}` }),
    el("h3", { text: t("profile.attributes") }),
    attrs.length ? dl : none(),
    el("h3", { text: t("profile.tags") }),
    ...(tags.length ? tags : [none()]),
    el("h3", { text: t("profile.tickets") }),
    tickets.length ? list : none(),
  );
}
