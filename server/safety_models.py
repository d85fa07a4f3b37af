"""Records of the abuse controls: blocks, moderation, audit, word lists, reports.

Plain frozen dataclasses like :mod:`parley.server.models`; every record carries
``app`` (the tenant). Times are integer milliseconds since the epoch.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BlockRecord"]


@dataclass(frozen=True, slots=True)
class BlockRecord:
    """``blocker`` blocked ``blocked`` (one way) at ``created``."""

    app: str
    blocker: str
    blocked: str
    created: int
