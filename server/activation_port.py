"""The activation role ports: the delivery ledger, frequency-cap touches and the send-policy record.

Every outbound marketing message (campaign, journey step, back-end push) passes the one send
policy chain (:mod:`parley.server.services.send_policy`); these ports hold what that chain must
keep durable and exact across retries, crashes and several nodes:

* :class:`DeliveryLedger` — one row per ``(app, key, pid)``, where ``key`` names the send
  ("campaign:<id>", "journey:<run>:<step>", "push:<id>") and ``pid`` the recipient. It is both
  the deduplication (a recipient is claimed once per key) and the per-recipient decision record
  (its ``state`` is the outcome: ``sent``, ``no_consent``, ``control``, ``capped`` ...).
* :class:`TouchLedger` — the marketing messages a recipient was sent (or is being sent), each
  under its send key, which frequency caps count. A reservation is atomic: no count-then-send.
* :class:`PolicyRecords` — the app's send-policy settings (cap rules, quiet hours, control
  percentage...), stored whole as a JSON object.

Adapters: ``store/sqlite_activation.py`` and ``store/mongo_activation.py``;
``tests/server/store/test_activation_contract.py`` runs against both, two store instances at once.

Guarantees:

* Everything is keyed by app.
* ``claim_delivery`` is atomic per ``(app, key, pid)``: of concurrent claims (one store instance
  or several, one process or several) at most one wins. It wins only when there is no row, when
  the row is ``pending`` with an expired lease (its sender died: the new claimer re-runs the send
  with the same idempotency key, so the message log stores it once), or when the row is deferred
  (``quiet_deferred``, ``local_deferred``) and its ``retry_at`` has come. Any other existing row makes it return None:
  a duplicate.
* ``settle_delivery`` is a compare-and-set: it writes the outcome only while the row is still
  ``pending`` under the same ``owner`` (a claimer whose lease was taken over cannot overwrite the
  new claimer's outcome).
* ``reserve_touch`` is atomic per ``(app, pid)``: it counts the recipient's touches in each window
  and records the new one only if every window is below its limit, in one step (SQLite: one
  ``BEGIN IMMEDIATE`` transaction; MongoDB: a compare-and-set on a versioned per-recipient
  document). N concurrent reservations against a limit L record exactly min(N, L). A touch is
  idempotent by its key: reserving a key already recorded returns True and counts nothing new.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = [
    "DEFERRED",
    "PENDING",
    "ActivationStore",
    "CapWindow",
    "Delivery",
    "DeliveryLedger",
    "PolicyRecords",
    "TouchLedger",
]

#: The state of a claimed delivery whose outcome is not decided yet.
PENDING = "pending"
#: The states a claim may take over once ``retry_at`` has come: deferred by the recipient's quiet
#: hours, or waiting for the campaign's local send time in the recipient's timezone.
DEFERRED = ("quiet_deferred", "local_deferred")


@dataclass(frozen=True, slots=True)
class Delivery:
    """The ledger row of send ``key`` to recipient ``pid``: its state (``pending`` or an outcome),
    who holds a pending claim and until when, how many claims it had, and what was sent."""

    app: str
    key: str
    pid: str
    state: str
    owner: str
    lease_until: int
    attempts: int
    updated: int
    retry_at: int = 0
    mid: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class CapWindow:
    """A frequency-cap window: fewer than ``limit`` touches with ``ts >= since`` (ms) allow one more."""

    since: int
    limit: int


class DeliveryLedger(Protocol):
    """One decision per send key and recipient (see the module's guarantees)."""

    async def claim_delivery(
        self, app: str, key: str, pid: str, *, owner: str, now: int, lease_ms: int
    ) -> Delivery | None:
        """Claim ``(key, pid)`` for ``owner`` until ``now + lease_ms``; the claimed row, or None
        when another claim holds it or its outcome is settled."""

    async def settle_delivery(
        self, app: str, key: str, pid: str, *, owner: str, state: str, now: int,
        retry_at: int = 0, mid: str = "", detail: str = "",
    ) -> bool:  # fmt: skip
        """Record the outcome of ``owner``'s claim; False if the claim is no longer ``owner``'s."""

    async def get_delivery(self, app: str, key: str, pid: str) -> Delivery | None:
        """The ledger row of ``(key, pid)``; None if it was never claimed."""

    async def list_deliveries(self, app: str, key: str, *, after: str, limit: int) -> list[Delivery]:
        """Up to ``limit`` rows of ``key`` with ``pid > after``, ascending by pid."""

    async def count_deliveries(self, app: str, key: str) -> dict[str, int]:
        """How many rows of ``key`` are in each state (states with none are absent)."""

    async def deferred_deliveries(self, app: str, key: str, *, due_by: int, limit: int) -> list[Delivery]:
        """Up to ``limit`` deferred rows of ``key`` (``quiet_deferred``, ``local_deferred``) whose
        ``retry_at <= due_by``, earliest first (indexed: never a scan of the whole send)."""


class TouchLedger(Protocol):
    """The marketing touches frequency caps count (see the module's guarantees)."""

    async def reserve_touch(
        self, app: str, pid: str, key: str, ts: int, windows: Sequence[CapWindow]
    ) -> bool:
        """Record touch ``key`` at ``ts`` if every window has room; True if recorded (or already
        recorded under ``key``), False if a window is full. Touches older than every window may be
        forgotten."""

    async def release_touch(self, app: str, pid: str, key: str) -> bool:
        """Forget touch ``key`` (its send did not happen); False if there was none."""

    async def count_touches(self, app: str, pid: str, since: int) -> int:
        """The recipient's touches with ``ts >= since``."""


class PolicyRecords(Protocol):
    """The app's send-policy settings, one JSON object per app."""

    async def get_send_policy(self, app: str) -> dict[str, Any] | None:
        """The app's stored settings; None if it never set any."""

    async def put_send_policy(self, app: str, policy: dict[str, Any]) -> None:
        """Replace the app's settings (the service validated them)."""


class ActivationStore(DeliveryLedger, TouchLedger, PolicyRecords, Protocol):
    """The activation roles an adapter implements (part of the ``Store`` union)."""
