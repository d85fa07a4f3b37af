"""Frames of audience events: ``track`` (the app's signed-in user did something) and its reply.

``track`` records one event of the connection's own user on their audience profile (the
profile linked to the chat user): ``event`` is a name the app declared in its audience
schema and ``props`` its typed properties. ``eid`` is the client's idempotency key: a
``track`` re-sent after a reconnect with the same ``eid`` is stored once and answered
``dup``. Defined on the bases of :mod:`parley.proto.frames_base`; :mod:`parley.proto.frames`
re-exports every class here and includes them in ``ClientFrame`` / ``ServerFrame``.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from parley.proto.frames_base import Body, RequestId, _Frame

__all__ = ["Track", "TrackResult"]


class Track(_Frame, tag="track"):
    """Record event ``event`` with ``props`` at ``ts`` (ms; 0 = now) for the connection's user;
    answered with :class:`TrackResult`, or an error (``event_unknown``, ``event_invalid``,
    ``event_too_old``, ``event_in_future``) with nothing stored."""

    id: RequestId
    event: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    props: Body = {}
    ts: Annotated[int, msgspec.Meta(ge=0, le=2**53)] = 0
    eid: Annotated[str, msgspec.Meta(max_length=64)] = ""


class TrackResult(_Frame, tag="tracked"):
    """Reply to ``track``: the event is stored under ``eid``; ``dup`` when an event with this
    ``eid`` was stored before (this one was ignored)."""

    id: int
    eid: str
    dup: bool = False
