// @ts-check
/** Words of the inbox's campaigns panel and the admin page's tag definitions and knowledge versions
 * (English and Simplified Chinese), added to {@link WORDS} of i18n.js. */
import { WORDS } from "./i18n.js";

Object.assign(WORDS.en, {
  "profile.campaigns": "Campaigns received", "profile.variant": "variant",
  "profile.read": "read", "profile.unread": "not read", "profile.clicked": "clicked",
});

Object.assign(WORDS["zh-CN"], {
  "profile.campaigns": "收到的营销消息", "profile.variant": "版本",
  "profile.read": "已读", "profile.unread": "未读", "profile.clicked": "已点击",
});
