"""The hand-over summary an agent reads when they take a conversation over from the bot."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from parley.bots.answer import Turn

__all__ = ["clip", "summarize"]


def summarize(turns: Sequence[Turn], reason: str, *, limit: int = 600) -> str:
    """A short summary of the conversation for the agent who takes over."""
    asked = [t.text.strip() for t in turns if t.role == "customer" and t.text.strip()]
    said = [t.text.strip() for t in turns if t.role == "bot" and t.text.strip()]
    parts = [f"Hand-over: {reason}."] if reason else []
    if asked:
        quoted = " / ".join(f"“{clip(a, 140)}”" for a in asked[-3:])
        parts.append(f"Customer ({len(asked)} message{'s' if len(asked) != 1 else ''}): {quoted}.")
    if said:
        parts.append(f"Bot's last answer: “{clip(said[-1], 160)}”.")
    return clip(" ".join(parts), limit)


def clip(text: str, n: int) -> str:
    """``text`` on one line, cut to ``n`` characters with an ellipsis."""
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= n else text[: n - 1] + "…"
