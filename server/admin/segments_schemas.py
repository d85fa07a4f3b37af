"""Bodies of the segments admin API (msgspec structs: they validate the JSON and generate the
OpenAPI schemas), and its OpenAPI paths. A rule is given either as ``text`` (the one-line form)
or as ``rule`` (the JSON form); see docs/AUDIENCE.md for both."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec

__all__ = [
    "MODELS",
    "ClauseOut",
    "Explained",
    "ExplainIn",
    "MemberPage",
    "PreviewIn",
    "Previewed",
    "SegmentIn",
    "SegmentList",
    "SegmentOut",
    "segments_paths",
]

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]


class PreviewIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /v1/audience/segments/preview``: a rule (``text`` or ``rule``) and the sample size."""

    text: Text | None = None
    rule: Any = None
    sample: Annotated[int, msgspec.Meta(ge=0, le=1000)] = 20


class Previewed(msgspec.Struct):
    """How many live profiles the rule holds for, the first ``sample`` of them (by pid), and the
    rule in both forms (canonical text, JSON)."""

    count: int
    sample: list[str]
    text: str
    rule: Any


class ExplainIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /v1/audience/segments/explain``: a rule and the profile ``pid`` to explain."""

    pid: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    text: Text | None = None
    rule: Any = None


class ClauseOut(msgspec.Struct):
    """One clause of the rule (its JSON-pointer ``path``, ``""`` the whole rule) and whether it held."""

    path: str
    text: str
    held: bool


class Explained(msgspec.Struct):
    """Whether the profile is a member, and every clause's outcome (nested segments expanded)."""

    member: bool
    clauses: list[ClauseOut]


class SegmentIn(msgspec.Struct, forbid_unknown_fields=True):
    """Create (``POST``, with ``id``) or replace (``PUT``) a saved segment. ``dynamic``: evaluated when
    used, its entries and exits are ``segment_enter``/``segment_leave`` events; ``snapshot``: members
    frozen now."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    id: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] | None = None
    text: Text | None = None
    rule: Any = None
    mode: Literal["dynamic", "snapshot"] = "dynamic"


class SegmentOut(msgspec.Struct):
    """A saved segment: its rule in both forms, mode, ``frozen_at`` (snapshot, ms), times, version, and
    ``timed`` (its rule has a window: re-evaluated on a schedule)."""

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


class SegmentList(msgspec.Struct):
    """The app's saved segments by id."""

    segments: list[SegmentOut]


class MemberPage(msgspec.Struct):
    """A page of member pids in pid order; ``next`` is the ``after`` of the next page ("" at the end);
    ``frozen_at`` is the snapshot time (0 for a dynamic segment, evaluated now)."""

    members: list[str]
    next: str
    frozen_at: int


MODELS: list[Any] = [
    PreviewIn,
    Previewed,
    ExplainIn,
    ClauseOut,
    Explained,
    SegmentIn,
    SegmentOut,
    SegmentList,
    MemberPage,
]


def segments_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI paths of the segments routes, built with :mod:`openapi`'s ``_op``."""
    base = "/v1/audience/segments"
    return {
        f"{base}/preview": {
            "post": op("Count and sample the profiles a rule holds for", 200, Previewed, PreviewIn)
        },
        f"{base}/explain": {"post": op("Why one profile is in or out of a rule", 200, Explained, ExplainIn)},
        base: {
            "get": op("The app's saved segments", 200, SegmentList),
            "post": op("Save a segment (dynamic or snapshot)", 201, SegmentOut, SegmentIn),
        },
        f"{base}/{{seg}}": {
            "get": op("A saved segment", 200, SegmentOut, params=("seg",)),
            "put": op(
                "Replace a saved segment's name, rule or mode", 200, SegmentOut, SegmentIn, params=("seg",)
            ),
            "delete": op(
                "Delete a saved segment (not while another one names it)", 204, None, params=("seg",)
            ),
        },
        f"{base}/{{seg}}/snapshot": {
            "post": op("Freeze the segment's members as of now", 200, SegmentOut, params=("seg",))
        },
        f"{base}/{{seg}}/members": {
            "get": op(
                "A page of members (?after=&limit=)", 200, MemberPage, params=("seg",), query=("limit",)
            )
        },
    }
