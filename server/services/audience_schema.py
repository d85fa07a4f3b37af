"""The app's declared audience schema (profiles part) and the typed <-> stored attribute values.

The schema document (``PUT /v1/audience/schema``) is JSON::

    {"attributes": {"plan": {"type": "string", "indexed": true}, "ltv": {"type": "number"}},
     "consent_topics": ["marketing", "marketing:sms"],
     "identity": {"merge_priority": ["phone", "union", "email", "user", "device", "cookie"],
                  "merge_guard": 5, "default_region": "US"},
     "defaults": {"timezone": "Europe/Paris", "language": "fr"}}

Other top-level keys listed in :data:`EXTENSION_KEYS` (events, retention, lifecycle...) belong
to other services and are kept as they are. Anything else is refused (``schema_invalid``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parley.proto.errors import ErrorCode
from parley.server.audience_models import ID_KINDS, StoredValue
from parley.server.errors import ServiceError

__all__ = [
    "ATTR_TYPES",
    "DEFAULT_PRIORITY",
    "EXTENSION_KEYS",
    "AttributeSpec",
    "ProfilesSchema",
    "check_language",
    "check_timezone",
    "from_stored",
    "parse_schema",
    "to_stored",
]

ATTR_TYPES = ("string", "number", "bool", "datetime", "string_list")
#: The default One ID priority: which identifier decides the surviving profile (first wins).
DEFAULT_PRIORITY: tuple[str, ...] = ("phone", "union", "email", "user", "device", "cookie")
#: Top-level schema keys owned by other audience services (validated there, kept here).
EXTENSION_KEYS = frozenset({"events", "retention_days", "lifecycle", "rfm", "rules"})
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TOPIC = re.compile(r"^[a-z][a-z0-9_]{0,31}(:[a-z0-9_]{1,32}){0,3}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
_REGION = re.compile(r"^[A-Z]{2}$")


def _bad(message: str) -> ServiceError:
    return ServiceError(ErrorCode.SCHEMA_INVALID, message)


@dataclass(frozen=True, slots=True)
class AttributeSpec:
    """One declared attribute: its type (one of :data:`ATTR_TYPES`) and whether it is indexed."""

    type: str
    indexed: bool = False


@dataclass(frozen=True, slots=True)
class ProfilesSchema:
    """The profiles part of an app's schema, parsed (an app with none has the empty one)."""

    attributes: dict[str, AttributeSpec] = field(default_factory=dict)
    consent_topics: tuple[str, ...] = ()
    merge_priority: tuple[str, ...] = DEFAULT_PRIORITY
    merge_guard: int = 0
    default_region: str = ""
    timezone: str = ""
    language: str = ""


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA zone known to this system (zoneinfo); ``invalid_request`` otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, f"timezone: {name!r} is not an IANA time zone"
        ) from None
    return name


def check_language(tag: str) -> str:
    """``tag`` if it looks like a BCP 47 language tag (``en``, ``pt-BR``); ``invalid_request`` otherwise."""
    if not _LANGUAGE.match(tag):
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, f"language: {tag!r} is not a language tag such as 'en-GB'"
        )
    return tag


def parse_schema(doc: Any, *, max_attributes: int) -> ProfilesSchema:
    """Validate the profiles part of a schema document; ``schema_invalid`` naming the first fault."""
    if not isinstance(doc, Mapping):
        raise _bad("the schema is a JSON object")
    unknown = set(doc) - {"attributes", "consent_topics", "identity", "defaults"} - EXTENSION_KEYS
    if unknown:
        raise _bad(f"unknown schema keys: {sorted(unknown)}")
    attrs_doc = doc.get("attributes", {})
    if not isinstance(attrs_doc, Mapping) or len(attrs_doc) > max_attributes:
        raise _bad(f"attributes: an object of at most {max_attributes} attributes")
    attributes: dict[str, AttributeSpec] = {}
    for name, spec in attrs_doc.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise _bad(f"attributes.{name}: names are lower-case letters, digits and _ (start with a letter)")
        if (
            not isinstance(spec, Mapping)
            or spec.get("type") not in ATTR_TYPES
            or set(spec) - {"type", "indexed"}
        ):
            raise _bad(f"attributes.{name}: {{'type': one of {list(ATTR_TYPES)}, 'indexed': bool}}")
        if not isinstance(spec.get("indexed", False), bool):
            raise _bad(f"attributes.{name}.indexed: a bool")
        attributes[name] = AttributeSpec(spec["type"], bool(spec.get("indexed", False)))
    topics = doc.get("consent_topics", [])
    if not isinstance(topics, list) or not all(isinstance(t, str) and _TOPIC.match(t) for t in topics):
        raise _bad("consent_topics: a list of topics such as 'marketing' or 'marketing:sms'")
    identity = doc.get("identity", {})
    if not isinstance(identity, Mapping) or set(identity) - {
        "merge_priority",
        "merge_guard",
        "default_region",
    }:
        raise _bad("identity: {'merge_priority': [...], 'merge_guard': int, 'default_region': 'US'}")
    priority = identity.get("merge_priority", list(DEFAULT_PRIORITY))
    if not isinstance(priority, list) or sorted(priority) != sorted(ID_KINDS):
        raise _bad(f"identity.merge_priority: every identifier kind once, in order: {list(ID_KINDS)}")
    guard = identity.get("merge_guard", 0)
    if isinstance(guard, bool) or not isinstance(guard, int) or not 0 <= guard <= 1000:
        raise _bad("identity.merge_guard: an integer 0..1000 (0: the server's default)")
    region = identity.get("default_region", "")
    if not isinstance(region, str) or (region and not _REGION.match(region)):
        raise _bad("identity.default_region: a two-letter region code such as 'US', or ''")
    defaults = doc.get("defaults", {})
    if not isinstance(defaults, Mapping) or set(defaults) - {"timezone", "language"}:
        raise _bad("defaults: {'timezone': IANA zone, 'language': language tag}")
    try:
        timezone = check_timezone(defaults["timezone"]) if defaults.get("timezone") else ""
        language = check_language(defaults["language"]) if defaults.get("language") else ""
    except ServiceError as exc:
        raise _bad(f"defaults.{exc.message}") from None
    return ProfilesSchema(
        attributes, tuple(dict.fromkeys(topics)), tuple(priority), guard, region, timezone, language
    )


def _epoch_ms(value: Any) -> float | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if parsed.tzinfo is None:
            return None  # a time without its offset is ambiguous: refused
        return float(round(parsed.timestamp() * 1000))
    return None


def to_stored(
    schema: ProfilesSchema, name: str, value: Any, *, max_string: int, max_list: int
) -> StoredValue | None:
    """The stored form of attribute ``name`` = ``value`` (None unsets it).

    ``attribute_unknown`` if the schema does not declare ``name``; ``attribute_type`` if the value
    does not fit its type (a datetime is epoch ms or ISO 8601 with an offset).
    """
    spec = schema.attributes.get(name)
    if spec is None:
        raise ServiceError(
            ErrorCode.ATTRIBUTE_UNKNOWN, f"attribute {name!r} is not declared in the app's schema"
        )
    if value is None:
        return None
    wrong = ServiceError(
        ErrorCode.ATTRIBUTE_TYPE, f"attribute {name!r} is a {spec.type}; got {type(value).__name__}"
    )
    if spec.type == "string":
        if not isinstance(value, str) or len(value) > max_string:
            raise (
                wrong
                if not isinstance(value, str)
                else ServiceError(
                    ErrorCode.ATTRIBUTE_TYPE, f"attribute {name!r}: at most {max_string} characters"
                )
            )
        return value  # fmt: skip
    if spec.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise wrong
        return float(value)
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise wrong
        return 1.0 if value else 0.0
    if spec.type == "datetime":
        ms = _epoch_ms(value)
        if ms is None:
            raise ServiceError(
                ErrorCode.ATTRIBUTE_TYPE,
                f"attribute {name!r} is a datetime: epoch ms or ISO 8601 with an offset",
            )
        return ms  # fmt: skip
    if not isinstance(value, list) or not all(isinstance(v, str) and len(v) <= max_string for v in value):
        raise wrong
    if len(value) > max_list:
        raise ServiceError(ErrorCode.ATTRIBUTE_TYPE, f"attribute {name!r}: at most {max_list} elements")
    return tuple(value)


def from_stored(schema: ProfilesSchema, name: str, value: StoredValue) -> Any:
    """The typed value of a stored attribute (an attribute no longer declared comes back as stored)."""
    spec = schema.attributes.get(name)
    kind = spec.type if spec else ""
    if kind == "bool":
        return bool(value)
    if kind == "datetime" and isinstance(value, float):
        return int(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, float) and value.is_integer() and kind != "number":
        return int(value)
    return value
