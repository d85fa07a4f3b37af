"""Frames of the audience profile, sent by the app's client for its signed-in user.

:class:`Identify` attaches identifiers (phone, email, union id, device, cookie) to the user's
profile (the user id itself is always one of them), merging profiles by the app's One ID rule;
:class:`ProfileSet` sets attributes declared in the app's schema, the time zone and language;
:class:`ConsentSet` records a consent decision. Defined on the bases of
:mod:`parley.proto.frames_base`; :mod:`parley.proto.frames` re-exports every class here and
includes them in ``ClientFrame`` / ``ServerFrame``. Rules and error codes: docs/PROTOCOL.md
*Audience profile* and docs/AUDIENCE.md.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from parley.proto.frames_base import RequestId, _Frame, _Record

__all__ = ["ConsentSet", "IdentifierInput", "Identified", "Identify", "ProfileSet"]

#: An identifier kind (``phone``, ``email``, ``union``, ``device``, ``cookie``; ``user`` is the token's).
IdKind = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]
#: A consent topic declared in the app's schema, e.g. ``marketing`` or ``marketing:sms``.
Topic = Annotated[str, msgspec.Meta(min_length=1, max_length=128)]


class IdentifierInput(_Record):
    """One identifier of the signed-in user: ``kind`` and its value as the user typed it (the
    server normalises phone numbers to E.164 and email addresses to lower case)."""

    kind: IdKind
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class Identify(_Frame, tag="identify"):
    """Attach ``identifiers`` to the signed-in user's profile; answered with :class:`Identified`.
    Errors: ``identifier_invalid``, ``merge_guard`` (nothing attached or merged)."""

    id: RequestId
    identifiers: Annotated[list[IdentifierInput], msgspec.Meta(max_length=15)] = []


class Identified(_Frame, tag="identified"):
    """Reply to ``identify``: the user's profile id and how many profiles were merged into it."""

    id: int
    pid: str
    merged: int = 0


class ProfileSet(_Frame, tag="profile_set"):
    """Set attributes of the signed-in user's profile (``null`` unsets one; each must be declared
    in the app's schema with a matching type), and/or its ``timezone`` (IANA) and ``language``
    (BCP 47; ``""`` clears). All or nothing; answered with ``ok``. Errors: ``attribute_unknown``,
    ``attribute_type``, ``invalid_request``."""

    id: RequestId
    attributes: Annotated[dict[str, Any], msgspec.Meta(max_length=100)] = {}
    timezone: Annotated[str, msgspec.Meta(max_length=64)] | None = None
    language: Annotated[str, msgspec.Meta(max_length=35)] | None = None


class ConsentSet(_Frame, tag="consent"):
    """Record the signed-in user's consent decision for ``topic``: ``granted`` true grants it,
    false withdraws it (or denies it if it was never granted). Recorded in the consent ledger
    through ``sdk``; answered with ``ok``. Error: ``consent_invalid``."""

    id: RequestId
    topic: Topic
    granted: bool
