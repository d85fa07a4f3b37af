"""Segment rules compiled to MongoDB filters over ``aud_profiles`` (docs/AUDIENCE.md layout).

Most clauses are fields of the profile document (``attrs``, ``tags``, ``computed``, ``consent``,
``ids``) and become plain query operators. Clauses over other collections — event counts, sums
and first/last occurrences (``aud_events``), support tickets (``tickets``) and stored segment
members (``aud_segment_members``) — are **resolved first**, each by one indexed aggregation
(``aud_events (app,name,ts)``), into the set of pids (or chat users) they hold for, and enter the
filter as ``pid $in/$nin`` (``ids $elemMatch``). That set is the clause's matches (or, when zero
events qualify, its non-matches), never the app's profiles; it is bounded by MongoDB's 16 MiB
command size (~500 000 pids): past it, use SQLite or narrow the clause (docs/AUDIENCE.md).

:func:`driver` picks from the rule's top-level conjunction the clause an index answers alone
(``(app, attrs.<key>)``, ``(app, tags.name, ...)``, ``(app, computed.lifecycle)``, ...): the
adapter puts it as the first ``$match`` of the pipeline, so even a planner that only uses an index
for a filter the index covers whole (the MongoDB wire server of the tests) starts from the index.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from parley.proto.segments import (
    And,
    Attr,
    Consent,
    Counter,
    EventAgg,
    HasId,
    Lifecycle,
    Not,
    Occurrence,
    OpenTicket,
    Or,
    Rated,
    Rfm,
    Rule,
    SegmentRef,
    Sentiment,
    Tag,
    compare,
    window_ms,
)  # fmt: skip

__all__ = ["INVERSE", "Resolved", "driver", "escape", "events_pipeline", "index_keys", "to_filter"]

#: Pre-resolved clauses by path: the filter each one became.
Resolved = Mapping[str, dict[str, Any]]
_OPS = {"eq": "$eq", "ne": "$ne", "lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte"}
#: The comparison that holds exactly when ``op`` does not.
INVERSE = {"eq": "ne", "ne": "eq", "lt": "ge", "ge": "lt", "le": "gt", "gt": "le"}


def escape(name: str) -> str:
    """A map key safe as a field name (``%``, ``.``, ``$`` percent-encoded), as the profiles adapter stores it."""
    return name.replace("%", "%25").replace(".", "%2E").replace("$", "%24")


def _cmp(op: str, value: Any) -> dict[str, Any]:
    return {_OPS[op]: value}


def _attr(rule: Attr, kind: str) -> dict[str, Any]:
    field, v = f"attrs.{escape(rule.key)}", rule.value
    if rule.op == "exists":
        # An empty list is stored as []: a list exists only with a first element (as in SQL's rows).
        return {f"{field}.0" if kind == "string_list" else field: {"$exists": True}}
    if rule.op in ("eq", "contains"):
        return {field: v}
    if rule.op == "ne":
        return {field: {"$ne": v, "$exists": True}}
    if rule.op == "in":
        return {field: {"$in": v}}
    if rule.op == "between" and isinstance(v, list):
        return {field: {"$gte": v[0], "$lte": v[1]}}
    if rule.op == "prefix":
        return {field: {"$regex": "^" + re.escape(str(v))}}
    return {field: _cmp(rule.op, v)}


def _tag(name: str, rule: Tag | None, within: str | None, now: int) -> dict[str, Any]:
    match: dict[str, Any] = {"name": name}
    if rule is not None and rule.min is not None:
        match["confidence"] = {"$gte": rule.min}
    if rule is not None and rule.source is not None:
        match["source"] = rule.source
    if within is not None:
        match["ts"] = {"$gte": now - window_ms(within)}
    match["$or"] = [{"expires": 0}, {"expires": {"$gt": now}}]
    return {"tags": {"$elemMatch": match}}


def _computed(field: str, op: str, value: Any) -> dict[str, Any]:
    if op == "ne":
        return {field: {"$ne": value, "$exists": True}}
    return {field: _cmp(op, value)}


def to_filter(
    rule: Rule, now: int, attrs: Mapping[str, str], resolved: Resolved, path: str = ""
) -> dict[str, Any]:
    """The filter document of ``rule`` (without the app and liveness conditions)."""
    if isinstance(rule, And | Or):
        word = "$and" if isinstance(rule, And) else "$or"
        return {
            word: [to_filter(i, now, attrs, resolved, f"{path}/items/{n}") for n, i in enumerate(rule.items)]
        }
    if isinstance(rule, Not):
        return {"$nor": [to_filter(rule.item, now, attrs, resolved, f"{path}/item")]}
    if path in resolved:
        return resolved[path]
    if isinstance(rule, Attr):
        return _attr(rule, attrs.get(rule.key, "string"))
    if isinstance(rule, Tag):
        return _tag(rule.name, rule, rule.within, now)
    if isinstance(rule, Sentiment):
        return _tag(f"sentiment:{rule.label}", None, rule.within, now)
    if isinstance(rule, Counter):
        field = f"computed.counts.{escape(rule.event)}"
        if compare(rule.op, 0, rule.value):  # a missing counter is 0
            return {"$or": [{field: {"$exists": False}}, {field: _cmp(rule.op, rule.value)}]}
        return _computed(field, rule.op, rule.value)  # "$ne" alone would match a missing counter
    if isinstance(rule, Rfm):
        return _computed(f"computed.rfm_{rule.dim}", rule.op, rule.value)
    if isinstance(rule, Lifecycle):
        if isinstance(rule.value, list):
            return {"computed.lifecycle": {"$in": rule.value}}
        return _computed("computed.lifecycle", rule.op, rule.value)
    if isinstance(rule, Consent):
        return {f"consent.{escape(rule.topic)}.state": rule.state}
    if isinstance(rule, HasId):
        return {"ids.kind": rule.kind}
    raise LookupError(f"clause at {path or '/'} was not resolved: {rule!r}")


def needs_resolving(rule: Rule) -> bool:
    """Whether the clause lives outside the profile document (events, tickets, stored members)."""
    return isinstance(rule, EventAgg | Occurrence | Rated | OpenTicket | SegmentRef)


def events_pipeline(app: str, rule: EventAgg | Occurrence, now: int, negate: bool) -> list[dict[str, Any]]:
    """The aggregation over ``aud_events`` giving the pids whose events meet the clause (``negate``:
    whose events fail its comparison). Starts with an ``(app, name, ts)`` index range."""
    match: dict[str, Any] = {"app": app, "name": rule.event}
    if isinstance(rule, EventAgg):
        match["ts"] = {"$gte": now - window_ms(rule.window), "$lte": now}
        value: Any = 1 if rule.agg == "count" else f"$props.{rule.prop}"
        op = INVERSE[rule.op] if negate else rule.op
        group = {"_id": "$pid", "v": {"$sum": value}}
        cond = _cmp(op, rule.value)
    else:
        group = {"_id": "$pid", "v": {"$min" if rule.which == "first" else "$max": "$ts"}}
        if rule.op == "within":
            cond = {"$gte": now - window_ms(rule.window or "0s")}
        else:
            cond = {"$lt" if rule.op == "before" else "$gt": rule.at}
    return [{"$match": match}, {"$group": group}, {"$match": {"v": cond}}, {"$project": {"_id": 1}}]


def index_keys(rule: Rule, attrs: Mapping[str, str]) -> list[str] | None:
    """The non-``app`` keys of the index that answers ``rule`` alone, if one does."""
    if isinstance(rule, Attr) and rule.op in ("eq", "in", "contains", "lt", "le", "gt", "ge", "between"):
        return [f"attrs.{escape(rule.key)}"]
    if isinstance(rule, Tag | Sentiment):
        return ["tags.name"]
    if isinstance(rule, Lifecycle) and rule.op != "ne":
        return ["computed.lifecycle"]
    if isinstance(rule, Rfm) and rule.op != "ne":
        return [f"computed.rfm_{rule.dim}"]
    if isinstance(rule, HasId):
        return ["ids.kind"]
    if isinstance(rule, Counter) and not compare(rule.op, 0, rule.value):
        return [f"computed.counts.{escape(rule.event)}"]
    return None


def driver(app: str, rule: Rule, now: int, attrs: Mapping[str, str], resolved: Resolved) -> dict[str, Any]:
    """The first ``$match``: one top-level conjunct as a filter its index covers whole (or just ``app``).

    A pre-resolved ``pid $in`` set comes first (it is usually the narrowest), then the first clause
    with an index. The full filter follows as a second ``$match``, so the driver never changes
    the result.
    """
    items = list(enumerate(rule.items)) if isinstance(rule, And) else [(None, rule)]
    paths = [("" if n is None else f"/items/{n}", item) for n, item in items]
    for path, _ in paths:
        found = resolved.get(path, {}).get("pid")
        if isinstance(found, dict) and "$in" in found:
            return {"app": app, "pid": found}
    for path, item in paths:
        if path in resolved or index_keys(item, attrs) is None:
            continue
        if isinstance(item, Tag | Sentiment):
            name = item.name if isinstance(item, Tag) else f"sentiment:{item.label}"
            return {"app": app, "tags.name": name}
        (field, cond), *_ = to_filter(item, now, attrs, resolved, path).items()
        return {"app": app, field: cond}
    return {"app": app}
