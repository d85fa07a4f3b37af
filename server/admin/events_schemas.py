"""Bodies of the audience events admin API (msgspec structs: they validate the JSON and
generate the OpenAPI schemas), and its OpenAPI paths."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import msgspec

__all__ = [
    "MODELS",
    "EventBatch",
    "EventIn",
    "IdentifierIn",
    "EventOut",
    "EventPage",
    "EventResult",
    "EventsStored",
    "events_paths",
]


class IdentifierIn(msgspec.Struct, forbid_unknown_fields=True):
    """A person by one of their identifiers: ``kind`` ``phone``, ``email``, ``union``, ``device``,
    ``cookie`` or ``user`` (normalised as by identify: a phone to E.164, an email lower-case)."""

    kind: Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class EventIn(msgspec.Struct, forbid_unknown_fields=True):
    """One event of an ingest batch: ``event`` done by the app's user ``user`` — or by the person
    holding ``identifier`` (e.g. an anonymous visitor's cookie; exactly one of the two) — at ``ts``
    (ms; absent: now), with ``props`` of the types the app's schema declares. ``eid`` is its
    idempotency key. The profile is created on first sight."""

    eid: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    event: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    props: dict[str, Any] = {}
    ts: Annotated[int, msgspec.Meta(ge=0, le=2**53)] | None = None
    user: Annotated[str, msgspec.Meta(max_length=128)] = ""
    identifier: IdentifierIn | None = None


class EventBatch(msgspec.Struct, forbid_unknown_fields=True):
    """``POST /v1/audience/events``: up to ``event_batch_max`` (1000) events, validated whole."""

    events: list[EventIn]


class EventResult(msgspec.Struct):
    """What became of one event: stored now, or ``stored: false`` for an id stored before."""

    eid: str
    pid: str
    stored: bool


class EventsStored(msgspec.Struct):
    """Reply to an ingest: per event in order, and the counts."""

    results: list[EventResult]
    stored: int
    duplicates: int


class EventOut(msgspec.Struct):
    """One stored event of a profile."""

    eid: str
    pid: str
    event: str
    ts: int
    props: dict[str, Any]
    received: int


class EventPage(msgspec.Struct):
    """A page of a user's events, oldest first; ``next`` is the cursor of the next page ("" at the end)."""

    events: list[EventOut]
    next: str = ""


MODELS: list[Any] = [IdentifierIn, EventIn, EventBatch, EventResult, EventsStored, EventOut, EventPage]


def events_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI paths of the events routes, built with :mod:`openapi`'s ``_op``."""
    return {
        "/v1/audience/events": {
            "post": op(
                "Ingest a batch of events (idempotent by eid; validated whole)", 200, EventsStored, EventBatch
            )
        },
        "/v1/audience/users/{user}/events": {
            "get": op(
                "A page of a user's events, oldest first (?after=<cursor>&limit=)",
                200,
                EventPage,
                params=("user",),
            )
        },
    }
