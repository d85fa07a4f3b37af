"""The sentiment scorer's word lists: the lexicon (term → weight) and the prototype messages of
the nearest-example vote.  Data only, kept apart from the rules in :mod:`parley.bots.sentiment`
that read it.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["EXAMPLES", "LEXICON", "NEGATED_NEUTRAL"]

#: Term → weight. Multi-word English terms are space-separated; Chinese terms are written plainly.
#: Weight 0 terms exist to be consumed whole ("好的" = "OK", not "good").
LEXICON: Mapping[str, float] = {
    # ---- English, negative
    "bad": -1.0, "poor": -1.0, "terrible": -2.0, "awful": -2.0, "horrible": -2.0, "worst": -2.0,
    "useless": -1.5, "ridiculous": -1.5, "unacceptable": -2.0, "scam": -2.0, "fraud": -2.0,
    "disappointed": -1.5, "disappointing": -1.5, "angry": -1.5, "furious": -2.0, "annoyed": -1.0,
    "annoying": -1.0, "frustrated": -1.5, "frustrating": -1.5, "upset": -1.0, "unhappy": -1.0,
    "fed up": -1.5, "sick of": -1.5, "hate": -1.5, "rubbish": -1.5, "garbage": -2.0, "broken": -1.0,
    "damaged": -1.0, "crashing": -1.0, "crashes": -1.0, "late": -1.0, "delays": -0.5, "delayed": -0.5,
    "wrong": -0.75, "fell apart": -1.0, "nothing like": -1.0, "complain": -1.0, "complaint": -1.0,
    "complaints": -1.0, "problem": -0.5, "ugh": -1.0, "wtf": -2.0, "nobody": -0.5, "never again": -2.0,
    "waste": -1.5, "rude": -1.5, "lied": -2.0, "cheated": -2.0, "sucks": -1.5, "pathetic": -2.0,
    # ---- English, positive
    "good": 1.0, "great": 1.5, "nice": 1.0, "fine": 0.5, "love": 1.5, "like it": 1.0, "helpful": 1.0,
    "thanks": 1.0, "thank you": 1.0, "thank": 1.0, "perfect": 1.5, "perfectly": 1.0, "awesome": 1.5,
    "excellent": 1.5, "amazing": 1.5, "beautiful": 1.0, "happy": 1.0, "satisfied": 1.0, "fast": 0.5,
    "quick": 0.5, "smoothly": 1.0, "appreciate": 1.0, "wonderful": 1.5, "glad": 1.0, "recommend": 1.0,
    # ---- Chinese, negative
    "差": -1.0, "慢": -1.0, "坏": -1.0, "烂": -1.5, "垃圾": -2.0, "骗": -2.0, "坑": -1.0, "无语": -1.0,
    "失望": -1.5, "投诉": -1.5, "生气": -1.5, "气死": -2.0, "烦": -1.0, "烦死": -1.5, "恶心": -2.0,
    "再也不买": -1.5, "不一样": -0.5, "出问题": -1.0, "太坑": -1.5, "糟糕": -1.5, "难用": -1.0,
    "后悔": -1.5, "退钱": -1.0, "离谱": -1.5, "忍无可忍": -2.0, "破": -0.5,
    # ---- Chinese, positive
    "好": 1.0, "不错": 1.0, "还不错": 1.0, "挺好": 1.0, "太好了": 1.5, "满意": 1.0, "喜欢": 1.0,
    "谢谢": 1.0, "感谢": 1.0, "多谢": 1.0, "漂亮": 1.0, "好看": 1.0, "好用": 1.0, "合身": 1.0,
    "快": 0.5, "点赞": 1.5, "耐心": 1.0, "有帮助": 1.0, "解决了": 1.0, "还会买": 1.0, "准": 0.5,
    "赞": 1.0, "完美": 1.5, "舒服": 1.0, "推荐": 1.0, "棒": 1.5,
    # ---- consumed whole, no sentiment
    "好的": 0.0, "好吗": 0.0, "好不好": 0.0, "说好": 0.0, "快点": 0.0, "尽快": 0.0, "no problem": 1.0,
    "没问题": 1.0,
    # compounds whose first character is not the sentiment word: 出差 a business trip, 差价 a price
    # difference, 好多 "so many", 好像 "it seems", 快递 a courier (not "fast")
    "出差": 0.0, "差价": 0.0, "差额": 0.0, "差不多": 0.0, "好多": 0.0, "好像": 0.0, "好几": 0.0,
    "好久": 0.0, "好些": 0.0, "快递": 0.0, "快件": 0.0, "快餐": 0.0, "崩溃": -1.5, "freaking out": -1.5,
    # 垃圾 as the thing itself, not "rubbish!": 倒垃圾 take out the rubbish, 垃圾桶 a bin
    "倒垃圾": 0.0, "扔垃圾": 0.0, "收垃圾": 0.0, "清垃圾": 0.0, "丢垃圾": 0.0, "垃圾袋": 0.0,
    "垃圾桶": 0.0, "垃圾分类": 0.0, "装修垃圾": 0.0, "生活垃圾": 0.0, "厨余垃圾": 0.0,
    # … a kind of rubbish, where it goes, what it costs: 大件垃圾 bulky waste, 垃圾房 the bin room
    "大件垃圾": 0.0, "建筑垃圾": 0.0, "可回收垃圾": 0.0, "有害垃圾": 0.0, "干垃圾": 0.0, "湿垃圾": 0.0,
    "其他垃圾": 0.0, "垃圾房": 0.0, "垃圾站": 0.0, "垃圾车": 0.0, "垃圾费": 0.0, "垃圾处理": 0.0,
    "垃圾清运": 0.0, "运垃圾": 0.0,
    # … and in English: "the rubbish chute", "put the rubbish out", "bulky garbage collection"
    "rubbish bin": 0.0, "rubbish bins": 0.0, "rubbish room": 0.0, "rubbish chute": 0.0,
    "rubbish collection": 0.0, "rubbish bag": 0.0, "rubbish bags": 0.0, "rubbish out": 0.0,
    "the rubbish": 0.0, "garbage bin": 0.0, "garbage bins": 0.0, "garbage room": 0.0,
    "garbage chute": 0.0, "garbage collection": 0.0, "garbage bag": 0.0, "garbage bags": 0.0,
    "garbage truck": 0.0, "garbage disposal": 0.0, "garbage out": 0.0, "the garbage": 0.0,
    # 差 as "to differ" or "to fall short", not "bad": 差在哪 where the difference lies, 差多少 how much
    # it differs, 差别 / 差异 / 差距 / 相差 a difference, 差点 / 差一点 almost
    "差在": 0.0, "差多少": 0.0, "差几": 0.0, "差别": 0.0, "差异": 0.0, "差距": 0.0, "相差": 0.0,
    "差点": 0.0, "差一点": 0.0,
    # "late" as a time of day, not a delay: "stuck at work till late tonight", "a late check-out"
    "till late": 0.0, "until late": 0.0, "work late": 0.0, "working late": 0.0, "how late": 0.0,
    "open late": 0.0, "stay late": 0.0, "late tonight": 0.0, "late night": 0.0, "late check": 0.0,
    "late checkout": 0.0, "late afternoon": 0.0, "late evening": 0.0, "late morning": 0.0,
    # … or the name of a fee or a policy: "the late cancel fee", "late cancellation"
    "late cancel": 0.0, "late cancellation": 0.0, "late fee": 0.0, "late fees": 0.0,
    "late payment": 0.0, "late payments": 0.0, "late charge": 0.0, "late charges": 0.0,
    # greetings and idioms, not verdicts: 你好 / 您好 "hello", "good morning", "for good" (for ever)
    "你好": 0.0, "您好": 0.0, "大家好": 0.0, "good morning": 0.0, "good afternoon": 0.0,
    "good evening": 0.0, "for good": 0.0,
    # 退钱 asked for as a question is a policy question, not a demand: 能退钱吗, 可以退钱吗, 可不可以退钱
    # ("马上退钱！", "必须全额退钱" still count)
    "能退钱": 0.0, "可以退钱": 0.0, "退钱吗": 0.0, "退钱么": 0.0,
    # 麻烦 before the one asked or the favour is "please" (麻烦帮我转人工, 麻烦您查一下), not 烦
    # "annoying"; 好麻烦 / 太麻烦了 "such a hassle" still are.  不想麻烦 "I don't want to bother".
    "麻烦你": 0.0, "麻烦您": 0.0, "麻烦帮": 0.0, "麻烦安排": 0.0, "麻烦让": 0.0, "麻烦请": 0.0,
    "麻烦给": 0.0, "麻烦问": 0.0, "麻烦打": 0.0, "麻烦查": 0.0, "麻烦告诉": 0.0, "麻烦尽快": 0.0,
    "麻烦把": 0.0, "麻烦转": 0.0, "麻烦接": 0.0, "不想麻烦": 0.0, "麻烦": -1.0, "麻烦死": -1.5,
    # A recommendation asked for, or a friend's that brought the customer, is no verdict on the
    # business: "can you recommend a good mechanic", "推荐一下", "朋友推荐了你们家" (session 23).
    "not helping": -1.0, "isn't helping": -1.0, "isnt helping": -1.0, "doesn't help": -1.0,
    "can you recommend": 0.0, "could you recommend": 0.0, "can you recommend a good": 0.0,
    "could you recommend a good": 0.0, "you recommend": 0.0, "recommend a good": 0.0, "any recommendations": 0.0,
    # 好 that is not "good": done (做好, 修好了吗, 订好), "seems" (好似), "just" (刚好, 正好), "had to" (只好),
    # "hardly" (好不容易), which is better (比较好, 哪个好), and 不好意思 "excuse me" (session 23).
    "做好": 0.0, "修好": 0.0, "整好": 0.0, "弄好": 0.0, "搞好": 0.0, "改好": 0.0, "洗好": 0.0, "订好": 0.0,
    "装好": 0.0, "办好": 0.0, "约好": 0.0, "换好": 0.0, "包好": 0.0, "叠好": 0.0, "摆好": 0.0,
    "搭好": 0.0, "准备好": 0.0, "写好": 0.0, "填好": 0.0, "选好": 0.0, "定好": 0.0, "收好": 0.0, "放好": 0.0,
    "穿好": 0.0, "想好": 0.0, "配好": 0.0, "剪好": 0.0, "处理好": 0.0, "安排好": 0.0, "设置好": 0.0,
    "好似": 0.0, "刚好": 0.0, "正好": 0.0, "只好": 0.0, "好不容易": 0.0, "好处": 0.0, "比较好": 0.0,
    "哪个好": 0.0, "哪种好": 0.0, "什么好": 0.0, "啥好": 0.0, "最好是": 0.0, "不好意思": 0.0,
    "推荐一下": 0.0, "推荐个": 0.0, "推荐吗": 0.0, "有什么推荐": 0.0, "朋友推荐": 0.0, "推荐朋友": 0.0,
    # a verdict the list lacked: 难看 "ugly" (好难看 "so ugly": 好 before it intensifies)
    "难看": -1.0,
    # ---- emoji with one reading, in either language: weary, crying, eye-roll, facepalm, anger …
    "😱": -1.0, "😩": -1.0, "😫": -1.0, "😭": -1.0, "😢": -1.0, "😞": -1.0, "😟": -1.0, "😒": -1.0, "😑": -1.0,
    "🙄": -1.0, "🤦": -1.0, "😤": -1.0, "😠": -1.5, "😡": -1.5, "🤬": -2.0, "😣": -1.0, "😖": -1.0,
    "😵": -1.0, "💢": -1.0, "👎": -1.0,
    # … thumbs-up, party, smiles, hearts.  Not 😅 😂 🙃 🙏 🤔: awkward, laughing, ironic or asking.
    "👍": 1.0, "🎉": 1.0, "🙂": 1.0, "😊": 1.0, "😀": 1.0, "😃": 1.0, "😄": 1.0, "😁": 1.0, "😆": 1.0,
    "🥰": 1.5, "😍": 1.5, "❤": 1.0, "🙌": 1.0, "👏": 1.0, "💯": 1.0,
}  # fmt: skip
#: Words that name a complaint rather than make one: negated ("not a complaint", 不是投诉) they are
#: a disclaimer, neutral, not the praise a negated "bad" is.  "no complaints" and "can't complain"
#: stay mildly positive, as people mean them.
NEGATED_NEUTRAL: frozenset[str] = frozenset({"complaint", "投诉"})

#: Prototype messages for the optional nearest-example vote (used only when no lexicon term fires).
EXAMPLES: Mapping[str, tuple[str, ...]] = {
    "negative": (
        "This is unacceptable, I want to speak to someone.",
        "I've been waiting forever and nothing has happened.",
        "You people never answer, what a joke.",
        "The item is falling apart and I'm very unhappy.",
        "Seriously? This is the last time I order here.",
        "I feel cheated by this shop.",
        "The product looks cheap and flimsy.",
        "等了这么久还没消息，太过分了",
        "你们到底管不管？",
        "东西质量太次了，后悔死了",
        "再这样我就给差评了",
        "简直是浪费钱",
    ),
    "neutral": (
        "How long does delivery take?",
        "Can I change the size of my order?",
        "What is your return policy?",
        "Where can I find my invoice?",
        "Is this available in blue?",
        "I placed an order this morning.",
        "请问什么时候发货",
        "怎么申请退款",
        "这个有没有黑色的",
        "我的订单号是多少",
        "可以开发票吗",
        "运费怎么算",
    ),
    "positive": (
        "Thank you, that solved it.",
        "Everything arrived in perfect condition, very pleased.",
        "Really happy with my purchase!",
        "Cheers, all sorted now.",
        "The quality exceeded my expectations.",
        "You were very helpful, much appreciated.",
        "收到了，非常满意",
        "谢谢你的帮助",
        "质量很好，会回购的",
        "发货很快，好评",
        "衣服穿着很舒服",
        "问题解决了，谢谢",
    ),
}
