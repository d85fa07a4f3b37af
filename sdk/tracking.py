"""Audience events, mixed into :class:`~parley.sdk.client.Client`: :meth:`TrackOps.track`.

``client.track("product_viewed", {"category": "shoes", "price": 59.9})`` records what the
signed-in user did on their audience profile at the server (stored with the user's profile,
counted, and fed to the app's behaviour-tag rules and lifecycle stage). The event name and
property types must be those the app declared in its audience schema: otherwise the call
fails with :class:`~parley.sdk.errors.ReplyError` code ``event_unknown`` / ``event_invalid``
(``event_too_old``, ``event_in_future`` for a ``ts`` out of range), and nothing is stored.

Each call carries an event id (made here unless given): a ``track`` re-sent after a
reconnect is stored once, and its result says ``duplicate``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from parley.proto import frames as f
from parley.sdk.requests import Reply

__all__ = ["TrackOps", "TrackedEvent"]


@dataclass(frozen=True, slots=True)
class TrackedEvent:
    """A stored event: its id, and ``duplicate`` when one with that id was stored before."""

    eid: str
    duplicate: bool = False


class TrackOps:
    """Record the signed-in user's events (see the module docstring)."""

    async def _request(self, build: Callable[[int], Any], idempotent: bool = True) -> Reply:
        raise NotImplementedError

    async def track(
        self,
        event: str,
        properties: Mapping[str, Any] | None = None,
        *,
        ts: int | None = None,
        eid: str | None = None,
    ) -> TrackedEvent:
        """Record ``event`` with ``properties`` for this user, at ``ts`` (ms since the epoch;
        default: the server's now). ``eid`` is the idempotency key (default: a random one,
        kept across the retries of this call)."""
        key = eid or "e_" + os.urandom(12).hex()
        props = dict(properties or {})
        reply = await self._request(
            lambda rid: f.Track(id=rid, event=event, props=props, ts=ts or 0, eid=key)
        )
        assert isinstance(reply, f.TrackResult)
        return TrackedEvent(reply.eid, reply.dup)
