"""What the bot decides about a customer message before it looks for an answer.

One function for the runner and the evaluation alike (``python -m parley.bots.eval`` scores
exactly what :class:`~.runner.SupportBot` does with a message): an explicit request for a
human, negative sentiment (one strongly negative message, or ``negative_limit`` in a row), then
an escalating complaint (:mod:`~.escalation`: a demand for a refund, compensation or someone in
charge, a threat) that was not negative enough for the first.  An empty reason means "try to answer".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parley.bots.escalation import EscalationDetector
from parley.bots.knowledge import HandoffDetector
from parley.bots.sentiment import Sentiment

__all__ = ["Triage"]


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
        if mood is not None and (mood.strong or negative_streak >= self.negative_limit):
            return f"sentiment:{'strong' if mood.strong else 'repeated'}"
        if self.escalation is not None:
            esc = self.escalation.detect(text, mood.score if mood is not None else 0.0)
            if esc.escalate:
                return f"complaint:{esc.reason}"
        return ""
