"""Bodies of the admin API's audience routes (profiles and One ID, see :mod:`audience_routes`),
and their OpenAPI paths (merged into ``/openapi.json`` by :mod:`openapi`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import msgspec

__all__ = [
    "MODELS",
    "AudienceSchemaDoc",
    "AudienceSchemaOut",
    "ConsentIn",
    "IdentifierIn",
    "IdentifyIn",
    "IdentifyOut",
    "MergeOut",
    "ProfileOut",
    "ProfilePatch",
    "TagIn",
    "audience_paths",
]


class AudienceSchemaDoc(msgspec.Struct, kw_only=True):
    """The app's audience schema (docs/AUDIENCE.md). ``attributes``: ``{name: {type, indexed}}`` with
    type ``string|number|bool|datetime|string_list``; ``consent_topics``; ``identity``:
    ``{merge_priority, merge_guard, default_region}``; ``defaults``: ``{timezone, language}``; the
    events part (``events``, ``retention_days``, ``lifecycle``, ``rfm``, ``rules``) is docs/AUDIENCE.md
    ``## Events``."""

    attributes: dict[str, dict[str, Any]] = {}
    consent_topics: list[str] = []
    identity: dict[str, Any] = {}
    defaults: dict[str, str] = {}
    events: dict[str, Any] = {}
    retention_days: int | None = None
    lifecycle: dict[str, Any] = {}
    rfm: dict[str, Any] = {}
    rules: list[dict[str, Any]] = []


class AudienceSchemaOut(msgspec.Struct):
    """The stored schema document and its version (0 and ``{}`` before the first ``PUT``)."""

    version: int
    schema: dict[str, Any]


class IdentifierIn(msgspec.Struct, forbid_unknown_fields=True):
    """One identifier: ``kind`` (user, phone, email, union, device, cookie) and its value."""

    kind: str
    value: str


class IdentifyIn(msgspec.Struct, forbid_unknown_fields=True):
    """Identifiers of one person (1..16); ``actor`` is recorded on any merge."""

    identifiers: list[IdentifierIn]
    actor: str = "api"


class IdentifyOut(msgspec.Struct):
    """The person's live profile, whether it was created, the merges done (ids) and the profiles
    left apart because they are someone else (``conflicts``)."""

    pid: str
    created: bool
    merged: list[str]
    conflicts: list[str]


class TagIn(msgspec.Struct, forbid_unknown_fields=True):
    """A tag to set: confidence 0..1, ``evidence`` (a message or event id), ``ttl`` seconds (0: never)."""

    name: str
    confidence: float = 1.0
    evidence: str = ""
    ttl: int = 0


class ConsentIn(msgspec.Struct, forbid_unknown_fields=True):
    """A consent decision for ``topic``; ``ref`` says through what (a ticket, a form id...)."""

    topic: str
    state: Literal["granted", "denied", "withdrawn"] | str
    ref: str = ""


class ProfilePatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """One atomic change: attributes (``null`` unsets), timezone/language (``""`` clears), tags set with
    ``source`` and removed, consent decisions; ``actor`` goes into the tag history. All or nothing."""

    attributes: dict[str, Any] = {}
    timezone: str | None = None
    language: str | None = None
    add_tags: list[TagIn] = []
    remove_tags: list[str] = []
    source: Literal["manual", "import", "rule", "model", "agent", "bot"] = "manual"
    consent: list[ConsentIn] = []
    actor: str = "api"


class ProfileOut(msgspec.Struct):
    """A live profile: typed attributes, tags with provenance, consent, computed values, identifiers
    (``users``: its chat users), effective timezone/language and where each came from
    (``sdk``, ``attribute`` or ``default``), and what chat learnt (``chat``)."""

    pid: str
    created: int
    updated: int
    attributes: dict[str, Any]
    tags: list[dict[str, Any]]
    consent: dict[str, Any]
    computed: dict[str, Any]
    identifiers: list[dict[str, str]]
    users: list[str]
    timezone: str
    timezone_source: str
    language: str
    language_source: str
    chat: dict[str, Any]


class MergeOut(msgspec.Struct):
    """A merge explained: who survived, who was merged, the identifiers that matched and moved,
    the snapshots ``before`` (what an unmerge restores) and when it was undone (0: standing)."""

    mid: str
    survivor: str
    merged: str
    ts: int
    actor: str
    reason: str
    matched: list[dict[str, str]]
    moved: list[dict[str, str]]
    undone: int
    before: dict[str, Any]


MODELS = (AudienceSchemaDoc, AudienceSchemaOut, IdentifyIn, IdentifyOut, ProfilePatch, ProfileOut, MergeOut)


def audience_paths(op: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """OpenAPI paths of the audience profile/identity routes, built with :mod:`openapi`'s ``_op``."""
    pid, mid = ("pid",), ("mid",)
    return {
        "/v1/audience/schema": {
            "get": op("The app's audience schema and its version", 200, AudienceSchemaOut),
            "put": op("Replace the app's audience schema (schema_invalid: nothing stored)", 200, AudienceSchemaOut,
                      AudienceSchemaDoc),
        },
        "/v1/audience/identify": {
            "post": op("Attach identifiers to one person, merging profiles by the One ID rule", 200, IdentifyOut,
                       IdentifyIn),
        },
        "/v1/audience/identifiers/{kind}/{value}": {
            "get": op("The live profile holding an identifier (normalised first)", 200, ProfileOut,
                      params=("kind", "value")),
        },
        "/v1/audience/profiles/{pid}": {
            "get": op("A profile (a merged pid reads as its survivor)", 200, ProfileOut, params=pid),
            "patch": op("Change attributes, tags, consent, timezone, language atomically", 200, ProfileOut,
                        ProfilePatch, params=pid),
        },
        "/v1/audience/profiles/{pid}/tags/history": {
            "get": op("Every change of the person's tags (?name=)", 200, None, params=pid),
        },
        "/v1/audience/profiles/{pid}/consent": {
            "get": op("The person's consent ledger (?topic=)", 200, None, params=pid),
        },
        "/v1/audience/profiles/{pid}/merges": {
            "get": op("The merges the profile took part in, explained", 200, None, params=pid),
        },
        "/v1/audience/merges/{mid}": {"get": op("Explain one merge", 200, MergeOut, params=mid)},
        "/v1/audience/merges/{mid}/unmerge": {"post": op("Undo a merge", 200, MergeOut, params=mid)},
    }  # fmt: skip
