"""The named-lease role port: which of several processes of one app is the active one.

A lease is one record per ``(app, name)``: its ``holder`` (an opaque id the process chose, e.g.
host, pid and a random part) and ``until`` (ms since the epoch) — live while ``now < until``.
Processes that must not work at once (two bot processes of one app: one answers, the other
stands by) each ask for the same name every few seconds; the holder's ask renews it, the others'
change nothing, and the first to ask once it ran out (its holder died or was cut off) takes it.
The service (:mod:`parley.server.services.leases`) validates names, holders and ttls and owns the
clock; the store keeps the record. Adapters: ``store/sqlite_leases.py`` and
``store/mongo_leases.py``; ``tests/server/store/test_leases_contract.py`` runs against both.

Guarantees:

* Everything is keyed by app: a name is one lease per app, and apps never see each other's.
* ``acquire_lease`` is atomic across processes and nodes: it takes the lease for ``holder`` when
  there is none, when it expired (``until <= now``) or when ``holder`` already holds it (a
  renewal: ``until = now + ttl_ms``); otherwise it changes nothing. Of concurrent acquires of a
  free lease by different holders exactly one holds it afterwards. It returns the lease as stored
  after the call, whose holder may be someone else (the caller compares).
* ``release_lease`` removes the lease only when ``holder`` holds it (a compare-and-delete, expired
  or not); True only for the call that removed it.
* ``get_lease`` returns the stored record, expired or not (the caller compares ``until`` with its
  clock); None if there is none.
* The store never reads a clock: ``now`` comes from the caller, so that every process compares
  against the same (the service's) time base.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["Lease", "LeaseStore"]


@dataclass(frozen=True, slots=True)
class Lease:
    """One named lease of an app: who holds it and until when (ms since the epoch)."""

    app: str
    name: str
    holder: str
    until: int


class LeaseStore(Protocol):
    """Durable named leases (see the module's guarantees)."""

    async def acquire_lease(self, app: str, name: str, holder: str, *, now: int, ttl_ms: int) -> Lease:
        """Take or renew the lease for ``holder`` (``until = now + ttl_ms``) when it is free, expired
        or already ``holder``'s; otherwise change nothing. The lease as stored afterwards."""

    async def release_lease(self, app: str, name: str, holder: str) -> bool:
        """Remove the lease if ``holder`` holds it; True only for the call that removed it."""

    async def get_lease(self, app: str, name: str) -> Lease | None:
        """The stored lease (expired or not); None if there is none."""
