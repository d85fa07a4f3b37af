"""The one-line text form of segment rules: :func:`to_text` and :func:`parse`.

Example::

    attr.city = "Shanghai" and tag("interest:shoes", min=0.7) and count(event "view", 7d) >= 3
      and not segment("vip")

Grammar (``and`` binds tighter than ``or``; ``not`` tighter than both)::

    rule    := conj ("or" conj)*
    conj    := unary ("and" unary)*
    unary   := "not" unary | "(" rule ")" | clause
    clause  := attr CMP value | attr "in" "(" value ("," value)* ")" | attr "contains" value
             | attr "exists" | attr "between" value "and" value | attr "prefix" string
             | "tag(" string ["," "min=" number] ["," "source=" string] ["," "within=" window] ")"
             | "count(event" string "," window ")" CMP number
             | "sum(event" string "," string "," window ")" CMP number
             | ("first" | "last") "(event" string ")" ("before" int | "after" int | "within" window)
             | "counter(" string ")" CMP int | "rfm." ("r"|"f"|"m") CMP int
             | "lifecycle" ("=" | "!=") string | "lifecycle in (" string ("," string)* ")"
             | "consent(" string ["," string] ")" | "has_id(" string ")" | "support_rating <=" int
             | "open_ticket" | "sentiment(" string "," window ")" | "segment(" string ")"
    attr    := "attr." name | "attr[" string "]"
    CMP     := "=" | "!=" | "<" | "<=" | ">" | ">="
    value   := string (JSON escapes) | number | "true" | "false";  window := digits ("s"|"m"|"h"|"d"|"w")

:func:`to_text` prints the canonical form: single spaces, optional arguments in the order
above and only when set, nested ``or`` inside ``or`` (``and`` inside ``and``) in parentheses,
so that ``parse(to_text(r)) == r`` for every rule :func:`~parley.proto.segments_check.validate`
accepts and ``to_text(parse(s)) == s`` for every canonical ``s``. A malformed text raises
``SegmentError(segment_invalid)`` whose path is ``@<column>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

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
    OpenTicket,
    Or,
    Rated,
    Rfm,
    Rule,
    SegmentError,
    SegmentRef,
    Sentiment,
    Tag,
    Value,
)

__all__ = ["parse", "to_text"]

_SYM = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_OP = {v: k for k, v in _SYM.items()}
_KINDS = {"num": "a number", "str": "a string", "win": "a window such as 7d", "name": "a word",
          "op": "a symbol"}  # fmt: skip
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<str>"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")
    | (?P<win>[0-9]+[smhdw])(?![A-Za-z0-9_.])
    | (?P<num>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
    | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
    | (?P<op><=|>=|!=|[=<>(),.\[\]])
    )""",
    re.VERBOSE,
)


def _s(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _v(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _s(value)
    if isinstance(value, int | float):
        return repr(value)
    raise ValueError(f"not a scalar: {value!r}")


def _attr(key: str) -> str:
    return f"attr.{key}" if _IDENT.fullmatch(key) else f"attr[{_s(key)}]"


def to_text(rule: Rule) -> str:
    """The canonical one-line text form of ``rule``."""
    if isinstance(rule, And | Or):
        word = " and " if isinstance(rule, And) else " or "
        # An item of the same kind (or an `or` inside `and`) needs parentheses to keep its shape.
        parts = [
            f"({to_text(i)})" if isinstance(i, Or) or type(i) is type(rule) else to_text(i)
            for i in rule.items
        ]
        return word.join(parts)
    if isinstance(rule, Not):
        inner = to_text(rule.item)
        return f"not ({inner})" if isinstance(rule.item, And | Or) else f"not {inner}"
    return _leaf(rule)


def _leaf(rule: Rule) -> str:
    """Text of one clause that is not and/or/not."""
    if isinstance(rule, Attr):
        a, v = _attr(rule.key), rule.value
        if rule.op == "exists":
            return f"{a} exists"
        if rule.op == "in" and isinstance(v, list):
            return f"{a} in ({', '.join(_v(x) for x in v)})"
        if rule.op == "between" and isinstance(v, list):
            return f"{a} between {_v(v[0])} and {_v(v[1])}"
        if rule.op in ("contains", "prefix"):
            return f"{a} {rule.op} {_v(v)}"
        return f"{a} {_SYM[rule.op]} {_v(v)}"
    if isinstance(rule, Tag):
        opts = [_s(rule.name)]
        if rule.min is not None:
            opts.append(f"min={rule.min!r}")
        if rule.source is not None:
            opts.append(f"source={_s(rule.source)}")
        if rule.within is not None:
            opts.append(f"within={rule.within}")
        return f"tag({', '.join(opts)})"
    if isinstance(rule, EventAgg):
        prop = f", {_s(rule.prop)}" if rule.prop is not None else ""
        return f"{rule.agg}(event {_s(rule.event)}{prop}, {rule.window}) {_SYM[rule.op]} {rule.value!r}"
    if isinstance(rule, Occurrence):
        when = rule.window if rule.op == "within" else repr(rule.at)
        return f"{rule.which}(event {_s(rule.event)}) {rule.op} {when}"
    if isinstance(rule, Counter):
        return f"counter({_s(rule.event)}) {_SYM[rule.op]} {rule.value!r}"
    if isinstance(rule, Rfm):
        return f"rfm.{rule.dim} {_SYM[rule.op]} {rule.value!r}"
    if isinstance(rule, Lifecycle):
        if isinstance(rule.value, list):
            return f"lifecycle in ({', '.join(_s(x) for x in rule.value)})"
        return f"lifecycle {_SYM[rule.op]} {_s(rule.value)}"
    if isinstance(rule, Consent):
        state = "" if rule.state == "granted" else f", {_s(rule.state)}"
        return f"consent({_s(rule.topic)}{state})"
    if isinstance(rule, HasId):
        return f"has_id({_s(rule.kind)})"
    if isinstance(rule, Rated):
        return f"support_rating <= {rule.max!r}"
    if isinstance(rule, OpenTicket):
        return "open_ticket"
    if isinstance(rule, Sentiment):
        return f"sentiment({_s(rule.label)}, {rule.within})"
    if isinstance(rule, SegmentRef):
        return f"segment({_s(rule.id)})"
    raise TypeError(f"not a rule: {rule!r}")


class _Parser:
    """Recursive descent over the token list; ``pos`` indexes ``toks``."""

    def __init__(self, text: str) -> None:
        self.toks: list[tuple[str, str, int]] = []
        pos = 0
        text = text.rstrip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if m is None or m.lastgroup is None:
                raise self._fail(pos + len(text[pos:]) - len(text[pos:].lstrip()), "unexpected character")
            self.toks.append((m.lastgroup, m.group(m.lastgroup), m.start(m.lastgroup)))
            pos = m.end()
        self.pos = 0
        self.end = len(text)

    def _fail(self, col: int, message: str) -> SegmentError:
        return SegmentError(ErrorCode.SEGMENT_INVALID, f"@{col}", message)

    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        if self.pos >= len(self.toks):
            return False
        k, v, _ = self.toks[self.pos]
        return (value is None or v == value) and (kind is None or k == kind)

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        if not self.peek(value, kind):
            col = self.toks[self.pos][2] if self.pos < len(self.toks) else self.end
            found = repr(self.toks[self.pos][1]) if self.pos < len(self.toks) else "the end"
            raise self._fail(col, f"expected {value or _KINDS.get(kind or '', kind)}, found {found}")
        self.pos += 1
        return self.toks[self.pos - 1][1]

    def string(self) -> str:
        out: str = json.loads(self.take(kind="str"))
        return out

    def number(self) -> int | float:
        raw = self.take(kind="num")
        return float(raw) if any(c in raw for c in ".eE") else int(raw)

    def integer(self) -> int:
        col = self.toks[self.pos][2] if self.pos < len(self.toks) else self.end
        value = self.number()
        if not isinstance(value, int):
            raise self._fail(col, "expected an integer")
        return value

    def value(self) -> Value:
        if self.peek(kind="str"):
            return self.string()
        if self.peek("true") or self.peek("false"):
            return self.take() == "true"
        return self.number()

    def cmp(self) -> str:
        sym = self.take(kind="op")
        if sym not in _OP:
            raise self._fail(self.toks[self.pos - 1][2], f"expected a comparison, found {sym!r}")
        return _OP[sym]

    def listing(self, item: Callable[[], Value]) -> list[Value]:
        self.take("(")
        items = [item()]
        while self.peek(","):
            self.take(",")
            items.append(item())
        self.take(")")
        return items

    def rule(self) -> Rule:
        items = [self.conj()]
        while self.peek("or", "name"):
            self.take()
            items.append(self.conj())
        return items[0] if len(items) == 1 else Or(items)

    def conj(self) -> Rule:
        items = [self.unary()]
        while self.peek("and", "name"):
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else And(items)

    def unary(self) -> Rule:
        if self.peek("not", "name"):
            self.take()
            return Not(self.unary())
        if self.peek("("):
            self.take("(")
            inner = self.rule()
            self.take(")")
            return inner
        return self.clause()

    def clause(self) -> Rule:
        col = self.toks[self.pos][2] if self.pos < len(self.toks) else self.end
        word = self.take(kind="name")
        handler = _CLAUSES.get(word)
        if handler is None:
            raise self._fail(col, f"unknown clause {word!r}")
        return handler(self)

    def attr(self) -> Rule:
        if self.peek("["):
            self.take("[")
            key = self.string()
            self.take("]")
        else:
            self.take(".")
            key = self.take(kind="name")
        if self.peek(kind="name"):
            word = self.take()
            if word == "exists":
                return Attr(key, "exists")
            if word == "in":
                return Attr(key, "in", self.listing(self.value))  # type: ignore[arg-type]
            if word == "between":
                low = self.value()
                self.take("and")
                return Attr(key, "between", [low, self.value()])  # type: ignore[list-item]
            if word in ("contains", "prefix"):
                return Attr(key, word, self.value())  # type: ignore[arg-type]
            raise self._fail(self.toks[self.pos - 1][2], f"unknown operator {word!r}")
        return Attr(key, self.cmp(), self.value())  # type: ignore[arg-type]

    def tag(self) -> Rule:
        self.take("(")
        name = self.string()
        opts: dict[str, object] = {}
        while self.peek(","):
            self.take(",")
            key = self.take(kind="name")
            self.take("=")
            if key == "min":
                opts["min"] = float(self.number())
            elif key == "source":
                opts["source"] = self.string()
            elif key == "within":
                opts["within"] = self.take(kind="win")
            else:
                raise self._fail(self.toks[self.pos - 2][2], f"unknown tag option {key!r}")
        self.take(")")
        return Tag(name, **opts)  # type: ignore[arg-type]

    def events(self, agg: str) -> Rule:
        self.take("(")
        self.take("event")
        event = self.string()
        self.take(",")
        prop = None
        if agg == "sum":
            prop = self.string()
            self.take(",")
        window = self.take(kind="win")
        self.take(")")
        return EventAgg(agg, event, window, self.cmp(), self.number(), prop)  # type: ignore[arg-type]

    def occurrence(self, which: str) -> Rule:
        self.take("(")
        self.take("event")
        event = self.string()
        self.take(")")
        op = self.take(kind="name")
        if op == "within":
            return Occurrence(which, event, "within", window=self.take(kind="win"))  # type: ignore[arg-type]
        if op not in ("before", "after"):
            raise self._fail(self.toks[self.pos - 1][2], "expected before, after or within")
        return Occurrence(which, event, op, at=self.integer())  # type: ignore[arg-type]

    def call(self) -> list[str]:
        """``("a", "b")``: the string arguments of a call."""
        return [str(x) for x in self.listing(self.string)]

    def lifecycle(self) -> Rule:
        if self.peek("in"):
            self.take()
            return Lifecycle("in", [str(x) for x in self.listing(self.string)])
        return Lifecycle(self.cmp(), self.string())  # type: ignore[arg-type]

    def rfm(self) -> Rule:
        self.take(".")
        return Rfm(self.take(kind="name"), self.cmp(), self.integer())  # type: ignore[arg-type]

    def sentiment(self) -> Rule:
        self.take("(")
        label = self.string()
        self.take(",")
        window = self.take(kind="win")
        self.take(")")
        return Sentiment(label, window)  # type: ignore[arg-type]

    def counter(self) -> Rule:
        (event,) = self.call()
        return Counter(event, self.cmp(), self.integer())  # type: ignore[arg-type]


_CLAUSES: dict[str, Callable[[_Parser], Rule]] = {
    "attr": _Parser.attr,
    "tag": _Parser.tag,
    "count": lambda p: p.events("count"),
    "sum": lambda p: p.events("sum"),
    "first": lambda p: p.occurrence("first"),
    "last": lambda p: p.occurrence("last"),
    "counter": _Parser.counter,
    "rfm": _Parser.rfm,
    "lifecycle": _Parser.lifecycle,
    "consent": lambda p: Consent(*p.call()),  # type: ignore[arg-type]
    "has_id": lambda p: HasId(*p.call()),
    "support_rating": lambda p: Rated(int(p.take("<=") and p.integer())),
    "open_ticket": lambda p: OpenTicket(),
    "sentiment": _Parser.sentiment,
    "segment": lambda p: SegmentRef(*p.call()),
}


def parse(text: str) -> Rule:
    """Parse the text form; ``SegmentError(segment_invalid)`` (path ``@<column>``) if malformed.

    The result is shaped, not yet checked against a schema: call
    :func:`~parley.proto.segments_check.validate` next.
    """
    if len(text) > 10_000:
        raise SegmentError(ErrorCode.SEGMENT_INVALID, "@0", "the rule text is over 10000 characters")
    p = _Parser(text)
    if not p.toks:
        raise SegmentError(ErrorCode.SEGMENT_INVALID, "@0", "the rule is empty")
    rule = p.rule()
    if p.pos != len(p.toks):
        raise p._fail(p.toks[p.pos][2], f"unexpected {p.toks[p.pos][1]!r}")
    return rule
