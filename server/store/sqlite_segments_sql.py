"""Segment rules compiled to parameterised SQL over the audience tables (docs/AUDIENCE.md layout).

Two shapes of the same rule, both one statement, both tested against each other and against a
reference evaluator (``tests/server/store/test_segments_contract.py``):

* :func:`pid_set` — a ``SELECT pid`` of the members (before the liveness filter): each clause is
  an index range scan (``aud_attrs (app,key,txt|num)``, ``aud_tags (app,name,confidence)``,
  ``aud_computed (app,key,num|txt)``, ``aud_consent (app,topic,state)``, ``aud_identifiers``
  primary key, ``aud_events (app,name,ts)``) and and/or/not are ``INTERSECT``/``UNION``/``EXCEPT``.
  Used for count and sample: the work follows the clauses' matches, not the app's size.
* :func:`predicate` — a 0/1 expression over one ``aud_profiles`` row ``p``: each clause probes the
  profile's rows by primary key (``(app, pid, ...)``) or ``aud_events (app,pid,ts)``. Used to walk
  members in pid order (keyset pages, constant memory) and to explain one profile.

No value is ever spliced into the SQL text: only ``?`` parameters.
"""

from __future__ import annotations

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

__all__ = ["SEGMENT_SCHEMA", "pid_set", "predicate"]

#: Tables of saved segments and their members, and the extra indexes the compiled rules need.
SEGMENT_SCHEMA = """
CREATE TABLE IF NOT EXISTS aud_segments (
    app TEXT NOT NULL, seg TEXT NOT NULL, name TEXT NOT NULL, rule BLOB NOT NULL, text TEXT NOT NULL,
    mode TEXT NOT NULL, frozen_at INTEGER NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,
    version INTEGER NOT NULL, timed INTEGER NOT NULL, PRIMARY KEY (app, seg)
);
CREATE TABLE IF NOT EXISTS aud_segment_members (
    app TEXT NOT NULL, seg TEXT NOT NULL, pid TEXT NOT NULL, PRIMARY KEY (app, seg, pid)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seg_tickets_customer ON tickets (app, customer, score, state);
-- Covering indexes: a clause's pid set is read from the index alone (no row fetch per match),
-- and live pids are probed without touching the profile rows.
CREATE INDEX IF NOT EXISTS seg_profiles_live ON aud_profiles (app, merged_into, pid);
CREATE INDEX IF NOT EXISTS seg_attrs_txt ON aud_attrs (app, key, txt, lst, pid);
CREATE INDEX IF NOT EXISTS seg_attrs_num ON aud_attrs (app, key, num, lst, pid);
CREATE INDEX IF NOT EXISTS seg_tags ON aud_tags (app, name, confidence, pid, source, ts, expires);
CREATE INDEX IF NOT EXISTS seg_computed_num ON aud_computed (app, key, num, pid);
CREATE INDEX IF NOT EXISTS seg_computed_txt ON aud_computed (app, key, txt, pid);
CREATE INDEX IF NOT EXISTS seg_consent ON aud_consent (app, topic, state, pid);
CREATE INDEX IF NOT EXISTS seg_identifiers ON aud_identifiers (app, kind, pid);
CREATE INDEX IF NOT EXISTS seg_tickets_score ON tickets (app, score, customer);
"""

Sql = tuple[str, list[Any]]
_SYM = {"eq": "=", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
_ALL = "SELECT pid FROM aud_profiles WHERE app = ?"
_TICKETS = (
    "SELECT i.pid FROM tickets t JOIN aud_identifiers i ON i.app = t.app AND i.kind = 'user' "
    "AND i.value = t.customer WHERE t.app = ? AND "
)


def _num(v: Any) -> float:
    return float(v)


def _prefix_range(prefix: str) -> tuple[str, list[Any]] | None:
    """``txt >= p AND txt < p'`` (p' = p with its last code point raised): an index range."""
    if not prefix:
        return "txt IS NOT NULL", []
    nxt = ord(prefix[-1]) + 1
    if nxt > 0x10FFFF or 0xD800 <= nxt <= 0xDFFF:
        return None
    return "txt >= ? AND txt < ?", [prefix, prefix[:-1] + chr(nxt)]


def _attr_cond(rule: Attr, kind: str) -> tuple[str, list[Any]]:
    """The condition on one ``aud_attrs`` row (``key`` already fixed) for the clause."""
    v, op = rule.value, rule.op
    col = "txt" if kind in ("string", "string_list") else "num"
    lst = "lst = 1" if kind == "string_list" else "lst = 0"
    conv = (lambda x: x) if col == "txt" else _num
    if op == "exists":
        return lst, []
    if op == "in" and isinstance(v, list):
        return f"{lst} AND {col} IN ({', '.join('?' * len(v))})", [conv(x) for x in v]
    if op == "between" and isinstance(v, list):
        return f"{lst} AND {col} BETWEEN ? AND ?", [conv(v[0]), conv(v[1])]
    if op == "prefix":
        rng = _prefix_range(str(v))
        if rng is None:
            return f"{lst} AND substr(txt, 1, ?) = ?", [len(str(v)), v]
        return f"{lst} AND {rng[0]}", rng[1]
    if op == "contains":
        return f"{lst} AND txt = ?", [v]
    return f"{lst} AND {col} {_SYM[op]} ?", [conv(v)]


def _tag_cond(name: str, rule: Tag | None, within: str | None, now: int) -> tuple[str, list[Any]]:
    where, args = ["name = ?", "(expires = 0 OR expires > ?)"], [name, now]
    if rule is not None and rule.min is not None:
        where.append("confidence >= ?")
        args.append(rule.min)
    if rule is not None and rule.source is not None:
        where.append("source = ?")
        args.append(rule.source)
    if within is not None:
        where.append("ts >= ?")
        args.append(now - window_ms(within))
    return " AND ".join(where), args


def _agg_expr(rule: EventAgg) -> tuple[str, list[Any]]:
    """The aggregate over a profile's matching events: COUNT, or SUM of the numeric property."""
    if rule.agg == "count":
        return "COUNT(*)", []
    path = f'$."{rule.prop}"'
    return "TOTAL(CASE WHEN json_type(props, ?) IN ('integer', 'real') THEN json_extract(props, ?) END)", [
        path,
        path,
    ]


def _occurrence(rule: Occurrence, now: int) -> tuple[str, list[Any]]:
    """The HAVING condition on a profile's events of the name: on MIN(ts) or MAX(ts)."""
    fn = "MIN(ts)" if rule.which == "first" else "MAX(ts)"
    if rule.op == "within":
        return f"{fn} >= ?", [now - window_ms(rule.window or "0s")]
    return f"{fn} {'<' if rule.op == 'before' else '>'} ?", [rule.at]


def _computed(key: str, cond: str, args: list[Any]) -> tuple[str, list[Any]]:
    return f"key = ? AND {cond}", [key, *args]


def _lifecycle_cond(rule: Lifecycle) -> tuple[str, list[Any]]:
    if isinstance(rule.value, list):
        return f"txt IN ({', '.join('?' * len(rule.value))})", list(rule.value)
    return f"txt {_SYM[rule.op]} ?", [rule.value]


def pid_set(app: str, rule: Rule, now: int, attrs: dict[str, str]) -> Sql:
    """``SELECT pid ...`` of the profiles (live or not) of ``app`` the rule holds for."""
    if isinstance(rule, And):
        pos = [i for i in rule.items if not isinstance(i, Not)]
        neg = [i.item for i in rule.items if isinstance(i, Not)]
        parts = [pid_set(app, i, now, attrs) for i in pos] or [(_ALL, [app])]
        sql = " INTERSECT ".join(p[0] for p in parts)
        args = [a for p in parts for a in p[1]]
        for n in neg:
            s, a = pid_set(app, n, now, attrs)
            sql, args = f"{sql} EXCEPT {s}", [*args, *a]
        return f"SELECT pid FROM ({sql})", args
    if isinstance(rule, Or):
        parts = [pid_set(app, i, now, attrs) for i in rule.items]
        return f"SELECT pid FROM ({' UNION '.join(p[0] for p in parts)})", [a for p in parts for a in p[1]]
    if isinstance(rule, Not):
        s, a = pid_set(app, rule.item, now, attrs)
        return f"SELECT pid FROM ({_ALL} EXCEPT {s})", [app, *a]
    return _leaf_set(app, rule, now, attrs)


def _leaf_set(app: str, rule: Rule, now: int, attrs: dict[str, str]) -> Sql:
    """The pid set of one clause: one indexed SELECT."""
    if isinstance(rule, Attr):
        cond, args = _attr_cond(rule, attrs.get(rule.key, "string"))
        return f"SELECT pid FROM aud_attrs WHERE app = ? AND key = ? AND {cond}", [app, rule.key, *args]
    if isinstance(rule, Tag | Sentiment):
        name = rule.name if isinstance(rule, Tag) else f"sentiment:{rule.label}"
        cond, args = _tag_cond(name, rule if isinstance(rule, Tag) else None, rule.within, now)
        return f"SELECT pid FROM aud_tags WHERE app = ? AND {cond}", [app, *args]
    if isinstance(rule, EventAgg):
        agg, agg_args = _agg_expr(rule)
        base = "SELECT pid FROM aud_events WHERE app = ? AND name = ? AND ts >= ? AND ts <= ? GROUP BY pid HAVING "
        args = [app, rule.event, now - window_ms(rule.window), now, *agg_args]
        if compare(rule.op, 0, rule.value):  # no events also qualifies: everyone but those failing it
            # Wrapped: a bare compound would bind left to the UNION/INTERSECT it is placed in.
            return f"SELECT pid FROM ({_ALL} EXCEPT {base}NOT ({agg} {_SYM[rule.op]} ?))", [
                app,
                *args,
                rule.value,
            ]
        return f"{base}{agg} {_SYM[rule.op]} ?", [*args, rule.value]
    if isinstance(rule, Occurrence):
        cond, args = _occurrence(rule, now)
        return f"SELECT pid FROM aud_events WHERE app = ? AND name = ? GROUP BY pid HAVING {cond}", [
            app, rule.event, *args,
        ]  # fmt: skip
    if isinstance(rule, Counter):
        key, cmp = f"count:{rule.event}", f"num {_SYM[rule.op]} ?"
        if compare(rule.op, 0, rule.value):
            return (
                f"SELECT pid FROM ({_ALL} EXCEPT SELECT pid FROM aud_computed WHERE app = ? AND key = ? AND NOT ({cmp}))",
                [app, app, key, rule.value],
            )
        return f"SELECT pid FROM aud_computed WHERE app = ? AND key = ? AND {cmp}", [app, key, rule.value]
    if isinstance(rule, Rfm | Lifecycle):
        key = f"rfm_{rule.dim}" if isinstance(rule, Rfm) else "lifecycle"
        cond, args = (
            (f"num {_SYM[rule.op]} ?", [rule.value]) if isinstance(rule, Rfm) else _lifecycle_cond(rule)
        )
        return f"SELECT pid FROM aud_computed WHERE app = ? AND key = ? AND {cond}", [app, key, *args]
    if isinstance(rule, Consent):
        return "SELECT pid FROM aud_consent WHERE app = ? AND topic = ? AND state = ?", [
            app,
            rule.topic,
            rule.state,
        ]
    if isinstance(rule, HasId):
        return "SELECT pid FROM aud_identifiers WHERE app = ? AND kind = ?", [app, rule.kind]
    if isinstance(rule, Rated):
        return f"{_TICKETS}t.score BETWEEN 1 AND ?", [app, rule.max]
    if isinstance(rule, OpenTicket):
        return f"{_TICKETS}t.state != 'resolved'", [app]
    if isinstance(rule, SegmentRef):
        return "SELECT pid FROM aud_segment_members WHERE app = ? AND seg = ?", [app, rule.id]
    raise TypeError(f"not a clause: {rule!r}")


def predicate(rule: Rule, now: int, attrs: dict[str, str]) -> Sql:
    """A 0/1 SQL expression: does the rule hold for the ``aud_profiles`` row aliased ``p``?"""
    if isinstance(rule, And | Or):
        parts = [predicate(i, now, attrs) for i in rule.items]
        word = " AND " if isinstance(rule, And) else " OR "
        return f"({word.join(p[0] for p in parts)})", [a for p in parts for a in p[1]]
    if isinstance(rule, Not):
        s, a = predicate(rule.item, now, attrs)
        return f"(NOT {s})", a
    return _leaf_predicate(rule, now, attrs)


def _exists(table: str, cond: str, args: list[Any]) -> Sql:
    return f"EXISTS (SELECT 1 FROM {table} x WHERE x.app = p.app AND x.pid = p.pid AND {cond})", args


def _leaf_predicate(rule: Rule, now: int, attrs: dict[str, str]) -> Sql:
    """One clause as a per-profile 0/1 expression probing the profile's rows by key."""
    if isinstance(rule, Attr):
        cond, args = _attr_cond(rule, attrs.get(rule.key, "string"))
        return _exists("aud_attrs", f"key = ? AND {cond}", [rule.key, *args])
    if isinstance(rule, Tag | Sentiment):
        name = rule.name if isinstance(rule, Tag) else f"sentiment:{rule.label}"
        cond, args = _tag_cond(name, rule if isinstance(rule, Tag) else None, rule.within, now)
        return _exists("aud_tags", cond, args)
    if isinstance(rule, EventAgg):
        agg, agg_args = _agg_expr(rule)
        sub = "SELECT {agg} FROM aud_events x WHERE x.app = p.app AND x.pid = p.pid AND name = ? AND ts >= ? AND ts <= ?"
        args = [*agg_args, rule.event, now - window_ms(rule.window), now, rule.value]
        return f"(({sub.format(agg=agg)}) {_SYM[rule.op]} ?)", args
    if isinstance(rule, Occurrence):
        cond, args = _occurrence(rule, now)  # "MIN(ts) >= ?": NULL (no events) counts as false
        sub = "SELECT {fn} FROM aud_events x WHERE x.app = p.app AND x.pid = p.pid AND name = ?"
        fn, rest = cond.split(" ", 1)
        return f"COALESCE(({sub.format(fn=fn)}) {rest}, 0)", [rule.event, *args]
    if isinstance(rule, Counter):
        sub = "SELECT num FROM aud_computed x WHERE x.app = p.app AND x.pid = p.pid AND key = ?"
        return f"(COALESCE(({sub}), 0) {_SYM[rule.op]} ?)", [f"count:{rule.event}", rule.value]
    if isinstance(rule, Rfm):
        return _exists("aud_computed", *_computed(f"rfm_{rule.dim}", f"num {_SYM[rule.op]} ?", [rule.value]))
    if isinstance(rule, Lifecycle):
        return _exists("aud_computed", *_computed("lifecycle", *_lifecycle_cond(rule)))
    if isinstance(rule, Consent):
        return _exists("aud_consent", "topic = ? AND state = ?", [rule.topic, rule.state])
    if isinstance(rule, HasId):
        return _exists("aud_identifiers", "kind = ?", [rule.kind])
    if isinstance(rule, Rated | OpenTicket):
        cond, args = (
            ("t.score BETWEEN 1 AND ?", [rule.max])
            if isinstance(rule, Rated)
            else ("t.state != 'resolved'", [])
        )
        sub = (
            "SELECT 1 FROM aud_identifiers x JOIN tickets t ON t.app = x.app AND t.customer = x.value "
            f"WHERE x.app = p.app AND x.pid = p.pid AND x.kind = 'user' AND {cond}"
        )
        return f"EXISTS ({sub})", args
    if isinstance(rule, SegmentRef):
        return _exists("aud_segment_members", "seg = ?", [rule.id])
    raise TypeError(f"not a clause: {rule!r}")
