"""The invitation part of the store port: pending "join this group?" offers.

Under the ``invite`` add policy (see :mod:`parley.server.services.invites`) a
manager who adds a user with whom they share no conversation creates an
invitation instead of a membership; the invitee accepts (and joins) or declines.
A role port of its own, like :class:`~parley.server.safety_port.SafetyStore`.
Adapters: ``store/sqlite_invites.py`` and ``store/mongo_invites.py``, role classes
of the SQLite and MongoDB stores; ``tests/server/store/test_invites_contract.py``
runs against both.

Guarantees:

* Everything is keyed by app: no call ever sees another app's records.
* At most one invitation per ``(app, conv, user)``: ``put_invitations`` replaces
  an earlier one (a repeat invitation refreshes the inviter and the expiry).
* An invitation with ``expires <= now`` does not exist for ``get`` and
  ``list`` (the caller passes ``now``, so a test can move time);
  ``purge_invitations`` deletes such records.
* ``delete_invitation`` is a compare-and-delete: of concurrent deletes of the
  same invitation (on one store instance or two) exactly one returns True.
* Accepting is race-safe without a lock here: the service joins through
  ``Store.add_members``, which returns only the members it newly added, so of
  two accepts at once exactly one announces the join; both then delete.
* ``list_invitations`` pages by conversation id (``conv > after``, ascending),
  so a page boundary never repeats or skips an invitation.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Invitation", "InvitationStore"]


@dataclass(frozen=True, slots=True)
class Invitation:
    """``inviter`` offers ``user`` membership of ``conv`` with ``role``, until ``expires`` (ms)."""

    app: str
    conv: str
    user: str
    inviter: str
    role: str
    created: int
    expires: int


class InvitationStore(Protocol):
    """Durable pending invitations. Every method may raise ``StoreUnavailable``."""

    async def put_invitations(self, invitations: Sequence[Invitation]) -> None:
        """Create or replace each invitation of ``(app, conv, user)``, all in one call (a later
        one in the batch replaces an earlier one of the same key)."""

    async def get_invitation(self, app: str, conv: str, user: str, now: int) -> Invitation | None:
        """The unexpired invitation of ``user`` to ``conv``; None if there is none."""

    async def delete_invitation(self, app: str, conv: str, user: str) -> bool:
        """Remove the invitation (expired or not); False if there was none (or a concurrent
        delete removed it first)."""

    async def list_invitations(
        self, app: str, user: str, now: int, *, after: str, limit: int
    ) -> list[Invitation]:
        """Up to ``limit`` unexpired invitations of ``user`` with ``conv > after``, by conv id."""

    async def count_invitations(self, app: str, users: Collection[str], now: int) -> dict[str, int]:
        """Per user, their unexpired invitations; users with none are absent (the pending cap)."""

    async def delete_invitations_between(self, app: str, user: str, other: str) -> int:
        """Delete every invitation either of the two sent the other (a block); returns how many."""

    async def purge_invitations(self, app: str, user: str, now: int) -> int:
        """Delete ``user``'s expired invitations; returns how many."""
