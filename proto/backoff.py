"""Jittered exponential backoff as a pure value object."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays for reconnects and retries: ``min * factor**attempt`` capped at ``max``.

    "Full jitter": each delay is drawn uniformly from ``[0, cap]`` (but never
    below ``min_delay``), which spreads a reconnect storm after a node dies.
    """

    min_delay: float = 0.2
    max_delay: float = 20.0
    factor: float = 2.0

    def __post_init__(self) -> None:
        if not (0 < self.min_delay <= self.max_delay) or self.factor < 1:
            raise ValueError("need 0 < min_delay <= max_delay and factor >= 1")

    def cap(self, attempt: int) -> float:
        """Upper bound of the delay before retry number ``attempt`` (0-based)."""
        attempt = max(0, attempt)
        try:
            return min(self.max_delay, self.min_delay * self.factor ** min(attempt, 64))
        except OverflowError:  # a huge factor: the cap is reached long before
            return self.max_delay

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """A jittered delay for retry number ``attempt``."""
        upper = self.cap(attempt)
        return max(self.min_delay, (rng or random).uniform(0, upper))
