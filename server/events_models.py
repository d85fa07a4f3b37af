"""Records of the event log (see :mod:`parley.server.events_port`).

An event is something a person did, told by the app (SDK ``track`` or the admin batch
ingest) or by the server itself (a lifecycle transition): a ``name`` from the app's declared
schema, a time ``ts`` (ms, when it happened), typed ``props`` and the profile ``pid`` it
belongs to. ``received`` is when the server took it (ms).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["MAX_EVENT_BATCH", "Event", "EventTotals"]

#: Most events one ``append_events`` call takes: a bound on one transaction (SQLite) or one
#: ``insert_many`` (MongoDB), so one call never holds the write lock for long. The service's
#: batching and the admin endpoint stay below it.
MAX_EVENT_BATCH = 1000


@dataclass(frozen=True, slots=True)
class Event:
    """One stored event of profile ``pid`` of ``app``, unique by ``(app, eid)``.

    ``props`` holds JSON-able scalars only (str, int, float, bool), already validated against
    the app's schema by the service.
    """

    app: str
    eid: str
    pid: str
    name: str
    ts: int
    props: dict[str, Any] = field(default_factory=dict)
    received: int = 0


@dataclass(frozen=True, slots=True)
class EventTotals:
    """One profile's aggregate over events of some names (the input of RFM and of the lifecycle
    pass): how many, the sum of one numeric property over them (missing or non-numeric counts 0),
    and the earliest and latest ``ts``."""

    pid: str
    count: int
    total: float
    first_ts: int
    last_ts: int
