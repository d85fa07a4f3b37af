"""Token buckets for per-connection and per-user rate limits.

A bucket is a few floats updated on each frame: cheaper than any shared
limiter on the hot path, and exact per connection. (The ``limits`` package
offers fixed/moving windows but no token bucket, and goes through a storage
abstraction we do not need for per-process state.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["TokenBucket"]


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens per second, holding at most ``burst``. Starts full."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    updated: float = field(init=False)

    def __post_init__(self) -> None:
        self.tokens = self.burst
        self.updated = time.monotonic()

    def take(self, cost: float = 1.0) -> bool:
        """Spend ``cost`` tokens if available; False means rate limited."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= cost:
            self.tokens -= cost
            return True
        return False

    def retry_after(self, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are available."""
        return max(0.0, (cost - self.tokens) / self.rate) if self.rate > 0 else float("inf")
