"""Audience events through :class:`~parley.sdk.admin.AdminClient`: batch ingest from the app's
back-end (:meth:`EventOps.ingest_events`) and a user's stored events (:meth:`EventOps.user_events`).

A batch is validated whole: one event that does not fit the app's declared schema refuses the
batch (``AdminError`` with code ``event_unknown``, ``event_invalid``, ``event_too_old`` or
``event_in_future``, the detail naming ``events.<index>``) and nothing is stored; more than
the server's ``event_batch_max`` is ``batch_too_large``. Ingest is idempotent by ``eid``:
retrying a batch stores nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["EventOps", "IngestResult", "StoredEvent"]


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event of a user's profile: ``event`` with ``props`` at ``ts``; ``received`` by the server."""

    eid: str
    pid: str
    event: str
    ts: int
    props: dict[str, Any] = field(default_factory=dict)
    received: int = 0


@dataclass(frozen=True, slots=True)
class IngestResult:
    """What an ingest did: the ids stored now and the ids stored before (ignored), in order."""

    stored: tuple[str, ...]
    duplicates: tuple[str, ...]


class EventOps:
    """Mixed into :class:`~parley.sdk.admin.AdminClient`."""

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def ingest_events(self, events: Sequence[Mapping[str, Any]]) -> IngestResult:
        """Store a batch of events, each ``{"eid", "user", "event", "props"?, "ts"?}`` (``ts`` in
        ms since the epoch; absent: now)."""
        data = await self._call("POST", "/v1/audience/events", json={"events": [dict(e) for e in events]})
        results = data["results"]
        return IngestResult(
            stored=tuple(r["eid"] for r in results if r["stored"]),
            duplicates=tuple(r["eid"] for r in results if not r["stored"]),
        )

    async def user_events(self, user: str, *, limit: int = 1000) -> list[StoredEvent]:
        """Every stored event of ``user``'s profile, oldest first (fetched page by page)."""
        found: list[StoredEvent] = []
        after = ""
        while True:
            params = {"limit": str(limit), **({"after": after} if after else {})}
            data = await self._call("GET", f"/v1/audience/users/{quote(user, safe='')}/events", params=params)
            found += [
                StoredEvent(e["eid"], e["pid"], e["event"], e["ts"], dict(e["props"]), e["received"])
                for e in data["events"]
            ]
            after = data["next"]
            if not after:
                return found
