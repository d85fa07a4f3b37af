"""Segments through :class:`~parley.sdk.admin.AdminClient`: preview (count + sample) and explain
a rule, saved segments (dynamic or snapshot), their members page by page.

A rule is given as ``text`` (the one-line form, e.g. ``'attr.city = "Shanghai" and
count(event "view", 7d) >= 3'``) or as ``rule`` (the JSON form); docs/AUDIENCE.md has the grammar.
A refused rule raises ``AdminError`` with code ``segment_invalid`` (422) or ``segment_cycle``
(409); its ``detail`` starts with the path of the bad clause (``/items/1/window: ...``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

__all__ = ["Segment", "SegmentClause", "SegmentExplanation", "SegmentPreview", "SegmentsOps"]


@dataclass(frozen=True, slots=True)
class SegmentPreview:
    """How many live profiles a rule holds for, the first of them (pids), the rule in both forms."""

    count: int
    sample: list[str]
    text: str
    rule: Any


@dataclass(frozen=True, slots=True)
class SegmentClause:
    """One clause (``path`` in the JSON form, ``""`` the whole rule), its text, whether it held."""

    path: str
    text: str
    held: bool


@dataclass(frozen=True, slots=True)
class SegmentExplanation:
    """Why a profile is in (``member``) or out: every clause's outcome."""

    member: bool
    clauses: list[SegmentClause]


@dataclass(frozen=True, slots=True)
class Segment:
    """A saved segment (``mode`` ``dynamic`` or ``snapshot``; ``frozen_at`` ms for a snapshot)."""

    id: str
    name: str
    text: str
    rule: Any
    mode: str
    frozen_at: int
    created: int
    updated: int
    version: int
    timed: bool


def _rule(text: str | None, rule: Any) -> dict[str, Any]:
    if (text is None) == (rule is None):
        raise ValueError("give the rule as text or as rule (JSON), one of them")
    return {"text": text} if text is not None else {"rule": rule}


def _segment(d: dict[str, Any]) -> Segment:
    return Segment(
        d["id"], d["name"], d["text"], d["rule"], d["mode"], int(d["frozen_at"]), int(d["created"]),
        int(d["updated"]), int(d["version"]), bool(d["timed"]),
    )  # fmt: skip


class SegmentsOps:
    """Mixed into :class:`~parley.sdk.admin.AdminClient`."""

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def preview_segment(
        self, text: str | None = None, *, rule: Any = None, sample: int = 20
    ) -> SegmentPreview:
        """Count and sample (first ``sample`` pids) the profiles a rule holds for, evaluated now."""
        body = {**_rule(text, rule), "sample": sample}
        d = await self._call("POST", "/v1/audience/segments/preview", json=body)
        return SegmentPreview(int(d["count"]), list(d["sample"]), d["text"], d["rule"])

    async def explain_segment(
        self, pid: str, text: str | None = None, *, rule: Any = None
    ) -> SegmentExplanation:
        """Which clauses held for profile ``pid`` (404 ``profile_not_found`` if no such live profile)."""
        d = await self._call("POST", "/v1/audience/segments/explain", json={**_rule(text, rule), "pid": pid})
        clauses = [SegmentClause(c["path"], c["text"], bool(c["held"])) for c in d["clauses"]]
        return SegmentExplanation(bool(d["member"]), clauses)

    async def segments(self) -> list[Segment]:
        """The app's saved segments, by id."""
        return [_segment(d) for d in (await self._call("GET", "/v1/audience/segments"))["segments"]]

    async def segment(self, seg: str) -> Segment:
        """One saved segment (404 ``segment_not_found``)."""
        return _segment(await self._call("GET", f"/v1/audience/segments/{quote(seg, safe='')}"))

    async def create_segment(
        self, seg: str, name: str, text: str | None = None, *, rule: Any = None, mode: str = "dynamic"
    ) -> Segment:
        """Save a new segment: ``dynamic`` (evaluated when used; entries/exits become
        ``segment_enter``/``segment_leave`` events) or ``snapshot`` (members frozen now)."""
        body = {"id": seg, "name": name, "mode": mode, **_rule(text, rule)}
        return _segment(await self._call("POST", "/v1/audience/segments", json=body))

    async def update_segment(
        self, seg: str, name: str, text: str | None = None, *, rule: Any = None, mode: str = "dynamic"
    ) -> Segment:
        """Replace a saved segment's name, rule and mode (its version rises)."""
        body = {"name": name, "mode": mode, **_rule(text, rule)}
        return _segment(await self._call("PUT", f"/v1/audience/segments/{quote(seg, safe='')}", json=body))

    async def delete_segment(self, seg: str) -> None:
        """Delete a saved segment (refused while another segment names it)."""
        await self._call("DELETE", f"/v1/audience/segments/{quote(seg, safe='')}")

    async def snapshot_segment(self, seg: str) -> Segment:
        """Freeze the segment's members as of now (it becomes a snapshot)."""
        return _segment(await self._call("POST", f"/v1/audience/segments/{quote(seg, safe='')}/snapshot"))

    async def segment_members(self, seg: str, *, after: str = "", limit: int = 100) -> tuple[list[str], str]:
        """One page of member pids after ``after`` and the cursor of the next page ("" at the end)."""
        params: dict[str, str | int] = {"after": after, "limit": limit}
        d = await self._call("GET", f"/v1/audience/segments/{quote(seg, safe='')}/members", params=params)
        return list(d["members"]), str(d["next"])

    async def iter_segment_members(self, seg: str, *, page: int = 500) -> AsyncIterator[str]:
        """Every member pid, fetched a page at a time."""
        after = ""
        while True:
            members, after = await self.segment_members(seg, after=after, limit=page)
            for pid in members:
                yield pid
            if not after:
                return
