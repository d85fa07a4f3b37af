"""The audience part of the store port: profiles keyed by ``(app, pid)`` and their identifiers.

Two role ports, implemented by ``store/sqlite_audience.py`` + ``store/sqlite_identity.py``
and ``store/mongo_audience.py`` + ``store/mongo_identity.py``;
``tests/server/store/test_audience_contract.py`` runs against both. Storage layout: the
agreed one (tables / collections prefixed ``aud_``) that segments compile against.

Guarantees (both adapters):

* Everything is keyed by app: no call ever sees or changes another app's records.
* ``resolve_or_create`` is atomic: of concurrent calls for one ``(app, kind, value)`` (on one
  store instance or several) all return the same pid, and exactly one reports it created.
* An identifier belongs to at most one profile; ``resolve_identifier`` only ever returns a
  live profile (it follows ``merged_into``), so two live profiles never share an identifier.
* ``update_audience_profile`` applies all of its :class:`ProfileChange` or nothing, and appends
  the tag-history and consent-ledger lines of that change; ``rev`` grows by one per change.
  It raises :class:`ProfileMerged` on a merged profile (the caller re-resolves and retries:
  a write racing with a merge is never applied to the dead profile and lost).
  A change naming the events it applies (``ProfileChange.events``) is made at most once per
  event: if one of them was applied to this profile — or to a profile merged into it, whose
  counters it took — it raises ``AlreadyApplied`` with their ids and changes nothing (SQLite:
  by the events' ``pending`` mark, in the change's transaction; MongoDB: by the ids of the
  latest ``APPLIED_KEEP`` applied events kept on the profile document, checked by the same
  compare-and-set as the change).
* ``merge_audience_profiles`` is atomic with respect to every other write: the loser's
  state at the merge (every change before it) ends up in the survivor, by the rule of
  :mod:`parley.server.audience_rules`; of two concurrent merges involving the same profile
  one wins and the other raises :class:`ProfileMerged` (nothing of it stored).
* The legacy chat ``Profiles`` port (``get_profile`` / ``merge_profile`` by chat user) is
  served from the same records: the chat user is the identifier of kind ``user``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from parley.server.audience_models import (
    AudienceProfile,
    ConsentEntry,
    Identifier,
    MergeRecord,
    ProfileChange,
    TagChange,
)

__all__ = ["AudienceProfiles", "Identities"]


class AudienceProfiles(Protocol):
    """Durable profiles, the app's declared schema, tag history and consent ledger.

    Every method may raise ``StoreUnavailable``.
    """

    async def put_audience_schema(self, app: str, doc: Mapping[str, Any], now: int) -> int:
        """Replace the app's schema document (JSON-able, validated by the service); returns its
        new version (1, 2, ...)."""

    async def get_audience_schema(self, app: str) -> tuple[int, dict[str, Any]] | None:
        """The app's schema version and document; None until one was put."""

    async def get_audience_profile(self, app: str, pid: str) -> AudienceProfile | None:
        """The profile as stored (a merged one has ``merged_into`` set); None if there is none."""

    async def update_audience_profile(self, app: str, pid: str, change: ProfileChange) -> AudienceProfile:
        """Apply ``change`` atomically; returns the profile after it.

        Raises ``ProfileNotFound`` if there is no such profile, ``ProfileMerged`` if it was
        merged into another, ``AlreadyApplied`` if one of ``change.events`` was applied
        (nothing is written then).
        """

    async def tag_history(self, app: str, pid: str, name: str = "") -> list[TagChange]:
        """Every recorded change of the profile's tags (of tag ``name`` if given), oldest first."""

    async def consent_ledger(self, app: str, pid: str, topic: str = "") -> list[ConsentEntry]:
        """The profile's consent ledger (of ``topic`` if given), oldest first."""


class Identities(Protocol):
    """Identifiers → profiles, and merges (One ID). Every method may raise ``StoreUnavailable``."""

    async def resolve_identifier(self, app: str, kind: str, value: str) -> str | None:
        """The live pid holding the identifier (after merges); None if nobody holds it."""

    async def resolve_or_create(self, app: str, kind: str, value: str, now: int) -> tuple[str, bool]:
        """The live pid holding the identifier, creating an empty profile holding it if nobody
        does; and whether it was created. Atomic (see the module's guarantees)."""

    async def attach_identifier(self, app: str, pid: str, kind: str, value: str, now: int) -> str:
        """Give the identifier to live profile ``pid`` unless someone holds it already; returns
        the live pid holding it afterwards (``pid``, or the other holder: nothing changed).

        Raises ``ProfileNotFound`` / ``ProfileMerged`` for ``pid``.
        """

    async def identifiers_of(self, app: str, pid: str) -> list[Identifier]:
        """The identifiers ``pid`` holds, by kind then value."""

    async def merge_audience_profiles(
        self,
        app: str,
        winner: str,
        loser: str,
        *,
        matched: tuple[Identifier, ...],
        reason: str,
        actor: str,
        mid: str,
        now: int,
    ) -> MergeRecord:
        """Fold live profile ``loser`` into live profile ``winner`` (rule: ``audience_rules``):
        the survivor gets its data and identifiers, the loser is marked ``merged_into`` and a
        :class:`MergeRecord` ``mid`` with both snapshots is stored. Atomic.

        Raises ``ProfileNotFound`` if either is missing, ``ProfileMerged`` if either is no
        longer live (or ``winner == loser``: nothing to do is refused the same way).
        """

    async def unmerge_audience_profiles(self, app: str, mid: str, now: int) -> MergeRecord | None:
        """Undo merge ``mid``: the loser lives again from its snapshot with the identifiers that
        moved (those the survivor still holds), the survivor gives back what it took and has
        not changed since (``audience_rules.unmerge_survivor``). Returns the record marked
        ``undone``; None if there is no such merge, it was undone already, or the survivor is
        no longer live (merged again: undo that first)."""

    async def list_merges(self, app: str, pid: str) -> list[MergeRecord]:
        """The merges ``pid`` took part in (as survivor or merged), newest first."""

    async def get_merge(self, app: str, mid: str) -> MergeRecord | None:
        """The merge record ``mid``; None if there is none."""

    async def count_merges_matching(self, app: str, kind: str, value: str) -> int:
        """How many standing (not undone) merges matched on this identifier (the merge guard)."""
