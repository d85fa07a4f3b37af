"""The events part of an app's audience schema, and the validation of one event against it.

Pure: no I/O. The app declares its schema as one JSON document (``PUT /v1/audience/schema``,
owned by the profiles side); this module reads the keys that belong to events::

    {"events": {"product_viewed": {"properties": {"category": "string", "price": "number"}},
                "purchase": {"properties": {"amount": "number", "sku": "string"}}},
     "retention_days": 365,
     "lifecycle": {"new_days": 7, "at_risk_days": 30, "churn_days": 90, "won_back_days": 30,
                   "activity": ["product_viewed", "purchase"]},
     "rfm": {"event": "purchase", "amount": "amount", "window_days": 365},
     "rules": [{"id": "interest", "event": "product_viewed", "group_by": "category",
                "min_count": 3, "window_days": 7, "tag": "interest:{category}", "remove": true}]}

Property types: ``string``, ``number``, ``bool``, ``datetime`` (epoch ms), ``string_list``.
Every key is optional; an app without ``events`` accepts no event (``event_unknown``).
``lifecycle_changed`` is the server's own event (lifecycle transitions): always declared,
never trackable by an app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.events_rules import BehaviourRule, parse_rules
from parley.server.events_scores import (
    LifecycleThresholds,
    RfmConfig,
    SchemaError,
    parse_lifecycle,
    parse_rfm,
)

__all__ = [
    "BUILTIN_EVENTS",
    "PROP_TYPES",
    "EventLimits",
    "EventsConfig",
    "SchemaError",
    "parse_events_config",
    "validate_event",
]

PROP_TYPES = ("string", "number", "bool", "datetime", "string_list")
#: Events the server emits itself, with their properties.
BUILTIN_EVENTS: dict[str, dict[str, str]] = {"lifecycle_changed": {"from": "string", "to": "string"}}
_NAME_MAX = 64
_DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class EventLimits:
    """Bounds on one event, from ``Settings`` (``event_*``): seconds and bytes."""

    props_max: int = 50
    prop_bytes: int = 1024
    max_age: int = 30 * 86400
    clock_skew: int = 300


@dataclass(frozen=True, slots=True)
class EventsConfig:
    """What an app declared about its events (see the module docstring for the document)."""

    events: dict[str, dict[str, str]] = field(default_factory=dict)
    retention_days: int = 365
    lifecycle: LifecycleThresholds = field(default_factory=LifecycleThresholds)
    rfm: RfmConfig | None = None
    rules: tuple[BehaviourRule, ...] = ()
    #: ``identity.default_region`` of the schema (validated by the audience schema on PUT): the
    #: batch ingest reads national phone numbers in it, as ``identify`` does.
    default_region: str = ""

    @property
    def retention_ms(self) -> int:
        """How long the app's events are kept, ms."""
        return self.retention_days * _DAY_MS

    def activity_events(self) -> tuple[str, ...]:
        """The events that count as activity for the lifecycle stage (default: all declared)."""
        return self.lifecycle.activity or tuple(sorted(self.events))


def _name(value: object, path: str) -> str:
    if not isinstance(value, str) or not value or len(value) > _NAME_MAX or not value.isascii():
        raise SchemaError(path, f"a name of 1..{_NAME_MAX} ASCII characters")
    if not all(c.isalnum() or c in "_-:." for c in value) or value[0] in "$.":
        raise SchemaError(path, "letters, digits, '_', '-', ':' and '.' only, not starting with '.'")
    return value


def _region(identity: object) -> str:
    region = identity.get("default_region", "") if isinstance(identity, Mapping) else ""
    return region if isinstance(region, str) else ""


def parse_events_config(doc: Mapping[str, Any], *, default_retention_days: int = 365) -> EventsConfig:
    """The events part of schema document ``doc``; :class:`SchemaError` names what is wrong."""
    raw_events = doc.get("events", {})
    if not isinstance(raw_events, Mapping):
        raise SchemaError("events", "an object of event name -> {properties: {name: type}}")
    events: dict[str, dict[str, str]] = {}
    for name, spec in raw_events.items():
        _name(name, f"events.{name}")
        if name in BUILTIN_EVENTS:
            raise SchemaError(f"events.{name}", "a name the server uses for its own events")
        props = spec.get("properties", {}) if isinstance(spec, Mapping) else None
        if not isinstance(props, Mapping):
            raise SchemaError(f"events.{name}", "an object with 'properties': {name: type}")
        for prop, kind in props.items():
            _name(prop, f"events.{name}.properties.{prop}")
            if kind not in PROP_TYPES:
                raise SchemaError(
                    f"events.{name}.properties.{prop}", f"a type, one of {', '.join(PROP_TYPES)}"
                )
        events[name] = dict(props)
    retention = doc.get("retention_days", default_retention_days)
    if not isinstance(retention, int) or isinstance(retention, bool) or not 1 <= retention <= 3650:
        raise SchemaError("retention_days", "whole days, 1 .. 3650")
    declared = {**events, **BUILTIN_EVENTS}
    config = EventsConfig(
        events=events,
        retention_days=retention,
        lifecycle=parse_lifecycle(doc.get("lifecycle", {}), declared),
        rfm=parse_rfm(doc.get("rfm"), declared),
        rules=parse_rules(doc.get("rules", []), declared),
        default_region=_region(doc.get("identity")),
    )
    # the scheduled pass finds profiles by their events: thresholds past the retention would
    # never be seen (a profile whose events are gone is not re-checked). A retention the app did
    # not state (the node's default) grows to what its thresholds need instead of refusing them.
    if "retention_days" not in doc:
        needed = max([config.lifecycle.churn_days + 1, *(r.window_days + 1 for r in config.rules)])
        retention = max(retention, needed)
        config = replace(config, retention_days=retention)
    if config.lifecycle.churn_days >= retention:
        raise SchemaError("lifecycle.churn_days", f"less than retention_days ({retention})")
    for i, rule in enumerate(config.rules):
        if rule.window_days >= retention:
            raise SchemaError(f"rules.{i}.window_days", f"less than retention_days ({retention})")
    if config.rfm is not None and config.rfm.window_days > retention:
        if "window_days" in doc["rfm"]:
            raise SchemaError("rfm.window_days", f"at most retention_days ({retention})")
        config = replace(config, rfm=replace(config.rfm, window_days=retention))  # default: all that is kept
    return config


def _invalid(path: str, message: str) -> ServiceError:
    return ServiceError(ErrorCode.EVENT_INVALID, f"{path}: {message}")


def _check_value(kind: str, value: object, path: str, limits: EventLimits) -> object:
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        if value != value or value in (float("inf"), float("-inf")):
            raise _invalid(path, "a finite number")
        return value
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "datetime" and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if kind == "string" and isinstance(value, str):
        if len(value.encode()) > limits.prop_bytes:
            raise _invalid(path, f"at most {limits.prop_bytes} bytes")
        return value
    if kind == "string_list" and isinstance(value, list) and all(isinstance(v, str) for v in value):
        if len(value) > limits.props_max or any(len(v.encode()) > limits.prop_bytes for v in value):
            raise _invalid(path, f"at most {limits.props_max} strings of at most {limits.prop_bytes} bytes")
        return list(value)
    shown = "epoch ms (integer >= 0)" if kind == "datetime" else kind
    raise _invalid(path, f"expected {shown}, got {type(value).__name__}")


def validate_event(
    config: EventsConfig,
    name: str,
    props: Mapping[str, Any],
    ts: int,
    now: int,
    limits: EventLimits,
) -> dict[str, Any]:
    """The event's properties, checked against the app's declaration and ``limits``.

    Raises ``ServiceError`` with ``event_unknown`` (name not declared, or the server's own),
    ``event_invalid`` (undeclared property, wrong type, too many or too large),
    ``event_too_old`` (older than ``max_age`` or the retention) or ``event_in_future``.
    """
    declared = config.events.get(name)
    if declared is None:
        raise ServiceError(
            ErrorCode.EVENT_UNKNOWN, f"event {name[:_NAME_MAX]!r} is not declared in the app's schema"
        )
    if ts > now + limits.clock_skew * 1000:
        raise ServiceError(
            ErrorCode.EVENT_IN_FUTURE, f"ts is more than {limits.clock_skew} s ahead of the server"
        )
    oldest = now - min(limits.max_age * 1000, config.retention_ms)
    if ts < oldest:
        raise ServiceError(ErrorCode.EVENT_TOO_OLD, f"ts is older than {(now - oldest) // 1000} s")
    if len(props) > limits.props_max:
        raise _invalid("properties", f"at most {limits.props_max} properties")
    out: dict[str, Any] = {}
    for key, value in props.items():
        kind = declared.get(key)
        if kind is None:
            raise _invalid(f"properties.{key}"[:100], "not declared for this event")
        out[key] = _check_value(kind, value, f"properties.{key}", limits)
    return out
