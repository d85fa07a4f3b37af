// @ts-check
/**
 * The agent inbox: the live queue, claim, the conversation in real time over the protocol's
 * WebSocket (the browser client, `parley-client.js`, with a short-lived token of the agent's
 * own chat identity from `/console/api/ws-token`), notes, transfer, release, resolve.
 *
 * The queue is the server's `support_queue`, asked again whenever the server pushes a
 * `support_queue_event` (a ticket entered or left the waiting queue: an agent is not a member of
 * a waiting conversation, so this is its only news of one), after every change and reconnect,
 * and once a minute in case an event was lost (publish is at-most-once); a conversation that
 * auto-assignment gives this agent arrives as `conv_event`.
 * Messages come from the client's `message` event, exactly once and in order per conversation,
 * across reconnects; the view is also keyed by seq, so nothing is ever shown twice.
 */
import { call, forget } from "./api.js";
import { drawChat, drawMessages, drawTyping, el, makeComposer, owns, textOf } from "./chat.js";
import { t } from "./i18n.js";
import { askOnFirstClick, notify, titleCount } from "./notify.js";
import { learnNames, originLine, originText } from "./origin.js";
import { ParleyClient } from "./parley-client.js";
import { drawProfile } from "./profile.js";
import { startShell } from "./shell.js";

/** The slow fallback poll (the queue is pushed; this only heals a lost event). */
const QUEUE_FALLBACK_MS = 60_000;
/** A queue request that failed (lost to a reconnect, a busy node) is asked again this soon. */
const QUEUE_RETRY_MS = 3000;
/** How often the "is typing" line is redrawn (it expires by itself). */
const TYPING_REDRAW_MS = 4000;
const TYPING_MS = 6000;

/** @type {Map<string, import("./chat.js").Conv>} */
const convs = new Map();
/** notes conversation → the support conversation it belongs to */
const notesOf = new Map();
/** @type {string[]} */
let waiting = [];
/** @type {string[]} */
let mine = [];
let selected = "";
/** @type {{title: string, text: string}[]} */
let canned = [];
let typingSent = 0;

const me = await startShell("inbox", () => { drawQueue(); if (selected) select(selected); }, () => client.close());
const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws`;
const client = new ParleyClient({
  url: wsUrl,
  clientName: "parley-console/0.1",
  getToken: async () => (await call("POST", "ws-token")).token,
});
/** @type {any} */ (window).parleyConsole = { client, convs }; // for the curious, and the e2e tests

// ------------------------------------------------------------------ state
/** @param {any} info a ConvInfo of a support conversation */
function upsert(info) {
  let c = convs.get(info.conv);
  if (!c) {
    c = { info, customer: "", messages: new Map(), drafts: new Map(), typing: new Map(), unread: 0, customerRead: 0, myRead: 0, notesConv: "", notes: new Map(), loaded: false };
    convs.set(info.conv, c);
  } else {
    const support = { ...(c.info.meta?.support ?? {}), ...(info.meta?.support ?? {}) };
    c.info = { ...c.info, ...info, meta: { ...(c.info.meta ?? {}), ...(info.meta ?? {}), support }, members: info.members?.length ? info.members : c.info.members };
  }
  c.customer ||= c.info.meta?.support?.customer ?? "";
  return c;
}

async function refreshQueue() {
  if (client.state !== "connected") return;
  const reply = await client.supportQueue();
  const fresh = reply.waiting.filter((/** @type {any} */ i) => !waiting.includes(i.conv));
  waiting = reply.waiting.map((/** @type {any} */ i) => upsert(i).info.conv);
  mine = reply.mine.map((/** @type {any} */ i) => upsert(i).info.conv);
  if (fresh.length) notify(t("queue.waiting"), fresh.map((/** @type {any} */ i) => i.conv).join(", "));
  drawQueue();
}

let queueRetry = 0;
/** Refresh the queue without waiting; if that fails, again in QUEUE_RETRY_MS (one retry pending at a
 * time), so a lost answer never leaves the queue stale until the slow poll. */
function refreshQueueSoon() {
  refreshQueue().catch(() => {
    clearTimeout(queueRetry);
    queueRetry = window.setTimeout(refreshQueueSoon, QUEUE_RETRY_MS);
  });
}

/** Find the notes conversations this agent is in (their meta names the ticket). */
async function findNotes() {
  const list = await client.convList({ limit: 500 });
  for (const s of list.convs) {
    if (!s.name.startsWith("notes ") || notesOf.has(s.conv)) continue;
    const info = (await client.convGet(s.conv)).conv;
    if (info.meta?.notes_for) linkNotes(info.conv, info.meta.notes_for);
  }
}

/** @param {string} notes @param {string} conv */
function linkNotes(notes, conv) {
  notesOf.set(notes, conv);
  const c = convs.get(conv);
  if (c) c.notesConv = notes;
}

/** @param {import("./chat.js").Conv} c */
async function load(c) {
  if (c.loaded) return;
  const member = (c.info.members ?? []).some((/** @type {any} */ m) => m.user === me.username);
  if (!member) return; // waiting: not readable before a claim
  const page = await client.history(c.info.conv, { limit: 100 });
  for (const m of page.messages) c.messages.set(m.seq, m);
  const notes = c.notesConv || [...notesOf].find(([, conv]) => conv === c.info.conv)?.[0] || "";
  if (notes) {
    c.notesConv = notes;
    for (const m of (await client.history(notes, { limit: 100 })).messages) c.notes.set(m.seq, m);
  }
  c.loaded = true;
}

// ------------------------------------------------------------------ drawing
function drawQueue() {
  /** @param {string} id @param {string[]} ids @param {string} empty */
  const fill = (id, ids, empty) => {
    const ul = document.getElementById(id);
    if (!ul) return;
    const items = ids.map((conv) => {
      const c = /** @type {import("./chat.js").Conv} */ (convs.get(conv));
      const last = [...c.messages.values()].filter((m) => m.kind !== "system").at(-1);
      const li = el("li", { role: "option", tabindex: "0", "data-conv": conv, "aria-selected": String(conv === selected) }, [
        el("span", { class: "who" }, [c.customer || conv, el("small", { text: last ? textOf(last) : c.info.meta?.support?.reason || t(`state.${c.info.meta?.support?.state}`) })]),
      ]);
      learnNames(c.customer, c.info.meta?.support?.origin, namesArrived);
      const origin = originText(c.info.meta?.support?.origin, c.customer);
      if (origin) li.append(el("span", { class: "pill origin", "data-origin": c.info.meta.support.origin.kind, text: origin }));
      if (c.unread) li.append(el("span", { class: "badge", "aria-label": "unread", text: String(c.unread) }));
      if (id === "waiting") {
        const claim = el("button", { type: "button", class: "secondary", "data-claim": conv, text: t("queue.claim") });
        claim.addEventListener("click", (e) => { e.stopPropagation(); claimConv(conv); });
        li.append(claim);
      }
      li.addEventListener("click", () => select(conv));
      li.addEventListener("keydown", (e) => {
        // a key pressed on a control inside the row (its Claim button) is that control's: Enter
        // there must claim, not open the conversation (and not be swallowed by preventDefault)
        if (e.target !== li) return;
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(conv); }
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault();
          const all = [...document.querySelectorAll(".queue li[data-conv]")];
          const next = all[all.indexOf(li) + (e.key === "ArrowDown" ? 1 : -1)];
          if (next instanceof HTMLElement) next.focus();
        }
      });
      return li;
    });
    ul.replaceChildren(...(items.length ? items : [el("li", { class: "empty", text: t(empty) })]));
  };
  fill("waiting", waiting, "queue.empty");
  fill("mine", mine, "queue.mineEmpty");
  const count = document.getElementById("waiting-count");
  if (count) count.textContent = String(waiting.length);
  titleCount([...convs.values()].reduce((n, c) => n + c.unread, 0));
}

/** Campaign names arrived: redraw the queue and the open case's origin line. */
function namesArrived() {
  drawQueue();
  const c = convs.get(selected);
  document.getElementById("chat-origin")?.replaceWith(originLine(c?.info.meta?.support?.origin, c?.customer ?? "", me.roles ?? []));
}

/** @param {string} conv */
async function select(conv) {
  const c = convs.get(conv);
  const root = document.getElementById("chat");
  if (!c || !root) return;
  selected = conv;
  c.unread = 0;
  await load(c).catch(showError);
  const mayWrite = owns(c, me.username);
  const parts = makeComposer(c, mayWrite, canned);
  drawChat(root, c, me.username, { actions: actions(c), composer: parts.composer });
  document.getElementById("chat-title")?.after(originLine(c.info.meta?.support?.origin, c.customer, me.roles ?? []));
  wireComposer(c, parts);
  drawQueue();
  markRead(c);
  drawProfile(client, c.customer, conv).catch(() => {});
}

/** @param {import("./chat.js").Conv} c */
function actions(c) {
  const box = el("div", { class: "tools" });
  const state = c.info.meta?.support?.state;
  if (state === "waiting_for_agent" || state === "bot") {
    const claim = el("button", { type: "button", id: "claim", text: t("queue.claim") });
    claim.addEventListener("click", () => claimConv(c.info.conv));
    box.append(claim);
  }
  if (!owns(c, me.username)) return box;
  const transfer = /** @type {HTMLSelectElement} */ (el("select", { id: "transfer", "aria-label": t("chat.transfer") }));
  transfer.append(new Option(t("chat.transfer"), ""));
  call("GET", "agents").then((agents) => {
    for (const a of agents) if (a.user !== me.username) transfer.append(new Option(`${a.name || a.user}${a.online ? " ●" : ""}`, a.user));
  }).catch(showError);
  transfer.addEventListener("change", () => transfer.value && act(() => client.supportTransfer(c.info.conv, transfer.value)));
  const release = el("button", { type: "button", class: "secondary", id: "release", text: t("chat.release") });
  release.addEventListener("click", () => act(() => client.supportRelease(c.info.conv)));
  const resolve = el("button", { type: "button", class: "danger", id: "resolve", text: t("chat.resolve") });
  resolve.addEventListener("click", () => act(() => client.supportResolve(c.info.conv)));
  box.append(transfer, release, resolve);
  return box;
}

/**
 * @param {import("./chat.js").Conv} c
 * @param {ReturnType<typeof makeComposer>} parts
 */
function wireComposer(c, parts) {
  const conv = c.info.conv;
  const send = async () => {
    const text = parts.reply.value;
    if (!text.trim()) return;
    parts.reply.value = "";
    forget(`reply:${conv}`);
    client.typing(conv, false);
    typingSent = 0;
    try {
      await client.send(conv, { text });
    } catch (error) {
      parts.reply.value = text; // not sent: give it back
      showError(error);
    }
  };
  parts.send.addEventListener("click", send);
  parts.reply.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(); }
  });
  parts.reply.addEventListener("input", () => {
    if (Date.now() - typingSent > 3000 && parts.reply.value) { client.typing(conv, true); typingSent = Date.now(); }
  });
  parts.addNote.addEventListener("click", async () => {
    const text = parts.note.value;
    if (!text.trim()) return;
    try {
      const ack = await client.supportNote(conv, text);
      linkNotes(ack.conv, conv);
      parts.note.value = "";
      forget(`note:${conv}`);
    } catch (error) {
      showError(error);
    }
  });
}

// ------------------------------------------------------------------ actions
/** @param {string} conv */
async function claimConv(conv) {
  selected = conv;
  await act(async () => {
    const reply = await client.supportClaim(conv);
    upsert(reply.conv);
    await findNotes().catch(() => {});
  });
}

/** @param {() => Promise<unknown>} work */
async function act(work) {
  /** @type {unknown} */
  let failed = null;
  try {
    await work();
  } catch (error) {
    failed = error;
  }
  await refreshQueue().catch(() => refreshQueueSoon());
  if (selected) await select(selected);
  if (failed) showError(failed); // after the redraw, which makes a new error box
}

/** @param {unknown} error */
function showError(error) {
  const box = document.getElementById("chat-error");
  const text = error instanceof Error ? error.message : String(error);
  if (box) {
    box.textContent = text;
    return;
  }
  const toast = document.getElementById("toast"); // no conversation open: say it on top
  if (!toast) return;
  toast.textContent = text;
  toast.hidden = false;
  setTimeout(() => { toast.hidden = true; }, 8000);
}

/** @param {import("./chat.js").Conv} c */
function markRead(c) {
  const last = Math.max(0, ...c.messages.keys());
  if (c.info.conv !== selected || document.hidden || last <= c.myRead || !owns(c, me.username)) return;
  c.myRead = last;
  client.read(c.info.conv, last).catch(() => {});
}

// ------------------------------------------------------------------ events
client.on("message", (m) => {
  const ticket = notesOf.get(m.conv);
  if (ticket) {
    convs.get(ticket)?.notes.set(m.seq, m);
    if (ticket === selected) drawMessages(/** @type {any} */ (convs.get(ticket)), me.username);
    return;
  }
  const c = convs.get(m.conv);
  if (!c) return void refreshQueueSoon();
  if (m.kind === "edit" || m.kind === "recall") {
    const target = c.messages.get(m.body?.target);
    if (target) c.messages.set(target.seq, m.kind === "recall" ? { ...target, body: {}, recalled: true } : { ...target, body: m.body.body ?? target.body });
  }
  c.messages.set(m.seq, m);
  if (m.cmid) c.drafts.delete(m.cmid); // the bot's final message replaces its draft
  if (m.kind === "system" && m.body?.event === "support") {
    upsert({ conv: m.conv, meta: { support: { state: m.body.state, agent: m.body.agent } } });
    refreshQueueSoon();
  }
  c.typing.delete(m.sender);
  if (m.sender !== me.username && m.kind !== "system") {
    if (m.conv !== selected || document.hidden) {
      c.unread += 1;
      notify(`${t("notify.new")} ${m.sender}`, textOf(m));
    }
  }
  if (m.conv === selected) {
    drawMessages(c, me.username);
    drawTyping(c);
    markRead(c);
    if (m.kind === "system") select(m.conv);
  }
  drawQueue();
});
client.on("draft_event", (d) => {
  const c = convs.get(d.conv);
  if (!c) return;
  if (d.done) c.drafts.delete(d.draft);
  else c.drafts.set(d.draft, { user: d.user, body: d.body });
  if (d.conv === selected) drawMessages(c, me.username);
});
client.on("typing_event", (e) => {
  const c = convs.get(e.conv);
  if (!c || e.user === me.username) return;
  if (e.on) c.typing.set(e.user, Date.now() + TYPING_MS);
  else c.typing.delete(e.user);
  if (e.conv === selected) drawTyping(c);
});
client.on("receipt", (r) => {
  const c = convs.get(r.conv);
  if (!c || r.user !== c.customer) return;
  c.customerRead = Math.max(c.customerRead, r.seq);
  if (r.conv === selected) drawMessages(c, me.username);
});
client.on("conv_event", (e) => {
  if (e.conv.meta?.notes_for) return linkNotes(e.conv.conv, e.conv.meta.notes_for);
  if (e.conv.kind === "support" || e.conv.meta?.support) upsert(e.conv); // also the brand conversation's case
  refreshQueueSoon();
});
client.on("state", (s) => {
  const badge = document.getElementById("conn");
  if (!badge) return;
  const key = s.state === "connected" ? "conn.online" : s.state === "connecting" && s.previous === "connected" ? "conn.offline" : "conn.connecting";
  badge.className = `conn ${s.state === "connected" ? "online" : s.previous === "connected" ? "offline" : ""}`;
  badge.dataset.state = s.state;
  badge.setAttribute("data-i18n", key);
  badge.textContent = t(key);
  if (s.state === "connected") refreshQueueSoon();
});
document.addEventListener("visibilitychange", () => { const c = convs.get(selected); if (c) markRead(c); });
client.on("support_queue_event", () => { refreshQueueSoon(); });
setInterval(() => { refreshQueueSoon(); }, QUEUE_FALLBACK_MS);
setInterval(() => { const c = convs.get(selected); if (c) drawTyping(c); }, TYPING_REDRAW_MS);

askOnFirstClick();
canned = await call("GET", "canned").catch(() => []);
await client.connect();
await findNotes().catch(() => {});
refreshQueueSoon();
