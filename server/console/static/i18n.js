// @ts-check
/**
 * The console's words in English and Simplified Chinese. The language is the browser's
 * (`navigator.languages`: any `zh*` gives Chinese) until the user picks one with the switch,
 * which is remembered in localStorage. Elements carry `data-i18n` (text), `data-i18n-placeholder`
 * or `data-i18n-title` / `data-i18n-label` (attributes) with a key of {@link WORDS}.
 */

/** @typedef {"en" | "zh-CN"} Lang */

/** @type {Record<Lang, Record<string, string>>} */
export const WORDS = {
  en: {
    "login.title": "Parley console",
    "login.app": "App id",
    "login.username": "User name",
    "login.password": "Password",
    "login.submit": "Log in",
    "login.expired": "Your session ended. Log in again; what you were typing is kept.",
    "forbidden.title": "Not for your role",
    "forbidden.text": "This page needs the role",
    "forbidden.home": "Back to the console",
    "forbidden.login": "Log in as someone else",
    "nav.inbox": "Inbox",
    "nav.admin": "Admin",
    "nav.logout": "Log out",
    "nav.logoutAll": "Log out everywhere",
    "conn.online": "Connected",
    "conn.connecting": "Connecting…",
    "conn.offline": "Offline — reconnecting",
    "queue.waiting": "Waiting",
    "queue.mine": "My conversations",
    "queue.empty": "Nobody is waiting.",
    "queue.mineEmpty": "No open conversations.",
    "queue.claim": "Claim",
    "chat.pick": "Pick a conversation from the queue.",
    "chat.reply": "Reply",
    "chat.replyPlaceholder": "Write a reply… (Enter sends, Shift+Enter for a new line)",
    "chat.send": "Send",
    "chat.note": "Internal note",
    "chat.notePlaceholder": "A note for agents only — the customer never sees it",
    "chat.addNote": "Add note",
    "chat.typing": "is typing…",
    "chat.draft": "writing…",
    "chat.read": "Read",
    "chat.canned": "Canned replies",
    "chat.cannedNone": "No canned replies yet (an admin adds them).",
    "chat.transfer": "Transfer to…",
    "chat.release": "Release to bot",
    "chat.resolve": "Resolve",
    "chat.state": "State",
    "chat.handover": "Hand-over",
    "chat.reason": "Reason",
    "chat.summary": "Summary and cited passages (agents only)",
    "chat.notes": "Notes",
    "chat.readonly": "You do not own this conversation: claim it to reply.",
    "profile.title": "Customer",
    "profile.attributes": "Attributes",
    "profile.tags": "Tags",
    "profile.none": "None yet.",
    "profile.source": "source",
    "profile.confidence": "confidence",
    "profile.tickets": "Earlier tickets",
    "profile.consent": "Consent",
    "profile.events": "Recent events",
    "consent.granted": "granted",
    "consent.denied": "denied",
    "consent.withdrawn": "withdrawn",
    "state.bot": "with the bot",
    "state.waiting_for_agent": "waiting for an agent",
    "state.agent": "with an agent",
    "state.resolved": "resolved",
    "notify.new": "New message from",
    "sys.created": "conversation opened",
    "admin.users": "Console users",
    "admin.addUser": "Add or replace a user",
    "admin.username": "User name",
    "admin.name": "Display name",
    "admin.password": "Password",
    "admin.roles": "Roles",
    "admin.save": "Save",
    "admin.canned": "Canned replies",
    "admin.cannedTitle": "Title",
    "admin.cannedText": "Text",
    "admin.addCanned": "Add reply",
    "admin.saveCanned": "Save canned replies",
    "admin.remove": "Remove",
    "admin.saved": "Saved.",
    "admin.logoutUser": "Log out everywhere",
    "admin.keys": "API keys", "admin.keyId": "Key id", "admin.created": "Created", "admin.newKey": "Create a key",
    "admin.revoke": "Revoke", "admin.shownOnce": "Shown once, copy it now:",
    "admin.reviews": "Review queue", "admin.author": "Author", "admin.excerpt": "Content", "admin.reason": "Reason",
    "admin.dismiss": "Dismiss", "admin.recall": "Recall message", "admin.actioned": "Actioned", "admin.noReviews": "Nothing to review.",
    "admin.words": "Sensitive-word lists", "admin.listName": "List name", "admin.listAction": "Action", "admin.listWords": "Words (one a line)",
    "admin.knowledge": "Knowledge sources", "admin.version": "Version", "admin.chunks": "chunks", "admin.delete": "Delete",
    "admin.audit": "Audit log", "admin.filterAction": "Action starts with", "admin.filterActor": "Actor contains",
    "admin.filterTarget": "Target contains", "admin.filter": "Filter", "admin.time": "Time", "admin.actor": "Actor",
    "admin.action": "Action", "admin.target": "Target", "admin.more": "More",
    "role.admin": "admin",
    "role.marketer": "marketer",
    "role.agent": "agent",
  },
  "zh-CN": {
    "login.title": "Parley 控制台",
    "login.app": "应用 ID",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.expired": "会话已结束，请重新登录；您输入的内容已保留。",
    "forbidden.title": "您的角色无权访问",
    "forbidden.text": "此页面需要角色",
    "forbidden.home": "返回控制台",
    "forbidden.login": "以其他身份登录",
    "nav.inbox": "收件箱",
    "nav.admin": "管理",
    "nav.logout": "退出登录",
    "nav.logoutAll": "退出所有设备",
    "conn.online": "已连接",
    "conn.connecting": "正在连接…",
    "conn.offline": "已断开 — 正在重连",
    "queue.waiting": "等待中",
    "queue.mine": "我的会话",
    "queue.empty": "暂无等待的客户。",
    "queue.mineEmpty": "没有进行中的会话。",
    "queue.claim": "接待",
    "chat.pick": "请从队列中选择一个会话。",
    "chat.reply": "回复",
    "chat.replyPlaceholder": "输入回复…（Enter 发送，Shift+Enter 换行）",
    "chat.send": "发送",
    "chat.note": "内部备注",
    "chat.notePlaceholder": "仅客服可见的备注，客户永远看不到",
    "chat.addNote": "添加备注",
    "chat.typing": "正在输入…",
    "chat.draft": "正在撰写…",
    "chat.read": "已读",
    "chat.canned": "快捷回复",
    "chat.cannedNone": "还没有快捷回复（由管理员添加）。",
    "chat.transfer": "转接给…",
    "chat.release": "交还机器人",
    "chat.resolve": "解决",
    "chat.state": "状态",
    "chat.handover": "转人工",
    "chat.reason": "原因",
    "chat.summary": "摘要与引用段落（仅客服可见）",
    "chat.notes": "备注",
    "chat.readonly": "此会话不属于您：请先接待再回复。",
    "profile.title": "客户",
    "profile.attributes": "属性",
    "profile.tags": "标签",
    "profile.none": "暂无。",
    "profile.source": "来源",
    "profile.confidence": "置信度",
    "profile.tickets": "历史工单",
    "profile.consent": "授权",
    "profile.events": "最近行为",
    "consent.granted": "已同意",
    "consent.denied": "已拒绝",
    "consent.withdrawn": "已撤回",
    "state.bot": "机器人接待中",
    "state.waiting_for_agent": "等待人工",
    "state.agent": "人工接待中",
    "state.resolved": "已解决",
    "notify.new": "新消息来自",
    "sys.created": "会话已创建",
    "admin.users": "控制台用户",
    "admin.addUser": "添加或替换用户",
    "admin.username": "用户名",
    "admin.name": "显示名称",
    "admin.password": "密码",
    "admin.roles": "角色",
    "admin.save": "保存",
    "admin.canned": "快捷回复",
    "admin.cannedTitle": "标题",
    "admin.cannedText": "内容",
    "admin.addCanned": "添加回复",
    "admin.saveCanned": "保存快捷回复",
    "admin.remove": "删除",
    "admin.saved": "已保存。",
    "admin.logoutUser": "退出所有设备",
    "admin.keys": "API 密钥", "admin.keyId": "密钥 ID", "admin.created": "创建时间", "admin.newKey": "创建密钥",
    "admin.revoke": "吊销", "admin.shownOnce": "仅显示一次，请立即复制：",
    "admin.reviews": "审核队列", "admin.author": "作者", "admin.excerpt": "内容", "admin.reason": "原因",
    "admin.dismiss": "忽略", "admin.recall": "撤回消息", "admin.actioned": "已处理", "admin.noReviews": "没有待审核内容。",
    "admin.words": "敏感词列表", "admin.listName": "列表名称", "admin.listAction": "处理方式", "admin.listWords": "词语（每行一个）",
    "admin.knowledge": "知识库来源", "admin.version": "版本", "admin.chunks": "段", "admin.delete": "删除",
    "admin.audit": "审计日志", "admin.filterAction": "操作开头为", "admin.filterActor": "操作者包含",
    "admin.filterTarget": "对象包含", "admin.filter": "筛选", "admin.time": "时间", "admin.actor": "操作者",
    "admin.action": "操作", "admin.target": "对象", "admin.more": "更多",
    "role.admin": "管理员",
    "role.marketer": "营销",
    "role.agent": "客服",
  },
};

const KEY = "parley.console.lang";

/** @returns {Lang} the language in use: the user's pick, else the browser's. */
export function lang() {
  const picked = localStorage.getItem(KEY);
  if (picked === "en" || picked === "zh-CN") return picked;
  const wanted = navigator.languages?.length ? navigator.languages : [navigator.language];
  for (const l of wanted) {
    if (l.toLowerCase().startsWith("zh")) return "zh-CN";
    if (l.toLowerCase().startsWith("en")) return "en";
  }
  return "en";
}

/**
 * The word for `key` in the current language (the English one, then the key, if missing).
 * @param {string} key
 */
export function t(key) {
  return WORDS[lang()][key] ?? WORDS.en[key] ?? key;
}

/** Put the current language's words into every marked element under `root`. */
export function apply(root = document) {
  document.documentElement.lang = lang();
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.getAttribute("data-i18n") ?? "");
  for (const attr of ["placeholder", "title", "label"]) {
    for (const el of root.querySelectorAll(`[data-i18n-${attr}]`)) {
      el.setAttribute(attr === "label" ? "aria-label" : attr, t(el.getAttribute(`data-i18n-${attr}`) ?? ""));
    }
  }
}

/**
 * Fill the language switch and re-apply the words when it changes.
 * @param {HTMLSelectElement} select
 * @param {() => void} [onChange] re-render what is drawn by scripts
 */
export function languageSwitch(select, onChange) {
  select.replaceChildren(
    new Option("English", "en", false, lang() === "en"),
    new Option("简体中文", "zh-CN", false, lang() === "zh-CN"),
  );
  select.addEventListener("change", () => {
    localStorage.setItem(KEY, select.value);
    apply();
    onChange?.();
  });
  apply();
}
