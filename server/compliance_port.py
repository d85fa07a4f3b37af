"""The erasure part of the store port: deleting a person's audience rows, identifier tombstones
and erase records (docs/AUDIENCE.md ``## Compliance``).

A role port of its own, like :class:`~parley.server.events_port.EventLog`. Adapters:
``store/sqlite_compliance.py`` and ``store/mongo_compliance.py``;
``tests/server/store/test_compliance_contract.py`` runs against both.

Guarantees (both adapters):

* Everything is keyed by app: no call ever sees, deletes or tombstones another app's records.
* ``delete_person_rows`` deletes every audience row of the given pids (profile, attributes,
  tags, tag history, consent and its ledger, computed values, identifiers, merge records and
  their matches, snapshot segment memberships) and is idempotent: a second call deletes nothing
  and succeeds, so an erase interrupted part-way is finished by running it again.
* ``erase_salt`` is compare-and-set: the first candidate stored for an app stays for ever, every
  later call (on any store instance) returns it.
* Tombstones are digests only (never an identifier in clear); adding one twice is a no-op; one
  is removed only by ``remove_tombstones`` (the app lifting it, explicitly).
* ``save_erasure`` replaces the record of ``(app, id)``; an erase record holds no personal data.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

from parley.server.activation_port import Delivery

__all__ = ["ErasureRecord", "ErasureStore"]


@dataclass(frozen=True, slots=True)
class ErasureRecord:
    """That person ``pid`` of ``app`` was (or is being) erased: no personal data, only counts.

    ``state`` is ``erasing`` until every step ran, then ``done``; ``id`` is the pid's erase id
    (``er_<pid>``), so a retry finds and finishes the same record."""

    app: str
    id: str
    pid: str
    actor: str
    state: str
    started: int
    finished: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class ErasureStore(Protocol):
    """Durable erasure state. Every method may raise ``StoreUnavailable``."""

    async def erase_salt(self, app: str, candidate: str) -> str:
        """The app's tombstone salt: ``candidate`` if the app had none (stored now), else the
        stored one (atomic: concurrent first calls all get the one that won)."""

    async def add_tombstones(self, app: str, digests: Collection[str], erasure: str, now: int) -> None:
        """Keep each identifier digest as erased by ``erasure`` (existing ones stay unchanged)."""

    async def remove_tombstones(self, app: str, digests: Collection[str]) -> int:
        """Lift the app's tombstones of ``digests``; returns how many there were."""

    async def tombstoned(self, app: str, digests: Collection[str]) -> list[str]:
        """Which of ``digests`` are tombstones of the app."""

    async def delete_person_rows(self, app: str, pids: Collection[str]) -> int:
        """Delete every audience row of ``pids`` (see the module docstring); returns how many
        profiles were deleted (0 when run again)."""

    async def deliveries_of(self, app: str, pid: str, *, after_key: str, limit: int) -> list[Delivery]:
        """Up to ``limit`` delivery-ledger rows of recipient ``pid`` (every send key) with
        ``key > after_key``, by key (the export's delivery records)."""

    async def save_erasure(self, record: ErasureRecord) -> None:
        """Create or replace the erase record ``(record.app, record.id)``."""

    async def get_erasure(self, app: str, erasure: str) -> ErasureRecord | None:
        """The erase record; None if there is none."""

    async def list_erasures(self, app: str, *, after: str, limit: int) -> list[ErasureRecord]:
        """Up to ``limit`` erase records with ``id > after``, in id order."""
