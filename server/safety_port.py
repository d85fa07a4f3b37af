"""The safety part of the store port: blocks, moderation state, audit, word lists, reports.

A role port of its own (see :class:`~parley.server.ports.Store`, which includes
it) so that the abuse controls do not spread over the core store's methods.
Adapters: ``store/sqlite_safety.py`` and ``store/mongo_safety.py``, mixed into
the SQLite and MongoDB stores; ``tests/server/store/test_safety_contract.py``
runs against both.

Guarantees:

* Everything is keyed by app: no call ever sees another app's records.
* A block is one-way (``blocker`` → ``blocked``) and unique per pair:
  ``add_block`` of an existing pair stores nothing and returns False.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from parley.server.safety_models import BlockRecord

__all__ = ["SafetyStore"]


class SafetyStore(Protocol):
    """Durable state of the abuse controls. Every method may raise ``StoreUnavailable``."""

    # blocks -----------------------------------------------------------
    async def add_block(self, app: str, blocker: str, blocked: str, created: int) -> bool:
        """Record that ``blocker`` blocks ``blocked``; False if it already did."""

    async def remove_block(self, app: str, blocker: str, blocked: str) -> bool:
        """Undo a block; False if there was none."""

    async def list_blocks(self, app: str, blocker: str) -> list[BlockRecord]:
        """Whom ``blocker`` blocks, by user id."""

    async def blocks_between(self, app: str, user: str, others: Collection[str]) -> list[BlockRecord]:
        """Blocks in either direction between ``user`` and any of ``others``."""
