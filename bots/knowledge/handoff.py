"""Detect explicit requests for a human agent, in any language, without keyword false alarms.

A bare keyword match is wrong both ways: "is the agent discount still valid", "人工智能",
"human hair wig" and "客服几点上班" contain the words but ask the bot something, while
"who can I actually talk to?" contains none of the obvious ones.  So the rules look for a
*request*: a contact verb aimed at a human noun ("talk to a person", "转人工", "找客服"),
a human noun standing alone as the whole message ("agent", "人工！！！"), or a fixed
phrase per language ("quiero hablar con una persona", "상담원 연결").  Compound guards
drop a human noun that is really a modifier ("agent price", "human hair", "人工智能").

Optionally, an :class:`~.embedders.Embedder` adds a similarity vote against example
requests — only for short messages and with a high bar, because a long message that
merely mentions agents is exactly the false positive to avoid.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

from .embedders import Embedder, Vector
from .handoff_guards import (
    ASKS_IF_NEEDED,
    CHANNEL_CHOICE,
    DECLINED,
    EN_HUMAN,
    NARRATED_PAST,
    PROVIDER,
    REPLACEMENT,
)
from .langs import simplified

__all__ = ["HandoffDecision", "HandoffDetector", "REQUEST_EXAMPLES"]

# A bare "get" after a subject describes what one gets ("does Plus mean I get a real person
# faster?"); the request forms are "get me …", "can I get …" and an imperative "get a human".
# Words after a human noun that make it a modifier, not the person asked for.
_EN_GUARD = (
    r"(?!\s*(?:discount|price|pric|rate|code|hair|made|readable|resources|size|special|program|fee|'s special|"
    # "an actual human vet": the person asked about is the provider, not an agent
    r"(?:vet|doctor|dentist|groomer|teacher|tutor|trainer|coach|instructor|nurse|pharmacist|driver|"
    r"cleaner|stylist|therapist|technician|engineer|mover)s?\b))"
)
# A person asked to come and do a job in the world is a service, not a chat with an agent:
# "need someone to come grab a box from my flat", "can a real person come to my office to
# collect it", "找个人上门取件".  A person asked to help, answer or look at something in the
# chat still hands over.
_EN_VISIT = (
    r"(?!\s+(?:to\s+)?(?:come|pop|drop|swing|stop)\s+(?:\w+\s+){0,4}?"
    r"(?:collect|pick|grab|fetch|deliver|fix|install|repair|replace|measure|"
    r"(?:to|at|round to|over to) (?:my|our) (?:house|home|flat|place|office|door|address|apartment|building)))"
)
_ZH_VISIT = (
    r"(?!\s*(?:上门|来(?:取|拿|收|修|装|量|搬)|过来(?:取|拿|收|修|装|搬)|"
    r"帮我?(?:收(?!费|款|回)|取(?!消)|拿(?!主意)|搬|送|寄|代收|喂|遛|照顾|装|修(?!改)|浇|打扫|看家|看店)|"
    r"给我(?:送|寄|拿|取|搬|装|安装|打包)))"
)
# A person wanted for a task of the same kind in English: "someone who can sign for my parcels",
# "someone to water the plants".
_EN_TASK = (
    r"(?!\s+(?:to|who (?:can|could|will|would))\s+(?:collect|pick up|receive|sign for|take in|feed|water|walk|"
    r"look after|clean|mind) (?:my|our|the|a|some|his|her|their)\b"
    r"(?!\s+(?:phone|calls?|chat|complaint|case|issue|problem|question)))"
)
# Someone asked to *tell* the customer something is a question in disguise: "need somebody to
# tell me whether this cream is ok", "I need someone to explain to me how the deposit works".
_EN_TELLS = r"(?!\s+to\s+(?:tell|explain(?: to)?|show)\s+(?:me|us)\s+(?:\w+\s+)?(?:if|whether|how|what|when|where|which)\b)"
_EN_VERB = (
    r"(?:talk|speak|chat|connect|transfer|forward|escalate|put|pass|switch|hand)(?:ing)?"
    r"(?: me| us| him| her| them| my \w+| our \w+)?"
    r"(?: (?:over|through|back))?(?: to| with)|get me|give me|let me (?:talk|speak|chat) (?:to|with)|"
    r"(?:i (?:need|want|would like)|i'?d like)(?: to (?:talk|speak|chat) (?:to|with))?|is there|are there|"
    r"can i (?:get|have)|bring|call|find me|send me|(?<!\bi )(?<!\bwe )(?<!\byou )(?<!\bthey )get|want|need"
)
_EN_PATTERNS = [
    re.compile(rf"\b(?:{_EN_VERB})\s+{EN_HUMAN}\b{_EN_GUARD}{_EN_VISIT}{_EN_TELLS}{_EN_TASK}"),
    # "can a staff member help me", "I need a human to look at this", "get a real ppl to answer me",
    # "please have someone from the store call me back", "could someone from your Guangzhou office
    # give me a call", "have someone from the Kowloon Tong front desk phone me"
    # ("will someone from the shop call me when it's ready?" asks about a notice, it requests nothing)
    re.compile(
        rf"(?<!\bwill )(?<!\bwould )(?<!\bdoes )\b{EN_HUMAN}\b{_EN_GUARD}\s+(?:(?:from|at|in|on) (?:the|your) (?:[\w'-]+ ){{0,3}}?[\w'-]+\s+)?(?:to\s+)?"
        r"(?:(?:help|answer|look at|check|call|phone|ring|contact|get back to)\s+(?:me|us|this|my)\b|"
        r"give (?:me|us) a (?:call|ring|phone call)\b)"
    ),
    # "is there … someone on your team I can chat with directly?"
    re.compile(
        rf"\b{EN_HUMAN}\b{_EN_GUARD}(?: (?:on|at|from|in) (?:the|your) [\w'-]+(?: [\w'-]+)?)? (?:i|we) (?:can|could) "
        r"(?:talk|speak|chat) (?:to|with)\b"
    ),
    # … unless it names what about: "who do i speak to about switching from auto to manual?" asks
    # where that is handled, which the knowledge base may say ("about this / my complaint" still asks).
    re.compile(
        r"\bwho (?:can|do|should) i (?:actually |really )?(?:talk|speak|chat) (?:to|with)\b"
        r"(?!\s+(?:about|regarding)\s+(?!(?:this|it|that|my (?:complaint|problem|issue|case))\b))"
    ),
    re.compile(
        r"\b(?:no more|stop|enough of|instead of|not talking to)(?: the| a| this| your)? (?:bot|robot|machine)\b"
    ),
    # A preference for telling it to a person: "I'd rather explain this to an actual person",
    # "I'd prefer to go through it with someone".
    re.compile(
        r"\b(?:i'?d|i would|i)(?: much| really)? (?:rather|prefer(?: to)?) (?:explain|describe|tell|talk|speak|chat|"
        rf"deal|go (?:over|through))\b[^.?!,]{{0,40}}?\b(?:to|with) {EN_HUMAN}\b{_EN_GUARD}"
    ),
]
# The whole message is a human noun plus politeness/punctuation: "agent", "HUMAN", "operator!".
_EN_ALONE = re.compile(
    rf"^(?:(?:please|pls|plz|hey|hi|hello|ok|,)\s*)*{EN_HUMAN}(?:\s*(?:please|pls|plz|now|asap|,))*$"
)

_ZH_HUMAN = r"(?:人工(?:客服|服务|坐席)?|真人(?:客服)?|客服(?:人员|小姐姐|妹妹)?|活人|经理|主管|售后(?:人员)?|工作人员|个人|人)"

# Script-agnostic request: a contact verb in either script aimed at a human noun in either
# script ("transfer to 人工", "转 human", "can I talk to 客服", "我要和 human 说话").  English words
# are delimited by lookarounds on Latin letters, not ``\b``: Chinese characters count as word
# characters, so there is no ``\b`` inside "转human" or "能不能transfer".
_NOT_LATIN_BEFORE, _NOT_LATIN_AFTER = r"(?<![a-z])", r"(?![a-z])"
# Compounds in which 人工 / 真人 / 客服 are not a person: 人工智能, 人工费, 人工成本, 人工湖,
# 人工刺绣, 人工 leather, 真人秀, 智能客服…
_ZH_NOUN_GUARD = (
    r"(?!智能|费|成本|刺绣|湖|合成|皮|革|缝|降|授|呼吸|岛|林|河|草|材料|纤维|面料|宝石|钻|晶|制|养|繁|种|"
    r"\s*(?:leather|intelligence|ai(?![a-z])|fee|cost|labou?r|made|embroider|lake|silk|fib))"
)
# A real person asked for as the provider of the service is not an agent in the chat:
# "可以找个真人验光师帮我验光吗" (as "an actual human vet" in English).
_ZH_PROVIDER_GUARD = r"(?![\u4e00-\u9fff]{0,2}(?:师|医生|大夫|教练|老师|司机|护士))"
_ZH_NOUN = (
    rf"(?:人工(?:客服|服务|坐席)?{_ZH_NOUN_GUARD}|真人(?:客服)?(?!秀){_ZH_PROVIDER_GUARD}|(?<!智能)客服(?:人员|小姐姐|妹妹)?"
    r"|活人|经理|主管|工作人员|售后人员)"
)
_EN_NOUN_MIXED = (
    rf"{_NOT_LATIN_BEFORE}(?:a |an |the |some |your |a real |a live |real |live |actual )?"
    r"(?:humans?|person|people|someone|somebody|agent|representative|rep|operator|staff|manager|supervisor|"
    rf"customer (?:service|support|care)|support (?:team|agent|staff)){_NOT_LATIN_AFTER}"
    r"(?!\s*(?:discount|price|pric|rate|code|hair|made|readable|size|special|program|fee|价|折扣|费|优惠))"
)
_ANY_NOUN = rf"(?:{_ZH_NOUN}|{_EN_NOUN_MIXED})"
_EN_VERB_MIXED = (
    rf"{_NOT_LATIN_BEFORE}(?:(?:talk|speak|chat|connect|transfer|forward|escalate|put|pass|switch|hand)(?:ing)?"
    r"(?: me)?(?: (?:over|through|back))?(?: to| with)|get me|give me|i (?:need|want|would like|'d like)|"
    rf"can i (?:get|have)|find me|want|need){_NOT_LATIN_AFTER}"
)
_ZH_VERB = r"(?:转接|转给|转到|转|接通|接|找|揾|叫|要|换|请|联系|呼叫|给我|来)"
_ZH_FILLER = r"(?:一下|个|一个|你们的?|我|帮我)?"
_MIXED_PATTERNS = [
    # English verb + a noun in either script: "transfer to 人工", "let me talk to 真人", "i want 人工"
    re.compile(rf"{_EN_VERB_MIXED}\s*(?:a |an |the |some |your |a real |real )?{_ZH_NOUN}"),
    re.compile(rf"{_NOT_LATIN_BEFORE}(?:talk|speak|chat)(?:ing)? (?:to|with)\s*(?:个|一个)?人(?![工造家])"),
    # English verb, Chinese preposition: "帮我 transfer 到 real person 好吗", "connect 给客服", with the
    # object in either script: "transfer me 去 …", "可以 transfer 我去 live agent 吗"
    re.compile(
        rf"{_NOT_LATIN_BEFORE}(?:talk|speak|chat|connect|transfer|forward|escalate|put|pass|switch|hand)(?:ing)?"
        rf"(?: me|\s*我们?)?\s*(?:到|给|去|跟|和)\s*(?:a |an |the |some |your |a real |real )?{_ANY_NOUN}"
    ),
    # Chinese verb + a noun in either script: "转 human", "我要找 manager", "帮我转一下 agent"
    re.compile(rf"{_ZH_VERB}\s*{_ZH_FILLER}\s*{_ANY_NOUN}{_ZH_VISIT}"),
    # 跟/和/同 + noun + a talking verb: "我要和 human 说话", "可以跟 agent 说话吗", "我要跟人工沟通"
    # … "我要跟你们的真人客服说话", "想同 staff 直接倾"
    re.compile(
        rf"(?:跟|和|同)\s*(?:你们的?)?\s*{_ANY_NOUN}\s*(?:直接|单独|亲自)?\s*(?:打个?电话)?\s*"
        r"(?:说|聊|讲|倾|沟通|对话|谈|交流)(?!过)"
    ),
    # a call back asked for in English: "可以 call back 我吗"
    re.compile(rf"{_NOT_LATIN_BEFORE}call\s*back\s*(?:我|给我|俾我)"),
    # an advisor of any kind to talk to: "我想直接跟课程顾问打个电话沟通一下"
    re.compile(
        r"(?:跟|和|同)\s*(?:你们的?)?[\u4e00-\u9fff]{0,4}顾问\s*(?:打个?电话)?\s*(?:说|聊|讲|沟通|对话|谈|交流)(?!过)"
    ),
    # "有没有 real person 可以聊一下", "有无 live agent"
    re.compile(rf"(?:有没有|有无|有冇)\s*{_EN_NOUN_MIXED}"),
    # "有人工吗", "有真人客服吗"
    re.compile(rf"有\s*(?:{_ZH_NOUN})\s*(?:吗|嘛|么|没|不|啊|呀)"),
    # A noun leading the message with "please/now": "real person pls 我等不了了", "人工服务 please"
    re.compile(rf"^(?:hi |hello |hey )?{_ANY_NOUN}\s*(?:please|pls|plz|now|asap|快点|谢谢)(?![a-z])"),
    re.compile(r"(?:不要|别用?|不想(?:跟|和)?)\s*(?:和|跟|让)?\s*(?:机器人|bot|robot)(?![a-z])"),
]
_ZH_PATTERNS = [
    re.compile(rf"[转接]\s*(?:一下)?\s*人工{_ZH_NOUN_GUARD}"),
    re.compile(r"人工(?:客服|服务|坐席)"),
    re.compile(
        r"(?:找|揾|叫|要|换|请|让|联系|呼叫|转给|转到|接通)\s*(?:一下|个|一个|你们的?|你们|我)?\s*"
        rf"(?:真人(?!秀){_ZH_PROVIDER_GUARD}|人工{_ZH_NOUN_GUARD}|客服|活人|经理|主管|工作人员|负责人){_ZH_VISIT}"
    ),
    re.compile(rf"(?:找|揾|叫|给我找|换)\s*(?:个|一个)\s*人(?![工造家]){_ZH_VISIT}"),
    # a manager of any title asked to call or talk: "让客户经理给我回个电话", "叫你们店长来跟我说"
    re.compile(
        r"(?:让|叫|请(?!问))\s*(?:你们的?)?[\u4e00-\u9fff]{0,4}?(?:经理|主管|店长|负责人)\s*(?:直接|尽快|马上)?\s*"
        r"(?:给我|跟我|和我|联系|打|回|来)"
    ),
    # someone from support asked to call back: "麻烦安排一位客服专员给我回个电话", "让客服联系我"
    re.compile(
        r"(?:安排|派|让|叫|请(?!问))\s*(?:一位|一个|个|位)?\s*(?:你们的?)?\s*(?:客服|专员|工作人员|同事|职员)"
        r"(?:专员|人员)?\s*(?:尽快|马上|直接)?\s*(?:(?:给我|跟我|和我|同我)\s*(?:回(?:个)?电|打(?:个|一)?(?:电话|call)|"
        r"联系|致电)|联系我|打给我|致电给?我|回电|(?:打|回)(?:个|一)?电话给我)"
    ),
    re.compile(r"(?:跟|和|同)\s*(?:真)?人\s*(?:说|聊|讲|倾|沟通|对话)"),
    # "我要直接跟你们的工作人员说", "想同你哋职员倾下"
    re.compile(
        r"(?:跟|和|同)\s*(?:你们的?|你哋(?:嘅)?)\s*(?:工作人员|职员|员工|同事|负责人)\s*(?:说|聊|讲|倾|沟通|对话)(?!过)"
    ),
    # "真人在吗", but not "模特是真人吗" (is the model a real person?)
    re.compile(r"(?<!是)真人(?:客服)?\s*(?:在吗|呢|吗|在不在|有吗|在不)"),
    re.compile(r"(?:有没有|有无|有冇)\s*(?:真人|人工|客服)"),
    re.compile(r"(?:不要|别用?|不想跟)\s*(?:和|跟|让)?\s*机器人"),
    # Code-mixed: a Chinese request verb with an English human noun, or the reverse.
    re.compile(r"(?:转|找|要|接|叫|换)\s*(?:个|一个)?\s*(?:real |live )?(?:human|agent|person|staff|客服)\b"),
    re.compile(r"(?:human|real person|agent|staff)\s*(?:在吗|在不在|呢|来)"),
]
_ZH_ALONE = re.compile(rf"^(?:请|麻烦|帮我)?\s*{_ZH_HUMAN}\s*(?:吧|呢|啊+|呀|谢谢)?$")

_OTHER_PATTERNS = [
    re.compile(r"\bhablar con (?:una persona|un (?:agente|humano|asesor|operador)|alguien)"),
    re.compile(
        r"\b(?:p[aá]same|comun[ií]came|ponme) con (?:un|una) (?:agente|persona|humano|asesor|operador)"
    ),
    re.compile(
        r"\bparler (?:à|a|avec) (?:un|une|quelqu'un)(?: \w+)?\b|\bun (?:humain|conseiller|agent)\s*(?:svp|s'il vous plaît|stp)"
    ),
    re.compile(
        r"\bmit (?:einem|einer) (?:mitarbeiter|menschen|berater|agenten)\w* (?:sprechen|reden|verbinden)"
    ),
    re.compile(r"オペレーター|担当者に|人間と話|有人対応"),
    re.compile(r"상담원|상담사|사람과 (?:대화|통화)"),
    re.compile(r"\b(?:соедините|переключите|позовите)\b.*\b(?:оператор|человек|менеджер|сотрудник)"),
    re.compile(r"\bfalar com (?:um atendente|uma pessoa|um humano)"),
]

#: Phrasings of a request for a human, embedded for the optional similarity vote.
REQUEST_EXAMPLES = (
    "I want to talk to a human",
    "connect me to a real person",
    "let me speak to customer service",
    "transfer me to an agent",
    "我要转人工客服",
    "找个真人跟我说",
    "quiero hablar con una persona",
    "オペレーターにつないで",
)


@dataclass(frozen=True, slots=True)
class HandoffDecision:
    """Whether to hand over, and why (``rule:<lang>``, ``similarity`` or ``""``)."""

    handoff: bool
    reason: str = ""
    evidence: str = ""


def _normalise(text: str) -> str:
    text = simplified(unicodedata.normalize("NFKC", text)).lower()
    text = re.sub(r"[!?.。！？~～…]+", " ", text)
    return re.sub(r"\s+", " ", text).strip()


class HandoffDetector:
    """Rule-based detector of explicit requests for a human, with an optional embedding vote.

    ``similarity_threshold`` applies to the embedder's raw cosine against
    :data:`REQUEST_EXAMPLES`; the vote is only taken for messages of at most
    ``max_similarity_chars`` characters.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        similarity_threshold: float = 0.8,
        max_similarity_chars: int = 40,
    ) -> None:
        self.embedder = embedder
        self.similarity_threshold = similarity_threshold
        self.max_similarity_chars = max_similarity_chars
        self._examples: Vector | None = None

    def detect(self, text: str) -> HandoffDecision:
        """Decide for one customer message."""
        t = _normalise(text)
        # The question whether a person is needed is cut out, not the whole message: "do I have
        # to talk to a bot forever, get me a human" still asks for one.
        asked = ASKS_IF_NEEDED.search(t) is not None
        t = DECLINED.sub(" ", NARRATED_PAST.sub(" ", ASKS_IF_NEEDED.sub(" ", t)))
        t = CHANNEL_CHOICE.sub(" ", t)
        if PROVIDER.search(t):
            t = REPLACEMENT.sub(" ", t)
        t = t.strip()
        if not t:
            return HandoffDecision(False)
        for lang, patterns in (
            ("en", _EN_PATTERNS),
            ("zh", _ZH_PATTERNS),
            ("mixed", _MIXED_PATTERNS),
            ("other", _OTHER_PATTERNS),
        ):
            for p in patterns:
                m = p.search(t)
                if m:
                    return HandoffDecision(True, f"rule:{lang}", m.group())
        compact = re.sub(r"[\s,，、。!！?？~]+", "", t)
        if _EN_ALONE.match(t) or _ZH_ALONE.match(compact):
            return HandoffDecision(True, "rule:alone", t)
        if self.embedder is not None and not asked and len(t) <= self.max_similarity_chars:
            if self._examples is None:
                self._examples = self.embedder.encode(list(REQUEST_EXAMPLES))
            sims = self._examples @ self.embedder.encode([text])[0]
            best = int(np.argmax(sims))
            if float(sims[best]) >= self.similarity_threshold:
                return HandoffDecision(True, "similarity", REQUEST_EXAMPLES[best])
        return HandoffDecision(False)
