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
from parley.bots.sentiment import Sentiment

__all__ = ["Triage"]

#: A question about how something is done (not a demand that it be done now).
_PROCEDURE = re.compile(
    r"\b(?:how (?:do|can|should) (?:i|we)|what(?:'s| is) the (?:process|procedure)|where do i)\b|"
    r"怎么(?:办理|操作|申请|弄|处理|走|举报|投诉|反映)|如何|哪个流程|什么流程|走哪个|流程是|怎样"
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
        strong = mood is not None and mood.strong and not _PROCEDURE.search(text.lower())
        if mood is not None and (strong or negative_streak >= self.negative_limit):
            return f"sentiment:{'strong' if strong else 'repeated'}"
        if self.escalation is not None:
            score, tone = (mood.score, mood.tone) if mood is not None else (0.0, 0.0)
            esc = self.escalation.detect(text, score, tone)
            if esc.escalate:
                return f"complaint:{esc.reason}"
        return ""
