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

__all__ = ["HandoffDecision", "HandoffDetector", "REQUEST_EXAMPLES"]

_EN_HUMAN = (
    r"(?:a |an |the |some |your |one of your |a real |a live |real |live |actual |an actual )?"
    r"(?:human(?: being)?s?|person|people|ppl|someone|somebody|agent|representative|rep|operator|"
    r"staff(?: member)?|manager|supervisor|customer (?:service|support|care)(?: rep(?:resentative)?| agent| team)?|"
    r"support (?:team|agent|staff)|real one|team member|employee|live chat)"
)
# Words after a human noun that make it a modifier, not the person asked for.
_EN_GUARD = r"(?!\s*(?:discount|price|pric|rate|code|hair|made|readable|resources|size|special|program|fee|'s special))"
_EN_VERB = (
    r"(?:talk|speak|chat|connect|transfer|forward|escalate|put|pass|switch|hand)(?:ing)?(?: me)?"
    r"(?: (?:over|through|back))?(?: to| with)|get me|give me|let me (?:talk|speak|chat) (?:to|with)|"
    r"i (?:need|want|would like|'d like)(?: to (?:talk|speak|chat) (?:to|with))?|is there|are there|"
    r"can i (?:get|have)|bring|call|find me|send me|get|want|need"
)
_EN_PATTERNS = [
    re.compile(rf"\b(?:{_EN_VERB})\s+{_EN_HUMAN}\b{_EN_GUARD}"),
    # "can a staff member help me", "I need a human to look at this", "get a real ppl to answer me"
    re.compile(
        rf"\b{_EN_HUMAN}\b{_EN_GUARD}\s+(?:to\s+)?(?:help|answer|look at|check|call|contact)\s+(?:me|this|my)"
    ),
    re.compile(r"\bwho (?:can|do|should) i (?:actually |really )?(?:talk|speak|chat) (?:to|with)\b"),
    re.compile(
        r"\b(?:no more|stop|enough of|instead of|not talking to)(?: the| a| this| your)? (?:bot|robot|machine)\b"
    ),
]
# The whole message is a human noun plus politeness/punctuation: "agent", "HUMAN", "operator!".
_EN_ALONE = re.compile(
    rf"^(?:(?:please|pls|plz|hey|hi|hello|ok|,)\s*)*{_EN_HUMAN}(?:\s*(?:please|pls|plz|now|asap|,))*$"
)

_ZH_HUMAN = r"(?:人工(?:客服|服务|坐席)?|真人(?:客服)?|客服(?:人员|小姐姐|妹妹)?|活人|经理|主管|售后(?:人员)?|工作人员|个人|人)"
_ZH_PATTERNS = [
    re.compile(r"[转接]\s*(?:一下)?\s*人工"),
    re.compile(r"人工(?:客服|服务|坐席)"),
    re.compile(
        r"(?:找|叫|要|换|请|让|联系|呼叫|转给|转到|接通)\s*(?:一下|个|一个|你们的?|你们|我)?\s*(?:真人|人工|客服|活人|经理|主管|工作人员)"
    ),
    re.compile(r"(?:找|叫|给我找|换)\s*(?:个|一个)\s*人"),
    re.compile(r"(?:跟|和|同)\s*(?:真)?人\s*(?:说|聊|讲|沟通|对话)"),
    re.compile(r"真人(?:客服)?\s*(?:在吗|呢|吗|在不在|有吗|在不)"),
    re.compile(r"(?:有没有|有无)\s*(?:真人|人工|客服)"),
    re.compile(r"(?:不要|别用?|不想跟)\s*(?:和|跟)?\s*机器人"),
    # Code-mixed: a Chinese request verb with an English human noun, or the reverse.
    re.compile(r"(?:转|找|要|接|叫|换)\s*(?:个|一个)?\s*(?:real |live )?(?:human|agent|person|staff|客服)\b"),
    re.compile(r"(?:human|real person|agent|staff)\s*(?:在吗|在不在|呢|来)"),
]
_ZH_ALONE = re.compile(rf"^(?:请|麻烦|帮我)?\s*{_ZH_HUMAN}\s*(?:吧|呢|啊|呀|谢谢)?$")

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
    text = unicodedata.normalize("NFKC", text).lower()
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
        if not t:
            return HandoffDecision(False)
        for lang, patterns in (("en", _EN_PATTERNS), ("zh", _ZH_PATTERNS), ("other", _OTHER_PATTERNS)):
            for p in patterns:
                m = p.search(t)
                if m:
                    return HandoffDecision(True, f"rule:{lang}", m.group())
        compact = re.sub(r"[\s,，、。!！?？~]+", "", t)
        if _EN_ALONE.match(t) or _ZH_ALONE.match(compact):
            return HandoffDecision(True, "rule:alone", t)
        if self.embedder is not None and len(t) <= self.max_similarity_chars:
            if self._examples is None:
                self._examples = self.embedder.encode(list(REQUEST_EXAMPLES))
            sims = self._examples @ self.embedder.encode([text])[0]
            best = int(np.argmax(sims))
            if float(sims[best]) >= self.similarity_threshold:
                return HandoffDecision(True, "similarity", REQUEST_EXAMPLES[best])
        return HandoffDecision(False)
