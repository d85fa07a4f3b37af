"""A plain-Python evaluator of segment rules over the fixture population: the tests' oracle only.

It reads the rule's meaning straight from the port's docstring (parley.server.segments_port)
and the AST's (parley.proto.segments), one person at a time, so the adapters' compiled SQL and
pipelines are checked against an independent, obviously-correct reading.
"""

from __future__ import annotations

from collections.abc import Mapping

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
from tests.server.store.segment_population import Person


def _attr(rule: Attr, p: Person) -> bool:
    if rule.key not in p.attrs:
        return False
    v, want = p.attrs[rule.key], rule.value
    if isinstance(v, list):
        if rule.op == "exists":
            return bool(v)
        if rule.op == "contains":
            return want in v
        assert rule.op == "in" and isinstance(want, list)
        return any(x in want for x in v)
    if rule.op == "exists":
        return True
    if rule.op == "in":
        assert isinstance(want, list)
        return v in want
    if rule.op == "between":
        assert isinstance(want, list)
        return want[0] <= v <= want[1]  # type: ignore[operator,no-any-return]
    if rule.op == "prefix":
        return isinstance(v, str) and v.startswith(str(want))
    return compare(rule.op, v, want)  # type: ignore[arg-type]


def _tag(p: Person, name: str, now: int, within: str | None, min_: float | None, source: str | None) -> bool:
    if name not in p.tags:
        return False
    src, conf, ts, expires = p.tags[name]
    if expires != 0 and expires <= now:
        return False
    if min_ is not None and conf < min_:
        return False
    if source is not None and src != source:
        return False
    return within is None or ts >= now - window_ms(within)


def _events(rule: EventAgg, p: Person, now: int) -> bool:
    since = now - window_ms(rule.window)
    chosen = [props for _, name, ts, props in p.events if name == rule.event and since <= ts <= now]
    if rule.agg == "count":
        value: float = len(chosen)
    else:
        nums = [x.get(rule.prop or "") for x in chosen]
        value = sum(x for x in nums if isinstance(x, int | float) and not isinstance(x, bool))
    return compare(rule.op, value, rule.value)


def _occurrence(rule: Occurrence, p: Person, now: int) -> bool:
    times = [ts for _, name, ts, _ in p.events if name == rule.event]
    if not times:
        return False
    t = min(times) if rule.which == "first" else max(times)
    if rule.op == "within":
        return t >= now - window_ms(rule.window or "0s")
    assert rule.at is not None
    return t < rule.at if rule.op == "before" else t > rule.at


def holds(rule: Rule, p: Person, now: int, members: Mapping[str, set[str]]) -> bool:
    """Whether ``rule`` holds for ``p`` at ``now`` (``members``: stored members by segment id)."""
    if isinstance(rule, And):
        return all(holds(i, p, now, members) for i in rule.items)
    if isinstance(rule, Or):
        return any(holds(i, p, now, members) for i in rule.items)
    if isinstance(rule, Not):
        return not holds(rule.item, p, now, members)
    if isinstance(rule, Attr):
        return _attr(rule, p)
    if isinstance(rule, Tag):
        return _tag(p, rule.name, now, rule.within, rule.min, rule.source)
    if isinstance(rule, Sentiment):
        return _tag(p, f"sentiment:{rule.label}", now, rule.within, None, None)
    if isinstance(rule, EventAgg):
        return _events(rule, p, now)
    if isinstance(rule, Occurrence):
        return _occurrence(rule, p, now)
    if isinstance(rule, Counter):
        return compare(rule.op, float(p.computed.get(f"count:{rule.event}", 0)), rule.value)
    if isinstance(rule, Rfm):
        score = p.computed.get(f"rfm_{rule.dim}")
        return isinstance(score, float) and compare(rule.op, score, rule.value)
    if isinstance(rule, Lifecycle):
        stage = p.computed.get("lifecycle")
        if not isinstance(stage, str):
            return False
        if isinstance(rule.value, list):
            return stage in rule.value
        return (stage == rule.value) == (rule.op == "eq")
    if isinstance(rule, Consent):
        return p.consent.get(rule.topic) == rule.state
    if isinstance(rule, HasId):
        return any(k == rule.kind for k, _ in p.ids)
    if isinstance(rule, Rated):
        return any(1 <= score <= rule.max for _, _, score in p.tickets)
    if isinstance(rule, OpenTicket):
        return any(state != "resolved" for _, state, _ in p.tickets)
    if isinstance(rule, SegmentRef):
        return p.pid in members.get(rule.id, set())
    raise TypeError(rule)


def members_of(
    rule: Rule, people: list[Person], app: str, now: int, members: Mapping[str, set[str]]
) -> list[str]:
    """The live pids of ``app`` the rule holds for, in pid order."""
    return sorted(
        p.pid for p in people if p.app == app and not p.merged_into and holds(rule, p, now, members)
    )
