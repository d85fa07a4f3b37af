"""The segment rule language: a pure AST, its JSON form, and validation against an app's schema.

A *rule* says which profiles of an app belong to a segment. It is a tree of clauses
(msgspec Structs, tagged by ``type`` in JSON) over what the audience store keeps:

========================  ==================================================================
clause                    holds when the profile ...
========================  ==================================================================
:class:`Attr`             has attribute ``key`` compared by ``op`` (typed by the schema)
:class:`Tag`              carries tag ``name`` (confidence >= ``min``, from ``source``,
                          set within ``within``), not expired
:class:`EventAgg`         count of events ``event`` (or sum of property ``prop``) in the
                          last ``window`` compares with ``value`` (no events: 0)
:class:`Occurrence`       its ``first``/``last`` event ``event`` is ``before``/``after`` an
                          instant, or ``within`` the last window
:class:`Counter`          its all-time event counter (computed ``count:<event>``) compares
:class:`Rfm`              its RFM score (1-5) ``r``/``f``/``m`` compares
:class:`Lifecycle`        its lifecycle stage is (``eq``/``ne``/``in``) the value(s)
:class:`Consent`          its consent for ``topic`` is in state ``state``
:class:`HasId`            has an identifier of ``kind``
:class:`Rated`            had a support conversation rated 1..``max`` (a score of 0 = unrated)
:class:`OpenTicket`       has a support ticket not ``resolved``
:class:`Sentiment`        carries the bot's ``sentiment:<label>`` tag set within ``within``
:class:`And` / Or / Not   combines clauses
:class:`SegmentRef`       is a member of saved segment ``id`` (resolved by the service)
========================  ==================================================================

The one-line text form lives in :mod:`parley.proto.segments_text`. Validation
(:func:`parley.proto.segments_check.validate`) raises :class:`SegmentError` with a stable code (``segment_invalid``) and a
JSON-pointer-like ``path`` to the bad clause (``/items/1/value``); cycles of nested segments
are found by :func:`find_cycle` when a segment is saved (``segment_cycle``).
Times are epoch milliseconds; windows are ``<n><unit>`` strings (``s m h d w``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Literal

import msgspec

from parley.proto.errors import ErrorCode

__all__ = [
    "CMP_OPS",
    "And",
    "Attr",
    "Consent",
    "Counter",
    "EventAgg",
    "HasId",
    "Lifecycle",
    "Not",
    "Occurrence",
    "OpenTicket",
    "Or",
    "Rated",
    "Rfm",
    "Rule",
    "SegmentError",
    "SegmentRef",
    "Sentiment",
    "Tag",
    "Value",
    "compare",
    "decode_rule",
    "encode_rule",
    "find_cycle",
    "refs",
    "window_ms",
]

#: A literal in a rule: string, number, bool, or a list of strings/numbers (``in``, ``between``).
Value = str | int | float | bool | list[str | int | float | bool] | None

CmpOp = Literal["eq", "ne", "lt", "le", "gt", "ge"]
AttrOp = Literal["eq", "ne", "lt", "le", "gt", "ge", "in", "contains", "exists", "between", "prefix"]
#: Plain comparison operators (counts, sums, counters, RFM).
CMP_OPS: tuple[str, ...] = ("eq", "ne", "lt", "le", "gt", "ge")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class _Clause(msgspec.Struct, frozen=True, tag_field="type", omit_defaults=True):
    """Base of every clause: JSON objects tagged by ``type``, unset options omitted."""


class Attr(_Clause, frozen=True, tag="attr"):
    """``attr.<key> <op> <value>``; ``exists`` takes no value, ``between`` a [low, high] pair."""

    key: str
    op: AttrOp
    value: Value = None


class Tag(_Clause, frozen=True, tag="tag"):
    """The profile carries tag ``name`` (unexpired) with the optional conditions."""

    name: str
    min: float | None = None
    source: str | None = None
    within: str | None = None


class EventAgg(_Clause, frozen=True, tag="events"):
    """``count`` of events ``event`` (or ``sum`` of number property ``prop``) in the last ``window``."""

    agg: Literal["count", "sum"]
    event: str
    window: str
    op: CmpOp
    value: int | float
    prop: str | None = None


class Occurrence(_Clause, frozen=True, tag="occurrence"):
    """The ``first``/``last`` event ``event`` is ``before``/``after`` ``at`` (ms) or ``within`` ``window``."""

    which: Literal["first", "last"]
    event: str
    op: Literal["before", "after", "within"]
    at: int | None = None
    window: str | None = None


class Counter(_Clause, frozen=True, tag="counter"):
    """The all-time event counter ``count:<event>`` (computed by the events service) compares."""

    event: str
    op: CmpOp
    value: int


class Rfm(_Clause, frozen=True, tag="rfm"):
    """RFM score ``r``, ``f`` or ``m`` (1-5) compares; a profile without scores never matches."""

    dim: Literal["r", "f", "m"]
    op: CmpOp
    value: int


class Lifecycle(_Clause, frozen=True, tag="lifecycle"):
    """The lifecycle stage equals / differs from ``value`` or is one of ``values`` (``in``)."""

    op: Literal["eq", "ne", "in"]
    value: str | list[str]


class Consent(_Clause, frozen=True, tag="consent"):
    """The consent for ``topic`` is currently ``state`` (no record: never matches)."""

    topic: str
    state: Literal["granted", "denied", "withdrawn"] = "granted"


class HasId(_Clause, frozen=True, tag="has_id"):
    """The profile has at least one identifier of ``kind``."""

    kind: str


class Rated(_Clause, frozen=True, tag="rated"):
    """The person had a support conversation rated between 1 and ``max`` (inclusive)."""

    max: int


class OpenTicket(_Clause, frozen=True, tag="open_ticket"):
    """The person has a support ticket that is not resolved."""


class Sentiment(_Clause, frozen=True, tag="sentiment"):
    """The bot tagged ``sentiment:<label>`` within the last ``within`` (the bot's tag, bots/runner.py)."""

    label: Literal["negative", "neutral", "positive"]
    within: str


class SegmentRef(_Clause, frozen=True, tag="segment"):
    """Member of the saved segment ``id`` (expanded or looked up by the service)."""

    id: str


class And(_Clause, frozen=True, tag="and"):
    """Every item holds (at least two items)."""

    items: list[Rule]


class Or(_Clause, frozen=True, tag="or"):
    """Some item holds (at least two items)."""

    items: list[Rule]


class Not(_Clause, frozen=True, tag="not"):
    """``item`` does not hold."""

    item: Rule


Rule = (
    Attr | Tag | EventAgg | Occurrence | Counter | Rfm | Lifecycle | Consent | HasId | Rated
    | OpenTicket | Sentiment | SegmentRef | And | Or | Not
)  # fmt: skip

_decoder = msgspec.json.Decoder(Rule)  # type: ignore[arg-type]


class SegmentError(ValueError):
    """A rule was refused: ``code`` (``segment_invalid``/``segment_cycle``), ``path`` to the clause."""

    def __init__(self, code: ErrorCode, path: str, message: str) -> None:
        super().__init__(f"{path or '/'}: {message}")
        self.code = code
        self.path = path
        self.message = message


def encode_rule(rule: Rule) -> bytes:
    """The rule's JSON form (``kind`` tags; unset optional fields omitted)."""
    return msgspec.json.encode(rule)


def decode_rule(data: bytes | str) -> Rule:
    """Parse the JSON form; malformed JSON or shapes raise ``SegmentError(segment_invalid)``."""
    try:
        rule: Rule = _decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise SegmentError(ErrorCode.SEGMENT_INVALID, _path_of(str(exc)), str(exc)) from None
    return rule


def _path_of(msg: str) -> str:
    """msgspec says ``... - at `$.items[1].value```; turn that into ``/items/1/value``."""
    m = re.search(r"at `\$(.*)`", msg)
    if not m:
        return ""
    return re.sub(r"\[(\d+)\]", r"/\1", m.group(1)).replace(".", "/")


def window_ms(window: str) -> int:
    """``"7d"`` -> milliseconds (the string must already be valid)."""
    return int(window[:-1]) * _UNIT_S[window[-1]] * 1000


def compare(op: str, left: float, right: float) -> bool:
    """``left <op> right`` for the plain comparison operators."""
    return {
        "eq": left == right, "ne": left != right, "lt": left < right,
        "le": left <= right, "gt": left > right, "ge": left >= right,
    }[op]  # fmt: skip


def refs(rule: Rule) -> Iterator[str]:
    """The ids of the segments ``rule`` names (each occurrence)."""
    if isinstance(rule, SegmentRef):
        yield rule.id
    elif isinstance(rule, And | Or):
        for item in rule.items:
            yield from refs(item)
    elif isinstance(rule, Not):
        yield from refs(rule.item)


def find_cycle(start: str, rule: Rule, lookup: Callable[[str], Rule | None]) -> list[str] | None:
    """The chain of segment ids that leads from saving ``start`` as ``rule`` back to ``start``.

    ``lookup`` gives a saved segment's rule (None: unknown or snapshot-only, not followed).
    None when there is no cycle. Depth-first over the reference graph, each id visited once.
    """
    seen: set[str] = set()

    def walk(current: Rule, chain: list[str]) -> list[str] | None:
        for ref in refs(current):
            if ref == start:
                return [*chain, ref]
            if ref in seen:
                continue
            seen.add(ref)
            nested = lookup(ref)
            if nested is not None and (found := walk(nested, [*chain, ref])) is not None:
                return found
        return None

    return walk(rule, [start])
