"""Written Cantonese folded to Mandarin words, for retrieval and for the sentiment rules.

Hong Kong customers write the way they speak: "点解我喺香港用快充得40几kW，唔系话180kW咩",
"充完电冇即刻揸走架车，会罚几多钱".  Businesses publish their help centre in standard written
Chinese, so the lexical index shares no word with 喺 / 冇 / 几多 and the multilingual model has
seen little Cantonese.  A message that holds a character only Cantonese uses has its Cantonese
words replaced by their Mandarin equivalents before retrieval and before the sentiment lexicon
reads it (点解 → 为什么, 冇 → 没有,
几多 → 多少); the customer's text is never changed in the conversation.

Only words with one reading are mapped; characters Mandarin also uses in other senses (食 in
食物, 边 in 这边, 点 in 三点, 系 in 系统, 返 in 返现) are left alone, except in fixed phrases (点做,
唔系, 只系, 退返).
Input is Simplified (the caller folds Traditional first).
"""

from __future__ import annotations

import re

__all__ = ["mandarin"]

#: Characters only written Cantonese uses: their presence marks a message as Cantonese.
_MARKERS = re.compile(r"[嘅咗喺唔冇哋佢嚟啲咩乜嘢睇揾搵攞俾畀嗰揸啱噉咁㗎𠮶]")

#: Longest first (the regex alternation below is built in this order).
_WORDS = {
    "点解": "为什么",
    "点样": "怎样",
    "几多": "多少",
    "几时": "什么时候",
    "边度": "哪里",
    "边个": "谁",
    "边间": "哪间",
    "乜嘢": "什么",
    "咩嘢": "什么",
    "而家": "现在",
    "听日": "明天",
    "琴日": "昨天",
    "寻日": "昨天",
    "唔该": "请",
    "唔系": "不是",
    "系咪": "是不是",
    "唔使": "不用",
    "使唔使": "需不需要",
    "得唔得": "行不行",
    "几钱": "多少钱",
    "几耐": "多久",
    "只系": "只是",
    "就系": "就是",
    "都系": "都是",
    "真系": "真是",
    "话系": "说是",
    "系唔系": "是不是",
    "屋企": "家",
    "返去": "回去",
    "返嚟": "回来",
    "退返": "退回",
    "补返": "补回",
    "攞返": "拿回",
    "咁": "这么",
    "朝早": "早上",
    "收工": "下班",
    "𠮶": "那",
    "唔得": "不行",
    "唔知": "不知道",
    "唔好": "不要",
    "有冇": "有没有",
    "佢哋": "他们",
    "我哋": "我们",
    "你哋": "你们",
    "啱啱": "刚刚",
    "泊车": "停车",
    "锁匙": "钥匙",
    "号波": "号风球",
    "成个月": "整个月",
    "成个星期": "整个星期",
    "一啲": "一些",
    "冇": "没有",
    "嘅": "的",
    "咗": "了",
    "喺": "在",
    "唔": "不",
    "佢": "他",
    "哋": "们",
    "嚟": "来",
    "啲": "些",
    "睇": "看",
    "揾": "找",
    "搵": "找",
    "攞": "拿",
    "俾": "给",
    "畀": "给",
    "嗰": "那",
    "嘢": "东西",
    "揸": "开",
    "啱": "对",
    "噉": "这样",
    "乜": "什么",
    "㗎": "的",
}
_WORD = re.compile("|".join(sorted(_WORDS, key=len, reverse=True)))
#: 点 + a verb asks how ("点做", "点算"; not 点开, "click to open"); 咩 closing a clause asks yes or no ("唔系话180kW咩").
#: Not after a number or a word 点 ends: 3点去 / 几点去 "at three / what time", 早点去 "go early",
#: 有点, 地点, 甜点 — Mandarin, and read as "how" they would become nonsense (几怎么去).
_HOW = re.compile(
    r"(?<![0-9０-９一二两三四五六七八九十几半快早晚有多少差慢好这那地景网站重特优缺终起钟观盲焦据整甜餐茶])"
    r"点(?=[做算搞去买弄办整改安用查申订约揾找攞拎处])"
)
#: 仲 + a verb or modal is "still / also" (仲可以, 仲有); Mandarin's 仲 (仲裁, 仲夏) is not followed by one.
_STILL = re.compile(r"仲(?=[有可会要系嚟来未得能在])")
_FINAL_WHAT = re.compile(r"咩(?=\s*(?:[？?！!，,。]|$))")


def mandarin(text: str) -> str:
    """``text`` with its Cantonese words in Mandarin, or unchanged when it holds no Cantonese."""
    if not (
        _MARKERS.search(text) or _HOW.search(text) or any(w in text for w in ("点解", "几多", "几钱", "几耐"))
    ):
        return text
    text = _FINAL_WHAT.sub("吗", text)
    text = _STILL.sub("还", _HOW.sub("怎么", text))
    text = text.replace("咩", "什么")
    return _WORD.sub(lambda m: _WORDS[m.group()], text)
