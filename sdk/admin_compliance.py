"""Compliance through :class:`~parley.sdk.admin.AdminClient`: export and erase one person, the
erase records, lifting an erased identifier's tombstone (docs/AUDIENCE.md ``## Compliance``).

::

    async for item in admin.export_person(pid):      # {"type": "profile" | "event" | ..., "data": {...}}
        archive.write(item)
    record = await admin.erase_person(pid)           # idempotent; record.counts says what went

Refusals raise :class:`~parley.sdk.errors.AdminError`: ``profile_not_found`` (never known, or
another app's), ``identifier_invalid``, ``invalid_request``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

__all__ = ["ComplianceOps", "Erasure"]


@dataclass(frozen=True, slots=True)
class Erasure:
    """The record of one erase (no personal data): who erased ``pid``, when it started and ended
    (``state`` ``erasing`` until every step ran, then ``done``), and how much went."""

    id: str
    pid: str
    actor: str
    state: str
    started: int
    finished: int
    counts: dict[str, int] = field(default_factory=dict)


def _erasure(d: Mapping[str, Any]) -> Erasure:
    return Erasure(
        str(d["id"]), str(d["pid"]), str(d["actor"]), str(d["state"]), int(d["started"]), int(d["finished"]),
        {str(k): int(v) for k, v in (d.get("counts") or {}).items()},
    )  # fmt: skip


class ComplianceOps:
    """Mixed into :class:`~parley.sdk.admin.AdminClient`."""

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _ndjson(self, path: str) -> AsyncIterator[dict[str, Any]]:
        raise NotImplementedError

    def export_person(self, pid: str) -> AsyncIterator[dict[str, Any]]:
        """Everything stored about the person, one ``{"type", "data"}`` item at a time (streamed:
        the server reads and sends a page at a time, and so does this iterator)."""
        return self._ndjson(f"/v1/audience/profiles/{quote(pid, safe='')}/export")

    async def erase_person(self, pid: str) -> Erasure:
        """Erase the person (idempotent: erasing again returns the same record)."""
        return _erasure(await self._call("POST", f"/v1/audience/profiles/{quote(pid, safe='')}/erase"))

    async def erasures(self, *, after: str = "", limit: int = 100) -> tuple[list[Erasure], bool]:
        """A page of the app's erase records by id, and whether more follow."""
        data = await self._call("GET", "/v1/audience/erasures", params={"after": after, "limit": limit})
        return [_erasure(d) for d in data["erasures"]], bool(data["more"])

    async def release_identifiers(self, identifiers: Iterable[tuple[str, str]]) -> int:
        """Lift the tombstones of these ``(kind, value)`` identifiers of an erased person (they came
        back); returns how many were lifted."""
        body = {"identifiers": [{"kind": k, "value": v} for k, v in identifiers]}
        return int((await self._call("POST", "/v1/audience/erasures/release", json=body))["lifted"])
