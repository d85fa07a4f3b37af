"""The safety part of the store port: blocks, moderation state, audit, word lists, reports.

A role port of its own (see :class:`~parley.server.ports.Store`, which includes
it) so that the abuse controls do not spread over the core store's methods.
Adapters: ``store/sqlite_safety.py`` and ``store/mongo_safety.py``, role classes
of the SQLite and MongoDB stores; ``tests/server/store/test_safety_contract.py``
runs against both.

Guarantees:

* Everything is keyed by app: no call ever sees another app's records.
* A block is one-way (``blocker`` → ``blocked``) and unique per pair:
  ``add_block`` of an existing pair stores nothing and returns False.
* One status per user and one mute per (conversation, user): saving replaces.
* Audit records are append-only and listed in ``id`` order (ids sort by time).
* ``rotate_secret`` replaces the app's secret and keeps the old one as a
  :class:`RetiredSecret` in one step, cutting every earlier retired secret's
  ``until`` to the new one's (a shorter overlap ends older ones too). Retired
  secrets are never deleted here: their ``until`` decides.
* A word list is replaced whole by ``put_word_list`` (one per name and app).
* Review items are unique per ``key``: ``add_review`` of an existing key stores
  nothing and returns False. ``resolve_review`` is a compare-and-set from
  ``open``: of two moderators resolving at once exactly one wins.
* ``remove_api_key`` removes only a key of that app: at once, for every node
  (API keys are not cached).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from parley.server.safety_models import (
    ApiKeyRecord,
    AuditRecord,
    BlockRecord,
    Mute,
    RetiredSecret,
    ReviewItem,
    UserStatus,
    WordList,
)

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

    # moderation -------------------------------------------------------
    async def get_user_status(self, app: str, user: str) -> UserStatus | None:
        """The user's moderation status; None if moderators never acted on the user."""

    async def save_user_status(self, status: UserStatus) -> None:
        """Create or replace the user's status."""

    async def save_mute(self, mute: Mute) -> None:
        """Create or replace the mute of ``(conv, user)``."""

    async def get_mute(self, app: str, conv: str, user: str) -> Mute | None:
        """The mute of ``(conv, user)``, expired or not (the caller checks ``until``); None if none."""

    async def list_mutes(self, app: str, conv: str) -> list[Mute]:
        """Mutes of a conversation (expired ones included), by user id."""

    async def remove_mute(self, app: str, conv: str, user: str) -> bool:
        """Lift a mute; False if there was none."""

    # audit ------------------------------------------------------------
    async def add_audit(self, record: AuditRecord) -> None:
        """Append ``record`` to the app's audit log; records are never changed or removed."""

    async def list_audit(
        self,
        app: str,
        *,
        after: str,
        limit: int,
        actor: str = "",
        action: str = "",
        target: str = "",
        before: str = "",
    ) -> list[AuditRecord]:
        """Up to ``limit`` records with ``after < id`` (and ``id < before`` if given: ids start with
        the zero-padded time, so a time range is an id range), of ``actor`` and ``target`` if
        given (exact), whose ``action`` starts with ``action``; in id order."""

    # secrets and keys -------------------------------------------------
    async def rotate_secret(self, app: str, secret: str, retired: RetiredSecret) -> bool:
        """Make ``secret`` the app's token secret and keep ``retired``; False for an unknown app."""

    async def retired_secrets(self, app: str) -> list[RetiredSecret]:
        """Every retired secret of the app (the caller checks ``until``)."""

    async def list_api_keys(self, app: str) -> list[ApiKeyRecord]:
        """The app's API keys (digests), oldest first."""

    async def remove_api_key(self, app: str, key_hash: str) -> bool:
        """Revoke one of the app's keys; False if the app has no such key."""

    # word lists and reviews -------------------------------------------
    async def put_word_list(self, words: WordList) -> None:
        """Create or replace the list ``words.name`` of the app."""

    async def delete_word_list(self, app: str, name: str) -> bool:
        """Remove the app's list ``name``; False if there was none."""

    async def list_word_lists(self, app: str) -> list[WordList]:
        """The app's word lists, by name."""

    async def add_review(self, item: ReviewItem) -> bool:
        """Queue ``item``; False (nothing stored) if its ``key`` is already queued."""

    async def get_review(self, app: str, review_id: str) -> ReviewItem | None:
        """One item of the app's review queue, open or resolved; None if the app has no such item."""

    async def list_reviews(self, app: str, *, state: str, after: str, limit: int) -> list[ReviewItem]:
        """Up to ``limit`` items in ``state`` with ``id > after``, in id order."""

    async def resolve_review(self, app: str, review_id: str, *, outcome: str, by: str, ts: int) -> bool:
        """Mark an open item resolved; False if it is not open (or not the app's)."""
