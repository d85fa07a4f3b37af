"""The signed-in user's audience profile, mixed into :class:`~parley.sdk.client.Client`.

The app tells the server who its user is and what it knows about them::

    pid = await client.identify({"phone": "+14155550100", "email": "ann@example.com"})
    await client.set_attributes({"plan": "gold"}, timezone="Europe/Paris", language="fr")
    await client.consent("marketing:sms", False)

``identify`` attaches identifiers to the user's profile (the user id is always one of them)
and merges the profiles they show to be the same person (docs/AUDIENCE.md ``## Identity``).
Attributes must be declared in the app's schema with a matching type. Refusals raise
``ReplyError`` with the code: ``identifier_invalid``, ``merge_guard``, ``attribute_unknown``,
``attribute_type``, ``consent_invalid``, ``invalid_request``; nothing of a refused call is stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from parley.proto import frames as f
from parley.sdk.requests import Reply

__all__ = ["ProfileOps"]


class ProfileOps:
    """``identify``, ``set_attributes`` and ``consent`` for the signed-in user."""

    async def _request(self, build: Callable[[int], Any], idempotent: bool = True) -> Reply:
        raise NotImplementedError

    async def identify(self, identifiers: Mapping[str, str] | Iterable[tuple[str, str]] = ()) -> str:
        """Attach identifiers (``{"phone": ..., "email": ...}`` or ``(kind, value)`` pairs: kinds
        ``phone``, ``email``, ``union``, ``device``, ``cookie``) to the user's profile; returns the
        profile id (after any merge). Safe to repeat."""
        pairs = identifiers.items() if isinstance(identifiers, Mapping) else identifiers
        items = [f.IdentifierInput(kind=k, value=v) for k, v in pairs]
        reply = await self._request(lambda rid: f.Identify(id=rid, identifiers=items))
        assert isinstance(reply, f.Identified)
        return reply.pid

    async def set_attributes(
        self,
        attributes: Mapping[str, Any] | None = None,
        *,
        timezone: str | None = None,
        language: str | None = None,
    ) -> None:
        """Set declared attributes of the user's profile (``None`` unsets one), and/or its IANA
        ``timezone`` and ``language`` (``""`` clears). All or nothing."""
        attrs = dict(attributes or {})
        reply = await self._request(
            lambda rid: f.ProfileSet(id=rid, attributes=attrs, timezone=timezone, language=language)
        )
        assert isinstance(reply, f.Ok)

    async def consent(self, topic: str, granted: bool) -> None:
        """Record the user's decision for consent ``topic`` (declared by the app): ``True``
        grants, ``False`` withdraws (or denies, if never granted)."""
        reply = await self._request(lambda rid: f.ConsentSet(id=rid, topic=topic, granted=granted))
        assert isinstance(reply, f.Ok)
