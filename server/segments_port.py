"""The segments' role ports: rules evaluated in the store, saved segments and their members.

:class:`SegmentQueries` evaluates a rule of :mod:`parley.proto.segments` **in the store**:
the SQLite adapter compiles it to one parameterised SQL statement over the audience tables
(set operations over index range scans for count and sample; a per-profile predicate walked
in ``pid`` order for pages and explanations); the MongoDB adapter to ``aggregate`` pipelines
over ``aud_profiles`` whose first ``$match`` is an indexed clause. Neither loads the app's
profiles into Python. The rules it gets are validated and have their *dynamic* nested segments
expanded by the service; a :class:`~parley.proto.segments.SegmentRef` left in a rule names a
segment whose **stored members** are meant (a snapshot, or the last evaluation of a dynamic one).

Guarantees every adapter keeps (``tests/server/store/test_segments_contract.py``):

* the same population gives the same members on every adapter, and the members are exactly
  the live profiles (``merged_into`` empty) of the app for which the rule holds at ``now``
  (a profile with no events counts 0 events and sums 0; a missing attribute, RFM score,
  lifecycle stage or consent record makes the clause false; expired tags do not count);
* ``count_segment`` == the number of pids ``segment_page`` walks; ``sample_segment`` is the
  first page; ``preview_segment`` gives both; pages are ordered by pid and ``after`` is exclusive (keyset paging: each page is
  one bounded query; memory does not grow with the segment);
* ``explain_segment`` gives for every clause of the rule (by its JSON-pointer path, ``""``
  the root) whether it held for that profile, consistently with membership;
* :class:`SegmentStore`: a saved segment's id is unique per app; ``put_segment`` with
  ``expect_version`` is a compare-and-set on ``version``; members are a set per (app, segment)
  — ``change_members`` adds and removes idempotently and returns only real changes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Literal, Protocol

from parley.proto.segments import Rule

__all__ = ["EvalContext", "SavedSegment", "SegmentQueries", "SegmentStore", "SegmentsPort"]


@dataclass(frozen=True, slots=True)
class EvalContext:
    """What a rule is evaluated against besides the stored data.

    ``now`` (epoch ms) anchors every window; ``attrs`` maps each attribute of the app's schema
    to its declared type (``string``, ``number``, ``bool``, ``datetime``, ``string_list``).
    """

    now: int
    attrs: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SavedSegment:
    """A saved segment of an app.

    ``mode``: ``dynamic`` (evaluated when used; its stored members are the last evaluation,
    kept for membership-change events) or ``snapshot`` (members frozen at ``frozen_at``).
    ``rule`` is the JSON form, ``text`` the canonical one-line form; ``version`` rises on every
    update.
    """

    app: str
    id: str
    name: str
    rule: bytes
    text: str
    mode: Literal["dynamic", "snapshot"] = "dynamic"
    frozen_at: int = 0
    created: int = 0
    updated: int = 0
    version: int = 1
    #: True when the rule has a time-relative clause (a window, "within"): re-evaluated on a schedule.
    timed: bool = False


class SegmentQueries(Protocol):
    """Rules evaluated in the store (see the module for the guarantees)."""

    async def count_segment(self, app: str, rule: Rule, ctx: EvalContext) -> int:
        """How many live profiles of ``app`` the rule holds for."""

    async def sample_segment(self, app: str, rule: Rule, ctx: EvalContext, limit: int) -> list[str]:
        """The first ``limit`` member pids in pid order."""

    async def preview_segment(
        self, app: str, rule: Rule, ctx: EvalContext, limit: int
    ) -> tuple[int, list[str]]:
        """``(count_segment, sample_segment)`` of the same evaluation (one pass where the store can)."""

    async def segment_page(self, app: str, rule: Rule, ctx: EvalContext, after: str, limit: int) -> list[str]:
        """Up to ``limit`` member pids greater than ``after`` (``""``: from the start), in pid order."""

    async def profile_page(self, app: str, after: str, limit: int) -> list[str]:
        """Up to ``limit`` live profile pids of ``app`` greater than ``after``, in pid order (the
        ``everyone`` audience: walked along the ``(app, pid)`` key, never loaded whole)."""

    async def explain_segment(
        self, app: str, rule: Rule, ctx: EvalContext, pid: str
    ) -> dict[str, bool] | None:
        """For one profile, every clause's path -> whether it held; None if no live profile ``pid``."""

    async def segment_members_among(
        self, app: str, rule: Rule, ctx: EvalContext, pids: Collection[str]
    ) -> set[str]:
        """Which of ``pids`` (at most a few thousand) are members: the work follows ``pids``, not the app."""


class SegmentStore(Protocol):
    """Saved segments and their stored members."""

    async def put_segment(self, segment: SavedSegment, *, expect_version: int | None = None) -> bool:
        """Create or replace; with ``expect_version`` only if the stored version is that one
        (0: only if absent). False if the condition failed (nothing written)."""

    async def get_segment(self, app: str, seg: str) -> SavedSegment | None:
        """The saved segment; None if absent."""

    async def list_segments(self, app: str) -> list[SavedSegment]:
        """Every saved segment of ``app`` by id."""

    async def delete_segment(self, app: str, seg: str) -> bool:
        """Delete the segment and its members; False if it was absent."""

    async def change_members(
        self, app: str, seg: str, add: Collection[str], remove: Collection[str]
    ) -> tuple[list[str], list[str]]:
        """Add and remove stored members in one transaction; the pids really added and removed."""

    async def stored_members(self, app: str, seg: str, after: str, limit: int) -> list[str]:
        """Up to ``limit`` stored member pids greater than ``after``, in pid order."""

    async def is_stored_member(self, app: str, seg: str, pids: Collection[str]) -> set[str]:
        """Which of ``pids`` are stored members of ``seg``."""

    async def freeze_segment(self, app: str, seg: str, rule: Rule, ctx: EvalContext) -> int:
        """Replace the stored members with the rule's members now, inside the store; how many."""


class SegmentsPort(SegmentQueries, SegmentStore, Protocol):
    """Both segment roles: what the segment service uses."""
