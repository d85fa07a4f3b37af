"""Bodies of the journeys admin API (``/v1/journeys``) — msgspec structs, also the OpenAPI schemas.

A definition travels as a JSON object (the :class:`~parley.proto.journeys.Journey` schema) and
is validated by the journey service, so a bad one is ``journey_invalid`` / ``journey_cycle`` /
``journey_unreachable`` / ``template_variable_unknown`` with nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from parley.proto.journeys import Journey

__all__ = [
    "MODELS", "JourneyIn", "JourneyList", "JourneyOut", "JourneyResultsOut", "JourneyStepResults",
    "JourneyVersionIn", "journey_paths",
]  # fmt: skip


class JourneyIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /v1/journeys``: the journey's id (1-64 of A-Z a-z 0-9 _ . : -) and its definition
    (a ``Journey`` object: trigger, entry rule, goal, steps)."""

    id: str
    definition: dict[str, Any]


class JourneyVersionIn(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /v1/journeys/{jid}/versions``: the next version's definition (running runs keep theirs)."""

    definition: dict[str, Any]


class JourneyOut(msgspec.Struct):
    """A journey: its state (``active``, ``paused``, ``archived``), latest version, that version's
    definition and how many active runs are at each step (``waiting``; only in ``GET`` of one)."""

    id: str
    state: str
    version: int
    created: int
    updated: int
    definition: dict[str, Any] | None = None
    waiting: dict[str, int] = {}


class JourneyList(msgspec.Struct):
    """The app's journeys (heads only)."""

    journeys: list[JourneyOut]


class JourneyStepResults(msgspec.Struct):
    """One send step's results: runs handed to the send policy (``targeted``), their ``decisions`` by
    outcome (``sent``, ``no_consent``, ``capped``, ...), and the profiles who had it delivered, read
    it, clicked, replied, opted out, and converted (the journey's goal, credited to the run's last
    sent step) — each profile once per step."""

    step: str
    targeted: int
    sent: int
    decisions: dict[str, int]
    delivered: int
    read: int
    clicked: int
    replied: int
    opted_out: int
    converted: int


class JourneyResultsOut(msgspec.Struct):
    """``GET /v1/journeys/{jid}/results``: per send step (definition order), and the goal event."""

    journey: str
    version: int
    goal: str
    attribution: str
    steps: list[JourneyStepResults]


MODELS: list[Any] = [
    Journey, JourneyIn, JourneyVersionIn, JourneyOut, JourneyList, JourneyStepResults, JourneyResultsOut,
]  # fmt: skip


_RESULTS = "Per send step: targeted, decisions by reason, sent, delivered, read, clicked, replied, opted out, converted"


def journey_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI paths of the journeys routes, built with :mod:`openapi`'s ``_op``."""
    controls = {
        f"/v1/journeys/{{jid}}/{action}": {"post": op(text, 200, JourneyOut, params=("jid",))}
        for action, text in (
            ("pause", "Pause: no new runs (running ones go on)"),
            ("resume", "Resume a paused journey"),
            ("archive", "Archive: no new runs and no new versions"),
        )
    }
    return {
        "/v1/journeys": {
            "get": op("The app's journeys", 200, JourneyList),
            "post": op("Create a journey (validated whole; version 1)", 201, JourneyOut, JourneyIn),
        },
        "/v1/journeys/{jid}": {
            "get": op(
                "A journey, its latest definition and runs waiting per step", 200, JourneyOut, params=("jid",)
            )
        },
        "/v1/journeys/{jid}/results": {
            "get": op(_RESULTS, 200, JourneyResultsOut, params=("jid",)),
        },
        "/v1/journeys/{jid}/versions": {
            "post": op(
                "Store the next version of a journey", 200, JourneyOut, JourneyVersionIn, params=("jid",)
            )
        },
        **controls,
    }
