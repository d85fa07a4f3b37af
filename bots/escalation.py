"""Escalating complaints: demands for a refund, compensation or someone in charge, and threats.

A complaint that demands something only staff can grant ("I want a partial refund", "我要求赔偿",
"fix this or we dispute it with the bank") must reach a human at once: the knowledge base can
only answer it with a policy passage, which reads as a brush-off.  Questions *about* the same
things stay with the bot: "what's your refund policy?", "do I get refunded for fraud charges?",
"航班晚点了有赔偿吗", "想投诉一下……先问下" — so the rules look for a *demand* (a first-person
want/demand/expect aimed at money back or escalation, the business expected to pay, the money
put back, an imperative "refund me", a deadline "now/today/马上"), a threat (an ultimatum "… or
I'm reporting you", an authority however the market names it, chargeback, review sites) or an
accusation with anger words, never for a topic word alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from parley.bots.knowledge.cantonese import mandarin
from parley.bots.knowledge.langs import simplified

__all__ = ["EscalationDetector"]

_MONEY = (
    r"(?:(?:a|an|my|our|the|that|this|full|partial|some|complete|proper|immediate)\s+)*"
    r"(?:refund|compensation|reimbursement|money back|service credit|credit back|chargeback|apology)"
)
_EN = [
    # "wants": a demand, unless a calm message asks how to get it ("I need a refund… how do I request it?")
    (
        "wants",
        rf"\b(?:i|we)(?:'d| would)?\s+(?:want|demand|expect|insist on|require|need|deserve)\s+{_MONEY}",
    ),
    (
        "demand",
        r"\b(?:want|demand)\s+(?:that|my|our|the|this)\s+(?:money|fee|charge)s?\s+(?:back|refunded|reversed|removed)",
    ),
    (
        "demand",
        r"\b(?:refund|reimburse|compensate)\s+(?:me|us|the difference|it|this|my|our)\b.*\b(?:now|today|immediately|asap)\b",
    ),
    ("demand", r"\b(?:give|pay)\s+(?:me|us)\s+(?:my|our|the)\s+money\s+back\b"),
    # the sum or the payment named: "I want my HK$2,800 back", "we want our deposit back"
    (
        "wants",
        r"\b(?:i|we)(?:'d| would)?\s+(?:want|demand|expect|need)\s+(?:my|our|the|that|this)\s+"
        r"(?:(?:hk|us|rmb)?[$¥€£]?\s?\d[\d,.]*k?|(?:[\w-]+\s+)?(?:deposit|fees?|payment|money|cash|charges?))\s+back\b",
    ),
    # … but not asked as a question: "any chance you can fix it today and how much would that be"
    (
        "demand",
        r"(?<!\bcan you )(?<!\bcould you )(?<!\bcan u )(?<!\byou can )(?<!\bu can )(?<!\bto )"
        r"\bfix (?:this|it)\b.{0,40}\b(?:now|today|immediately|asap|or)\b",
    ),
    ("demand", r"\b(?:someone|somebody|a person)\s+(?:senior|in charge|higher up)\b"),
    (
        "threat",
        r"\b(?:dispute|disputing|report|reporting|complain|complaining)\s+(?:it|this|you|the charge)\s+(?:with|to)\s+(?:the|my|our)?\s*(?:bank|regulator|police|card company|authorities)",
    ),
    ("threat", r"\b(?:lawyer|legal action|sue you|small claims|consumer protection|trading standards)\b"),
    ("anger", r"\b(?:unacceptable|outrageous|disgraceful|ridiculous|a scam|scammed|rip[- ]?off)\b"),
    ("anger", r"\b(?:third|fourth|fifth|\d+(?:st|nd|rd|th))\s+time\b"),
]
_ZH = [
    # … unless asked as the other way of doing it: "能在App里申诉吗？还是一定要转人工处理"
    (
        "demand",
        r"(?<!还是)(?<!是不是)(?<!是否)(?:要求|必须|坚决要|一定要)[^，。！？,.!?]{0,8}"
        r"(?:赔偿|退款|退钱|赔钱|补偿|道歉|处理|解决)",
    ),
    ("demand", r"(?:马上|立刻|立即|赶紧|今天)[^，。！？,.!?]{0,4}(?:退钱|退款|赔偿|赔钱|给我退|处理)"),
    ("demand", r"(?:退钱|赔钱)[！!]"),
    # someone in charge, however the business titles them: 院长 (a clinic), 店长, 校长, 老板
    ("demand", r"(?:负责人|领导|主管|经理|院长|店长|校长|老板)(?:来|出来|出面|跟我|给我)"),
    (
        "threat",
        # "我要投诉一下自己的记性" complains, jokingly, about the customer: not a threat; "要去哪里投诉"
        # asks where complaints go.
        # nor "我要投诉隔壁家的蟑螂", a neighbour's pests.
        r"我要投诉(?!\s*(?:一下)?\s*(?:我)?自己)(?!\s*(?:我们?|我家)?的?(?:隔壁|邻居|楼上|楼下|对面))|要投诉你们|去(?!哪|什么地方|何处)[^，。！？,.!?]{0,8}投诉|"
        r"投诉[^，。！？,.!?]{0,6}(?:没人管|没用|无果|不管)",
    ),
    # Calling the police is a threat when announced ("我要报警"), a procedure when asked about after
    # an accident: "是先报警还是先找你们？", "需要报警吗".
    ("threat", r"银保监|消协|消费者协会|12315|市场监管|律师|起诉|曝光"),
    (
        "threat",
        r"(?<!先)(?<!需要)(?<!要不要)(?<!是否)(?<!用不用)(?<!该不该)(?<!必须)报警(?![^，。！？,.!?]{0,10}(?:吗|么|还是|呢))",
    ),
    # A bad review is a threat when promised ("给你们差评", "就去打差评"), not when asked about
    # ("差评发出去了还能改吗", "给骑手的差评别人看得到吗").
    (
        "threat",
        r"(?:就|要|会|去|我)[^，。！？,.!?吗]{0,8}(?:给|打|写)[^，。！？,.!?吗]{0,4}差评(?![^，。！？,.!?]*[吗么])",
    ),
    ("anger", r"到底管不管|太过分|欺骗|骗子|坑人|忍无可忍|气死"),
]


# Demands that share their words with questions ("refund me" / "when will you refund me?",
# "把钱退给我" / "多久能把钱退给我", "chargeback" / "what's a chargeback?"): they count only in a
# clause that is not a question (see ``_asks``).  Each is a construction, not a phrasing:
_EN_STATEMENT = [
    # give back / return / repay the customer's money; compensate / reimburse / refund + the customer
    (
        "demand",
        r"\bgive (?:me|us) back\b|\b(?:return|repay|refund) (?:my|our) (?:money|deposit|payment|fees?)\b",
    ),
    ("demand", r"\b(?:compensate|reimburse|refund|repay) (?:me|us)\b"),
    (
        "demand",
        r"\b(?:i|we) (?:want|expect|demand|deserve|insist on) (?:to be|being) (?:compensated|reimbursed|refunded|paid back)\b",
    ),
    ("demand", r"\byou owe (?:me|us)\b|\b(?:i|we) (?:demand|insist)\b"),
    # money back for a thing or a period: "we want January refunded", "I expect this month's fee waived"
    (
        "demand",
        r"\b(?:i|we)(?:'d| would)?\s+(?:want|expect|demand|need)\s+(?:[\w'-]+\s+){0,3}?"
        r"(?:refunded|reimbursed|credited back|paid back|waived)\b",
    ),
    # escalation asked for: "escalate this", "I want my complaint escalated"
    (
        "demand",
        r"\bescalate (?:this|it|my|our)\b|\b(?:want|need|expect) (?:this|it|my \w+|our \w+) escalated\b",
    ),
    (
        "threat",
        r"\b(?:file|filing|open|opening|raise|raising|do|doing|start|starting|initiate|request)\s+a\s+chargeback\b",
    ),
    # the customer expects the business to pay: "I expect Acme to pay for it", "we need you to cover this"
    (
        "demand",
        r"\b(?:i|we)(?:'d| would)?\s+(?:expect|want|need|demand)\s+(?:you|you guys|them|\w+)\s+to\s+"
        r"(?:pay|cover|refund|reimburse|compensate|waive|reverse|cancel the (?:fee|charge))\b",
    ),
    # the money put back where it came from: "put it back on my card", "take the charge off my bill"
    (
        "demand",
        r"\bput (?:it|the money|that|this|the \w+) back (?:on|onto|in|into|to) (?:my|our)\b"
        r"|\btake (?:the|this|that)(?: [\w-]+)? (?:charge|fee)s? off (?:my|our)\b",
    ),
    # an ultimatum: "…, or I'm reporting you", "or else we'll take this further"
    (
        "threat",
        r"\bor (?:else )?(?:i|we)(?:'m|m| am|'ll|ll| will|'re|re| are)? (?:going to |gonna )?"
        r"(?:report|sue|dispute|complain|cancel|post|leaving|out\b|gone\b|done\b|walking|moving out|"
        r"take (?:this|it)|taking (?:this|it)|go(?:ing)? to (?:the|my|our) "
        # "… now or I'm going to my bank and the Consumer Council"
        r"(?:press|media|papers|police|courts?|bank|card (?:company|issuer)|consumer \w+))",
    ),
    # an authority named however the market calls it: "to the telecoms regulator", "the health authority"
    (
        "threat",
        r"\b(?:report|reporting|complain|complaining|take|taking|escalate|escalating)\s+(?:you|this|it|the matter)?"
        r"\s*(?:to|with)\s+(?:the|my|our|a)?\s*(?:[\w-]+\s+){0,2}"
        r"(?:regulator|ombudsman|authority|authorities|watchdog|tribunal)\b",
    ),
]
_ZH_STATEMENT = [
    # 把 + the money + 退/还/赔/返 + (给)我 / 回来: "把押金还给我", "把会员费退回给我", "把钱还我"
    ("demand", r"把[^，。！？,.!?]{0,12}(?:退|还|赔|返还?)(?:回|还)?(?:给)?(?:我|回来)"),
    # verb + 我 + money/loss: "退我钱", "赔偿我的损失", "还我钱", "退给我"
    ("demand", r"给我退(?:钱|款)|(?:退|还|赔)我(?:的)?钱|(?:赔偿|补偿|赔)我|(?:退|赔|返还|退还)给我"),
    # a demand word before any money-back verb: "要求返还…", "必须一分不少地退回", "务必退费"
    (
        "demand",
        r"(?:要求|必须|务必|坚决要|一定要)[^，。！？,.!?]{0,12}(?:退回|退还|返还|退费|赔|补偿|退款|退钱)|"
        # the fee named between: "要求退全部费用", "必须退我三个月的会费"
        r"(?:要求|必须|务必|坚决要|一定要)退[^，。！？,.!?]{1,8}?(?:费用|费|钱|款)",
    ),
    ("demand", r"我(?:们)?(?:就)?要(?:求)?(?:退款|退钱|退费|赔偿|赔钱|补偿)"),
    ("demand", r"给(?:我|我们)?(?:一个|个)?说法"),
    ("threat", r"投诉到|举报你们|告你们"),
    # an ultimatum: "不然我就去…投诉", "否则我们就曝光"
    (
        "threat",
        r"(?:不然|否则|要不然)[^，。！？,.!?]{0,3}(?:我|我们)?(?:就|会|要)?(?:去|到)?[^，。！？,.!?]{0,6}"
        r"(?:投诉|举报|曝光|起诉|报警|差评|找媒体|找记者)",
    ),
]
#: A sentence that asks: one of its clauses opens with an English question word, it holds a
#: Chinese one, or it ends in "?" / 吗 / 么 / 呢.  Such a sentence asks *about* money back or
#: escalation ("我要退款，怎么操作？", "if I file a chargeback, will …?"); it does not demand it.
#: A question mark asks only in the clause it closes, or of the whole sentence after a tag of one
#: or two words ("…, possible?", "…, ok?"): in "i expect you to pay for it, who is responsible??"
#: the demand stands and the last clause is a rhetorical question.
_EN_ASKS = re.compile(
    r"^\W*(?:(?:so|and|but|ok|also|just)\s+)?(?:how|when|what|what's|which|where|why|whether|if|can|could|"
    r"will|would|do|does|did|is|are|should|may|shall|who (?:do|should|can) (?:i|we))\b",
    re.I,
)
_ZH_ASKS = re.compile(
    r"什么时候|多久|多长时间|怎么|怎样|如何|哪|能不能|能否|可不可以|是否|会不会|有没有|[找问]谁|[吗么呢]\s*$"
)
# Asking how to get it: with a calm tone, "I need a refund … how do I request it?" is a procedure.
_HOW_TO = re.compile(
    r"\bhow (?:do|can|should|would) (?:i|we) (?:get|claim|request|apply|ask|go about)\b|"
    r"\bwhat (?:do|should) (?:i|we) (?:need to|have to)? ?do\b|"
    # who handles it, or whether it happens by itself: "who do I complain to, or does the money come back
    # by itself?", "是自动退款吗", "钱会自己退回来吗", "找谁退"
    r"\bwho (?:do|should|can) (?:i|we) (?:complain|talk|speak|write|go|apply) to\b|"
    # … or whom to ask: "I want a refund, who do I actually ask, you or apple?"
    r"\bwho (?:do|should|can) (?:i|we) (?:actually |really )?ask\b|"
    r"\b(?:does|do|will|would|is) (?:the |my |our )?(?:money|refund|payment|deposit|charge)s? "
    r"(?:come back|go back|get refunded|get returned|returned|refunded)(?: to (?:me|us|my \w+))? "
    r"(?:by itself|on its own|automatically)|\bis (?:it|the refund) automatic\b|"
    r"怎么(?:申请|操作|办|弄|退)|如何申请|(?:是|会)自动退|自己退回|自动退回|找谁(?:退|申请|办)|"
    # … or how long it takes: "I want a refund … how long until the money is back on my card?"
    r"\bhow long (?:until|till|before|does it take|will it take|do refunds take)\b|"
    r"\bwhen (?:will|would|do|does) (?:i|we) (?:get|see|receive) (?:it|them|my|our|the)\b|"
    r"\bwhen (?:will|would|does) (?:it|the money|my money|the refund|my refund) (?:come|arrive|show|be|go)\b",
    re.I,
)
#: Rule kinds that want money back: a calm question about the procedure exempts them.
_MONEY_BACK = ("wants", "demand")
_ENDS, _CLAUSES = ".!?;。！？；\n", re.compile(r"[,，、]")
_WORDS = re.compile(r"[a-z0-9']+|[\u4e00-\u9fff]", re.I)


def _asks(text: str, start: int) -> bool:
    """Whether the sentence holding ``start`` is a question (see ``_EN_ASKS``, ``_ZH_ASKS``)."""
    cut = max(text.rfind(d, 0, start) for d in _ENDS)
    end = min((i for i in (text.find(d, start) for d in _ENDS) if i >= 0), default=len(text))
    sentence = text[cut + 1 : end]
    clauses = _CLAUSES.split(sentence)
    whole = _CLAUSES.search(text, start, end) is None or len(_WORDS.findall(clauses[-1])) <= 2
    return (whole and text[end : end + 1] in ("?", "？")) or any(
        _EN_ASKS.search(c) or _ZH_ASKS.search(c) for c in clauses
    )


@dataclass(frozen=True, slots=True)
class Escalation:
    """Whether to hand over, and which rule fired (``demand``, ``threat``, ``anger``)."""

    escalate: bool
    reason: str = ""


class EscalationDetector:
    """Finds complaints that demand a human (see the module docstring); rules only, no model.

    ``anger`` alone escalates only with a negative ``mood_score`` at or below ``anger_needs``
    and when the message is not a question ("is it ridiculous to ask ...?" is one).  A stated want of
    money back ("I need a refund for the cancelled class") is a procedure question, not a demand,
    when the message also asks how to get it (or who handles it, or whether it comes back by itself)
    and its tone is at least ``calm_from`` (at most one mild negative word: "who do I complain to?").
    """

    def __init__(self, anger_needs: float = -1.0, calm_from: float = -1.0) -> None:
        self.anger_needs, self.calm_from = anger_needs, calm_from
        self._rules = [(kind, re.compile(p, re.I)) for kind, p in _EN + _ZH]
        self._statements = [(kind, re.compile(p, re.I)) for kind, p in _EN_STATEMENT + _ZH_STATEMENT]

    def _procedure(self, text: str, tone: float) -> bool:
        """A calm message that asks how to get its money back asks for the procedure."""
        return tone >= self.calm_from and _HOW_TO.search(text) is not None

    def detect(self, text: str, mood_score: float = 0.0, tone: float | None = None) -> Escalation:
        """Decide for one customer message; ``mood_score`` is the sentiment score (negative = upset),
        ``tone`` its part from how the message is said (default: the whole score): the situation
        it describes ("the concert was cancelled") does not make a request for the procedure angry."""
        # Written Cantonese folded first: "叫你哋经理出嚟" demands the manager as "叫你们经理出来" does.
        text = mandarin(simplified(text))
        # Anger that ends on a question asks it: "拉链就坏了，气死，你们能换拉链吗，多少钱".
        question = text.rstrip().endswith(("?", "？", "吗")) or _asks(text, len(text.rstrip()) - 1)
        calm = mood_score if tone is None else tone
        for kind, rule in self._rules:
            if not rule.search(text) or (kind in _MONEY_BACK and self._procedure(text, calm)):
                continue
            if kind != "anger" or (mood_score <= self.anger_needs and not question):
                return Escalation(True, "demand" if kind == "wants" else kind)
        for kind, rule in self._statements:
            if any(not _asks(text, m.start()) for m in rule.finditer(text)):
                return Escalation(True, kind)
        return Escalation(False)
