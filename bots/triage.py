"""What the bot decides about a customer message before it looks for an answer.

One function for the runner and the evaluation alike (``python -m parley.bots.eval`` scores
exactly what :class:`~.runner.SupportBot` does with a message): an explicit request for a
human, negative sentiment (one strongly negative message, or ``negative_limit`` in a row), then
an escalating complaint (:mod:`~.escalation`: a demand for a refund, compensation or someone in
charge, a threat) that was not negative enough for the first.  An empty reason means "try to answer".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from parley.bots.escalation import EscalationDetector
from parley.bots.knowledge import HandoffDetector
from parley.bots.knowledge.langs import simplified
from parley.bots.sentiment import Sentiment

__all__ = ["Triage"]

#: A question about how something is done (not a demand that it be done now).
_PROCEDURE = re.compile(
    r"\b(?:how (?:do|can|should) (?:i|we)|what(?:'s| is) the (?:process|procedure)|where do i)\b|"
    r"怎么(?:办理|操作|申请|弄|处理|走|举报|投诉|反映)|如何|哪个流程|什么流程|走哪个|流程是|怎样"
)
#: A yes/no or deadline question the knowledge base may answer, however cross ("the panels are filthy …, is it
#: worth paying someone or can i just hose them down"); the escalation rules still read every
#: message this lets through.
_YES_NO = re.compile(
    r"\b(?:can|could|should) (?:i|we) (?:just |still |also )?(?!not\b)[a-z]|\bis it worth\b|\bdo (?:i|we) need to\b|"
    # what the business offers ("do u have instructors who speak english? my cantonese is terrible lol")
    r"\bdo (?:you|u|ya) (?:guys )?(?:have|offer|sell|provide|accept|take)\b(?! any idea)|"
    # a deadline asked for ("… are you going to sell my stuff?? how long do i have", "还有几天时间")
    r"\bhow (?:long|much time|many days) do (?:i|we) (?:still )?(?:have|get)\b|还(?:有|剩)(?:多久|几天|多少天|多长时间)|"
    r"(?:能|可以|可不可以)[^，。！!？?]{0,10}(?:吗|么)"
)
#: Money back asked for in the same breath as strong words is a demand, however it is phrased
#: ("worst service ever, can I get my money back", "气死，能退钱吗").
_MONEY_BACK = re.compile(
    r"refund|money back|compensat|reimburs|chargeback|退钱|退款|退费|退差价|赔偿|索赔|赔钱|补偿"
)


@dataclass
class Triage:
    """Hand-over rules applied before retrieval; :meth:`reason` says which one fired."""

    detector: HandoffDetector = field(default_factory=HandoffDetector)
    negative_limit: int = 2
    escalation: EscalationDetector | None = field(default_factory=EscalationDetector)

    def reason(self, text: str, mood: Sentiment | None, negative_streak: int) -> str:
        """The hand-over reason for ``text`` (``""``: answer it).

        ``negative_streak`` counts this message when it is negative.
        """
        decision = self.detector.detect(text)
        if decision.handoff:
            return f"customer_request:{decision.reason}"
        # Complaint words in a question about the procedure ("想投诉，是走哪个流程退钱", "how do I
        # complain about …") ask the bot something: one such message alone is no outburst.
        lowered = simplified(text).lower()
        strong = (
            mood is not None
            and mood.strong
            and not _PROCEDURE.search(lowered)
            and (not _YES_NO.search(lowered) or _MONEY_BACK.search(lowered) is not None)
        )
        if mood is not None and (strong or negative_streak >= self.negative_limit):
            return f"sentiment:{'strong' if strong else 'repeated'}"
        if self.escalation is not None:
            score, tone = (mood.score, mood.tone) if mood is not None else (0.0, 0.0)
            esc = self.escalation.detect(text, score, tone)
            if esc.escalate:
                return f"complaint:{esc.reason}"
        return ""
