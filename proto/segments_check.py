"""Validation of segment rules against an app's schema and the language's bounds.

:func:`validate` raises :class:`~parley.proto.segments.SegmentError` with code
``segment_invalid`` and a JSON-pointer-like path to the first bad clause.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from parley.proto.errors import ErrorCode
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
    Or,
    Rated,
    Rfm,
    Rule,
    SegmentError,
    SegmentRef,
    Sentiment,
    Tag,
    window_ms,
)  # fmt: skip

__all__ = ["ATTR_OPS", "MAX_DEPTH", "MAX_NODES", "MAX_WINDOW_S", "validate"]

#: Operators an attribute clause may use, per declared attribute type.
ATTR_OPS: Mapping[str, frozenset[str]] = {
    "string": frozenset({"eq", "ne", "in", "prefix", "exists"}),
    "number": frozenset({"eq", "ne", "lt", "le", "gt", "ge", "in", "between", "exists"}),
    "bool": frozenset({"eq", "ne", "exists"}),
    "datetime": frozenset({"eq", "ne", "lt", "le", "gt", "ge", "between", "exists"}),
    "string_list": frozenset({"contains", "in", "exists"}),
}
#: Deepest nesting of and/or/not a rule may have (the root is depth 1).
MAX_DEPTH = 8
#: Longest window a clause may use: ten years (a century is refused).
MAX_WINDOW_S = 10 * 366 * 86400
#: Most clauses (nodes) one rule may have.
MAX_NODES = 200

_WINDOW = re.compile(r"[0-9]{1,12}[smhdw]")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]{0,63}")
_PROP = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _bad(path: str, message: str) -> SegmentError:
    return SegmentError(ErrorCode.SEGMENT_INVALID, path, message)


def _check_window(window: str, path: str, max_window_s: int) -> None:
    if not _WINDOW.fullmatch(window):
        raise _bad(path, f"window {window!r} is not <number><s|m|h|d|w>")
    seconds = window_ms(window) // 1000
    if seconds <= 0:
        raise _bad(path, "the window must be longer than zero")
    if seconds > max_window_s:
        raise _bad(path, f"the window {window} is over the bound of {max_window_s // 86400} days")


def _is_num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _check_attr(rule: Attr, path: str, attrs: Mapping[str, str]) -> None:
    kind = attrs.get(rule.key)
    if kind is None:
        raise _bad(f"{path}/key", f"unknown attribute {rule.key!r}")
    if rule.op not in ATTR_OPS[kind]:
        raise _bad(f"{path}/op", f"operator {rule.op!r} does not apply to {kind} attribute {rule.key!r}")
    v = rule.value
    scalar: Callable[[object], bool] = {
        "string": lambda x: isinstance(x, str),
        "string_list": lambda x: isinstance(x, str),
        "bool": lambda x: isinstance(x, bool),
        "number": _is_num,
        "datetime": lambda x: isinstance(x, int) and not isinstance(x, bool),
    }[kind]
    if rule.op == "exists":
        ok = v is None
    elif rule.op == "in":
        ok = isinstance(v, list) and 0 < len(v) <= 100 and all(scalar(x) for x in v)
    elif rule.op == "between":
        ok = isinstance(v, list) and len(v) == 2 and all(scalar(x) for x in v) and v[0] <= v[1]  # type: ignore[operator]
    else:
        ok = scalar(v)
    if not ok:
        raise _bad(f"{path}/value", f"value {v!r} does not fit {rule.op!r} on {kind} attribute {rule.key!r}")


def validate(
    rule: Rule,
    attrs: Mapping[str, str],
    *,
    max_depth: int = MAX_DEPTH,
    max_window_s: int = MAX_WINDOW_S,
    max_nodes: int = MAX_NODES,
) -> None:
    """Check ``rule`` against the app's attribute schema (``{name: type}``) and the bounds.

    Raises :class:`SegmentError` (``segment_invalid``) at the first bad clause, with its path:
    unknown attribute, operator not for the attribute's type, value of the wrong type, a window
    of zero or over ``max_window_s``, nesting deeper than ``max_depth``, and/or with fewer than
    two items, more than ``max_nodes`` clauses, malformed names or numbers out of range.
    """
    count = 0

    def walk(node: Rule, path: str, depth: int) -> None:
        nonlocal count
        count += 1
        if count > max_nodes:
            raise _bad(path, f"the rule has more than {max_nodes} clauses")
        if depth > max_depth:
            raise _bad(path, f"nesting deeper than {max_depth} levels")
        if isinstance(node, And | Or):
            if len(node.items) < 2:
                raise _bad(f"{path}/items", "and/or need at least two items")
            for i, item in enumerate(node.items):
                walk(item, f"{path}/items/{i}", depth + 1)
        elif isinstance(node, Not):
            walk(node.item, f"{path}/item", depth + 1)
        else:
            _check_leaf(node, path, attrs, max_window_s)

    walk(rule, "", 1)


def _check_leaf(node: Rule, path: str, attrs: Mapping[str, str], max_window_s: int) -> None:
    """The per-kind checks of one clause that is not and/or/not."""
    if isinstance(node, Attr):
        _check_attr(node, path, attrs)
    elif isinstance(node, Tag):
        if not node.name or len(node.name) > 128:
            raise _bad(f"{path}/name", "a tag name is 1-128 characters")
        if node.min is not None and not 0.0 <= node.min <= 1.0:
            raise _bad(f"{path}/min", "minimum confidence must be within 0..1")
        if node.within is not None:
            _check_window(node.within, f"{path}/within", max_window_s)
    elif isinstance(node, EventAgg):
        _check_name(node.event, f"{path}/event")
        _check_window(node.window, f"{path}/window", max_window_s)
        if node.agg == "sum" and node.prop is None:
            raise _bad(f"{path}/prop", "sum needs the property to add up")
        if node.agg == "count" and node.prop is not None:
            raise _bad(f"{path}/prop", "count takes no property")
        if node.prop is not None and not _PROP.fullmatch(node.prop):
            raise _bad(f"{path}/prop", f"{node.prop!r} is not a property name ([A-Za-z_][A-Za-z0-9_]*)")
        if isinstance(node.value, bool) or abs(node.value) > 1e15:
            raise _bad(f"{path}/value", "the value must be a number within +-1e15")
    elif isinstance(node, Occurrence):
        _check_name(node.event, f"{path}/event")
        if node.op == "within":
            if node.window is None or node.at is not None:
                raise _bad(f"{path}/window", "within takes a window (and no instant)")
            _check_window(node.window, f"{path}/window", max_window_s)
        elif node.at is None or node.window is not None or not 0 <= node.at < 2**53:
            raise _bad(f"{path}/at", f"{node.op} takes an instant in epoch ms (and no window)")
    elif isinstance(node, Counter | Rfm):
        if isinstance(node, Counter):
            _check_name(node.event, f"{path}/event")
        hi = 5 if isinstance(node, Rfm) else 2**53
        if not 0 <= node.value <= hi:
            raise _bad(f"{path}/value", f"the value must be within 0..{hi}")
    elif isinstance(node, Lifecycle):
        multi = isinstance(node.value, list)
        if multi != (node.op == "in") or (isinstance(node.value, list) and not 0 < len(node.value) <= 20):
            raise _bad(f"{path}/value", "in takes a list of 1-20 stages, eq/ne one stage")
    elif isinstance(node, Consent):
        if not node.topic or len(node.topic) > 64:
            raise _bad(f"{path}/topic", "a consent topic is 1-64 characters")
    elif isinstance(node, HasId):
        _check_name(node.kind, f"{path}/kind")
    elif isinstance(node, Rated):
        if not 1 <= node.max <= 5:
            raise _bad(f"{path}/max", "a rating bound is within 1..5")
    elif isinstance(node, Sentiment):
        _check_window(node.within, f"{path}/within", max_window_s)
    elif isinstance(node, SegmentRef) and (not node.id or len(node.id) > 64):
        raise _bad(f"{path}/id", "a segment id is 1-64 characters")


def _check_name(name: str, path: str) -> None:
    if not _NAME.fullmatch(name):
        raise _bad(path, f"{name!r} is not a name ([A-Za-z_][A-Za-z0-9_.:-]*, at most 64)")
