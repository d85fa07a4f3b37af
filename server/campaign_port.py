"""The campaign part of the store port: definitions, their state, the sender's cursor and lease.

A campaign is one record per ``(app, cid)``: its definition (``doc``: name, topic, audience,
variants with their templates and split, hold-out, stale time, pacing — validated by the
service before it is stored), its ``state``, the time it may start, the sender's ``cursor``
(the last recipient pid it handled, so a restarted sender goes on after it) and the sender's
lease. Adapters: ``store/sqlite_campaigns.py``, ``store/mongo_campaigns.py``;
``tests/server/store/test_campaigns_contract.py`` runs against both.

Guarantees:

* Everything is keyed by app; ``create_campaign`` never replaces (False if the id exists).
* ``update_campaign`` is a compare-and-set on ``version`` (which rises by one on every update):
  a pause racing with the sender's cursor advance makes exactly one of them win; the loser
  reloads and sees the other's change.
* ``lease_campaign`` is atomic: of concurrent leases (several nodes) at most one holds a
  campaign at a time; a lease is granted only to a campaign ``scheduled`` or ``running`` whose
  ``start_at`` has come, and is taken over once it expired (its sender died) — the delivery
  ledger makes the take-over's repeated recipients duplicates, never second messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = ["RUNNABLE", "Campaign", "CampaignStore"]

#: States a sender may lease.
RUNNABLE = ("scheduled", "running")


@dataclass(frozen=True, slots=True)
class Campaign:
    """One campaign: definition, state (``scheduled``, ``running``, ``paused``, ``cancelled``,
    ``done``), start time, the sender's cursor and lease, and the CAS ``version``."""

    app: str
    cid: str
    state: str
    start_at: int
    doc: dict[str, Any] = field(default_factory=dict)
    cursor: str = ""
    version: int = 1
    owner: str = ""
    lease_until: int = 0
    created: int = 0
    updated: int = 0


class CampaignStore(Protocol):
    """Durable campaigns (see the module's guarantees)."""

    async def create_campaign(self, campaign: Campaign) -> bool:
        """Store a new campaign (version 1); False if ``(app, cid)`` exists."""

    async def get_campaign(self, app: str, cid: str) -> Campaign | None:
        """The campaign; None if absent."""

    async def list_campaigns(self, app: str) -> list[Campaign]:
        """The app's campaigns, by id."""

    async def update_campaign(
        self,
        app: str,
        cid: str,
        expect_version: int,
        *,
        now: int,
        state: str | None = None,
        cursor: str | None = None,
        start_at: int | None = None,
    ) -> Campaign | None:
        """Set ``state``, ``cursor`` and/or ``start_at`` (a recurring campaign's next occurrence) if the stored version is ``expect_version``; the record after,
        or None if the version moved (or the campaign is absent)."""

    async def lease_campaign(self, app: str, cid: str, *, owner: str, now: int, lease_ms: int) -> bool:
        """Take or renew the sender's lease until ``now + lease_ms`` (see the guarantees)."""

    async def due_campaigns(self, now: int, limit: int) -> list[tuple[str, str]]:
        """``(app, cid)`` of up to ``limit`` runnable campaigns whose start has come and whose lease is free."""
