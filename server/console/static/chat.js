// @ts-check
/**
 * Drawing one support conversation: the header with its actions, the hand-over box (reason,
 * summary and the bot's cited passages — agents only), the messages (each seq once: the view
 * is keyed by seq, so a message replayed after a reconnect replaces itself), the bot's
 * streamed drafts, typing, the customer's read position, internal notes, and the composer.
 */
import { keep } from "./api.js";
import { t } from "./i18n.js";

/**
 * @typedef {object} Conv
 * @property {any} info the ConvInfo (agents' view: meta.support has reason and summary)
 * @property {string} customer
 * @property {Map<number, any>} messages by seq
 * @property {Map<string, {user: string, body: any}>} drafts by draft id
 * @property {Map<string, number>} typing user → when the indicator lapses (ms)
 * @property {number} unread
 * @property {number} customerRead the customer's read position
 * @property {number} myRead
 * @property {string} notesConv
 * @property {Map<number, any>} notes by seq
 * @property {boolean} loaded history fetched
 */

/**
 * @param {string} tag
 * @param {Record<string, string>} [attrs]
 * @param {(Node | string)[]} [children]
 */
export function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v;
    else node.setAttribute(k, v);
  }
  node.append(...children);
  return node;
}

/** @param {number} ms */
function time(ms) {
  return new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** What a message shows as text. @param {any} m */
export function textOf(m) {
  if (m.recalled) return "—";
  if (m.kind === "text") return String(m.body?.text ?? "");
  if (m.kind === "rich") return `[${m.body?.type ?? "file"}] ${m.body?.name ?? m.body?.url ?? ""}`;
  if (m.kind === "system") return systemText(m.body ?? {});
  return JSON.stringify(m.body);
}

/** @param {any} body */
function systemText(body) {
  if (body.event === "support") return `${t(`state.${body.state}`)}${body.agent ? ` · ${body.agent}` : ""}`;
  if (body.event === "csat_request") return "CSAT ?";
  if (body.event === "csat") return `CSAT ${body.score}/5`;
  if (body.event === "created") return t("sys.created");
  if (body.event === "members_added") return `+ ${(body.users ?? []).join(", ")}`;
  if (body.event === "members_removed") return `− ${(body.users ?? []).join(", ")}`;
  return body.event ?? "system";
}

/**
 * Whether the logged-in agent owns the conversation (may write in it).
 * @param {Conv} c
 * @param {string} me
 */
export function owns(c, me) {
  const support = c.info.meta?.support ?? {};
  return support.state === "agent" && support.agent === me;
}

/**
 * The chat column's skeleton for a conversation; returns the parts that are redrawn.
 * @param {HTMLElement} root
 * @param {Conv} c
 * @param {string} me
 * @param {{actions: HTMLElement, composer: HTMLElement}} parts made by the inbox (buttons wired there)
 */
export function drawChat(root, c, me, parts) {
  const support = c.info.meta?.support ?? {};
  const head = el("div", { class: "chat-head" }, [
    el("h2", { id: "chat-title", text: c.customer || c.info.name || c.info.conv }),
    el("span", { class: "pill", id: "chat-state", text: t(`state.${support.state ?? "bot"}`) }),
    parts.actions,
  ]);
  const handover = el("details", { class: "handover", open: "" }, [
    el("summary", { text: `${t("chat.handover")}: ${support.reason || "—"}` }),
    el("div", { class: "muted", text: t("chat.summary") }),
    el("pre", { id: "summary", text: support.summary || "—" }),
  ]);
  const messages = el("div", { class: "messages", id: "messages", role: "log", tabindex: "0", "aria-label": t("chat.reply") });
  const typing = el("div", { class: "typing", id: "typing", "aria-live": "polite" });
  root.replaceChildren(head, handover, messages, typing, parts.composer);
  drawMessages(c, me);
}

/**
 * Redraw the message list of the shown conversation (notes interleaved by time, drafts last).
 * @param {Conv} c
 * @param {string} me
 */
export function drawMessages(c, me) {
  const box = document.getElementById("messages");
  if (!box) return;
  const stick = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  const items = [...c.messages.values()].filter((m) => m.kind !== "edit" && m.kind !== "recall").map((m) => ({ m, note: false }));
  for (const n of c.notes.values()) if (n.kind === "text") items.push({ m: n, note: true });
  items.sort((a, b) => a.m.ts - b.m.ts || a.m.seq - b.m.seq);
  const nodes = items.map(({ m, note }) => {
    const who = m.sender === me ? "mine" : m.sender === c.customer ? "" : "bot";
    const cls = note ? "msg note" : m.kind === "system" ? "msg system" : `msg ${who}`;
    const meta = note ? `${t("chat.note")} · ${m.sender} · ${time(m.ts)}` : `${m.sender} · ${time(m.ts)}`;
    const read = !note && m.sender === me && m.seq <= c.customerRead ? ` · ✓ ${t("chat.read")}` : "";
    const attrs = { class: cls, "data-seq": String(m.seq) };
    if (note) attrs["data-note"] = "1";
    return m.kind === "system"
      ? el("div", { ...attrs, text: textOf(m) })
      : el("div", attrs, [el("span", { class: "meta", text: meta + read }), textOf(m)]);
  });
  for (const [id, d] of c.drafts) {
    nodes.push(el("div", { class: "msg bot draft", "data-draft": id }, [el("span", { class: "meta", text: `${d.user} · ${t("chat.draft")}` }), String(d.body?.text ?? "")]));
  }
  box.replaceChildren(...nodes);
  if (stick) box.scrollTop = box.scrollHeight;
}

/** Who is typing in the shown conversation. @param {Conv} c */
export function drawTyping(c) {
  const line = document.getElementById("typing");
  if (!line) return;
  const now = Date.now();
  const who = [...c.typing].filter(([, until]) => until > now).map(([u]) => u);
  line.textContent = who.length ? `${who.join(", ")} ${t("chat.typing")}` : "";
}

/**
 * The composer: reply (kept across a forced login), canned replies, internal note.
 * @param {Conv} c
 * @param {boolean} mayWrite
 * @param {{title: string, text: string}[]} canned
 */
export function makeComposer(c, mayWrite, canned) {
  const reply = /** @type {HTMLTextAreaElement} */ (el("textarea", { id: "reply", rows: "2", "aria-label": t("chat.reply"), placeholder: t("chat.replyPlaceholder") }));
  keep(reply, `reply:${c.info.conv}`);
  const send = el("button", { type: "button", id: "send", text: t("chat.send") });
  const pick = /** @type {HTMLSelectElement} */ (el("select", { id: "canned", "aria-label": t("chat.canned") }));
  pick.append(new Option(canned.length ? t("chat.canned") : t("chat.cannedNone"), ""));
  for (const r of canned) pick.append(new Option(r.title, r.text));
  pick.addEventListener("change", () => {
    if (!pick.value) return;
    reply.value = reply.value ? `${reply.value}\n${pick.value}` : pick.value;
    reply.dispatchEvent(new Event("input"));
    pick.value = "";
    reply.focus();
  });
  const note = /** @type {HTMLTextAreaElement} */ (el("textarea", { id: "note", rows: "1", "aria-label": t("chat.note"), placeholder: t("chat.notePlaceholder") }));
  keep(note, `note:${c.info.conv}`);
  const addNote = el("button", { type: "button", id: "add-note", class: "secondary", text: t("chat.addNote") });
  const error = el("p", { class: "form-error", id: "chat-error", role: "alert" });
  const rows = [];
  if (mayWrite) rows.push(el("div", { class: "row" }, [reply, send]), el("div", { class: "tools" }, [pick]));
  else rows.push(el("p", { class: "muted", text: t("chat.readonly") }));
  rows.push(el("div", { class: "row note-row" }, [note, addNote]), error);
  return { composer: el("div", { class: "composer" }, rows), reply, send, note, addNote, error };
}
