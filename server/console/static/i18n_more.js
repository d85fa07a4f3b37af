// @ts-check
/** Words of the inbox's campaigns panel and the admin page's tag definitions and knowledge versions
 * (English and Simplified Chinese), added to {@link WORDS} of i18n.js. */
import { WORDS } from "./i18n.js";

Object.assign(WORDS.en, {
  "profile.campaigns": "Campaigns received", "profile.variant": "variant",
  "profile.read": "read", "profile.unread": "not read", "profile.clicked": "clicked",
  "admin.versions": "Versions", "admin.deleted": "deleted", "admin.live": "live (the bot answers from it)",
  "kb.upload": "Upload a file", "kb.file": "File", "kb.send": "Upload", "kb.source": "Source", "kb.state": "State",
  "kb.how": "Markdown, text or FAQ (CSV, JSONL), UTF-8, at most the server's limit (5 MB unless configured). The bot service parses, chunks and embeds it; uploading a file of the same name makes a new version of that source.",
  "kb.pending": "waiting for the bot service", "kb.ingested": "ingested", "kb.failed": "failed", "kb.pick": "Choose a file first.",
  "tags.title": "Tag definitions", "tags.name": "Tag", "tags.description": "Description", "tags.kind": "Kind",
  "tags.sources": "Allowed sources", "tags.expiry": "Default expiry", "tags.expirySeconds": "Default expiry (seconds, 0 = never)",
  "tags.define": "Define tag", "tags.update": "Save changes", "tags.cancel": "Cancel", "tags.edit": "Edit",
  "tags.kind.manual": "manual (set by people)", "tags.kind.rule": "rule (computed)", "tags.kind.bot": "bot or model",
  "tags.anySource": "any", "tags.never": "never", "tags.none": "No tag is defined: every tag is accepted.",
  "tags.rule": "Once a tag is defined, tags set by people (sources manual and agent) must be defined and allowed for their source; bots, models and rules may set any tag.",
});

Object.assign(WORDS["zh-CN"], {
  "profile.campaigns": "收到的营销消息", "profile.variant": "版本",
  "profile.read": "已读", "profile.unread": "未读", "profile.clicked": "已点击",
  "admin.versions": "版本记录", "admin.deleted": "已删除", "admin.live": "当前使用（机器人据此回答）",
  "kb.upload": "上传文件", "kb.file": "文件", "kb.send": "上传", "kb.source": "来源", "kb.state": "状态",
  "kb.how": "Markdown、纯文本或常见问题（CSV、JSONL），UTF-8 编码，不超过服务器限制（默认 5 MB）。由机器人服务解析、分段并向量化；上传同名文件即为该来源的新版本。",
  "kb.pending": "等待机器人服务处理", "kb.ingested": "已导入", "kb.failed": "失败", "kb.pick": "请先选择文件。",
  "tags.title": "标签定义", "tags.name": "标签", "tags.description": "说明", "tags.kind": "类型",
  "tags.sources": "允许的来源", "tags.expiry": "默认有效期", "tags.expirySeconds": "默认有效期（秒，0 表示永久）",
  "tags.define": "定义标签", "tags.update": "保存修改", "tags.cancel": "取消", "tags.edit": "编辑",
  "tags.kind.manual": "人工（由人设置）", "tags.kind.rule": "规则（自动计算）", "tags.kind.bot": "机器人或模型",
  "tags.anySource": "任意", "tags.never": "永久", "tags.none": "尚未定义标签：接受所有标签。",
  "tags.rule": "一旦定义了标签，由人设置的标签（来源 manual 和 agent）必须已定义且允许该来源；机器人、模型和规则可设置任意标签。",
});
