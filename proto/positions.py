"""Per-conversation stream positions and the pure logic to merge incoming messages.

Delivery over the broker is at-most-once; the store is the truth. A receiver
keeps, per conversation, the last contiguous seq it has seen and the stream
epoch. Each incoming message is classified: deliver it, drop a duplicate, or
notice a gap and refill it from the store (``sync``) before going on.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

__all__ = ["Verdict", "StreamTracker"]


class Verdict(enum.Enum):
    """What to do with an incoming message: deliver it (the next seq), drop it (at or
    below the position) or refill the gap before it from the store (beyond the next seq)."""

    DELIVER = "deliver"
    DUPLICATE = "duplicate"
    GAP = "gap"


@dataclass(slots=True)
class StreamTracker:
    """Tracks contiguous positions per conversation.

    ``positions[conv]`` is the highest seq such that every seq up to it has
    been delivered. A conversation not tracked yet accepts any first seq.
    """

    positions: dict[str, int] = field(default_factory=dict)
    epochs: dict[str, str] = field(default_factory=dict)

    def classify(self, conv: str, seq: int) -> Verdict:
        """Classify message ``seq`` of ``conv`` without changing state."""
        last = self.positions.get(conv)
        if last is None or seq == last + 1:
            return Verdict.DELIVER
        if seq <= last:
            return Verdict.DUPLICATE
        return Verdict.GAP

    def advance(self, conv: str, seq: int) -> None:
        """Record that ``seq`` was delivered (call only after ``DELIVER``)."""
        self.positions[conv] = max(seq, self.positions.get(conv, 0))

    def reset(self, conv: str, seq: int, epoch: str) -> None:
        """Start tracking ``conv`` afresh at ``seq`` in stream ``epoch``."""
        self.positions[conv] = seq
        self.epochs[conv] = epoch
