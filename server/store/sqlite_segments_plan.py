"""Planning a segment rule on SQLite from the data: which clause drives, and how to sample.

The set form of :mod:`parley.server.store.sqlite_segments_sql` turns ``a and b`` into
``a INTERSECT b``, which reads both sets whole: 200 000 + 400 000 index entries to find 80 000
members. Here, inside the worker thread, a conjunction is instead **driven** by its most selective
clause and the other clauses are checked per candidate by primary-key probes (the predicate form):

* candidates are the positive clauses whose set is an index range scan (not ``not x``, not a
  clause that zero events satisfy — that set is "everyone but ..."); an ``or`` of such clauses
  counts as the sum of its items;
* each candidate's size is measured by an indexed ``COUNT`` capped at the best size so far
  (``LIMIT best``), so choosing costs at most (number of clauses) x (the smallest clause's size),
  the same order as evaluating the rule; an empty clause ends the choice at once;
* the statement is ``p.pid IN (<driver's set>) AND <predicate of the other clauses>``, unless all
  the clauses are index range scans of about the driver's size (a probe costs a few set entries:
  ``PROBE_COST``), where ``INTERSECT`` of the sets, read in sequence, is cheaper.

A rule with no driver (a top-level ``or`` / ``not``) that is broad is **counted through its
complement** when its negation (``not`` pushed down by De Morgan) has a driver:
``live - |not rule|``.

The first members by pid (the preview's sample) come from walking the live profiles in pid order
with the predicate, stopping at ``limit`` members or after ``WALK_BUDGET`` profiles; only a sparse
rule falls back to the planned set ordered by pid. Every plan is the same rule: the contract suite
(``tests/server/store/test_segments_contract.py``) holds all of them to a reference evaluator.
"""

from __future__ import annotations

from typing import Any

from parley.proto.segments import And, Counter, EventAgg, Not, Or, Rule, compare
from parley.server.store.sqlite_segments_sql import pid_set, predicate
from parley.server.store.sqlite_worker import Db

__all__ = ["PROBE_COST", "WALK_BUDGET", "count_members", "first_members", "members_sql", "plan_kind"]

Sql = tuple[str, list[Any]]
#: Profiles the sample walks in pid order before it uses the planned set instead.
WALK_BUDGET = 20_000
#: What one per-candidate probe costs in set entries read (see :func:`_cheaper_to_intersect`).
PROBE_COST = 3
_LIVE_COUNT = "SELECT COUNT(*) FROM aud_profiles WHERE app = ? AND merged_into = ''"
_LIVE = "SELECT p.pid FROM aud_profiles p WHERE p.app = ? AND p.merged_into = ''"


def _items(rule: And) -> list[Rule]:
    """The conjuncts of ``rule``, nested ``and`` flattened (the same conjunction)."""
    out: list[Rule] = []
    for item in rule.items:
        out += _items(item) if isinstance(item, And) else [item]
    return out


def _drivable(rule: Rule) -> bool:
    """Is the clause's set an index range scan (so its size bounds the work of driving by it)?"""
    if isinstance(rule, Not | And):
        return False
    if isinstance(rule, Or):
        return all(_drivable(i) for i in rule.items)
    if isinstance(rule, EventAgg | Counter):
        return not compare(rule.op, 0, rule.value)  # "zero qualifies" is everyone-but: not a driver
    return True


def _size(db: Db, app: str, rule: Rule, now: int, attrs: dict[str, str], cap: int) -> int:
    """The clause's number of pids, counted no further than ``cap`` (an ``or``: its items' sum)."""
    if isinstance(rule, Or):
        total = 0
        for item in rule.items:
            total += _size(db, app, item, now, attrs, cap - total)
            if total >= cap:
                break
        return total
    sql, args = pid_set(app, rule, now, attrs)
    n: int = db.execute(f"SELECT COUNT(*) FROM ({sql} LIMIT ?)", [*args, cap]).fetchone()[0]
    return n


def _driver(db: Db, app: str, items: list[Rule], now: int, attrs: dict[str, str]) -> tuple[int, int] | None:
    """(index in ``items``, size) of the smallest drivable clause; None if none is drivable."""
    best: tuple[int, int] | None = None
    for i, item in enumerate(items):
        if not _drivable(item):
            continue
        cap = best[1] if best is not None else 1 << 62
        n = _size(db, app, item, now, attrs, cap)
        if best is None or n < best[1]:
            best = (i, n)
        if n == 0:
            break
    return best


def _negate(rule: Rule) -> Rule:
    """``not rule`` with the ``not`` pushed through and/or (De Morgan), so it can be driven."""
    if isinstance(rule, Not):
        return rule.item
    if isinstance(rule, Or):
        return And(items=[_negate(i) for i in rule.items])
    if isinstance(rule, And):
        return Or(items=[_negate(i) for i in rule.items])
    return Not(item=rule)


def _cheaper_to_intersect(
    db: Db, app: str, rest: list[Rule], size: int, now: int, attrs: dict[str, str]
) -> bool:
    """Would ``INTERSECT`` of every clause's set cost less than ``size`` x ``len(rest)`` probes?

    A probe is a few random seeks, a set entry one step of a sequential index scan: measured
    in one process on the 1 000 000-profile benchmark, a probe costs about ``PROBE_COST`` entries.
    Only when all the other clauses are index range scans of about the driver's size (each counted
    no further than that budget) is the set form the cheaper one.
    """
    budget = PROBE_COST * size * len(rest)
    total = size
    for item in rest:
        if not _drivable(item):
            return False  # its set is "everyone but ...": a whole-app read
        total += _size(db, app, item, now, attrs, budget - total + 1)
        if total > budget:
            return False
    return total > 0


def members_sql(db: Db, app: str, rule: Rule, now: int, attrs: dict[str, str]) -> tuple[Sql, int | None]:
    """``SELECT p.pid`` of the live members (alias ``p``), and the driver's size if one drives."""
    items: list[Rule] = _items(rule) if isinstance(rule, And) else [rule]
    found = _driver(db, app, items, now, attrs) if isinstance(rule, And) else None
    rest = [item for i, item in enumerate(items) if found is None or i != found[0]]
    if found is None or (rest and _cheaper_to_intersect(db, app, rest, found[1], now, attrs)):
        sql, args = pid_set(app, rule, now, attrs)
        return (f"{_LIVE} AND p.pid IN ({sql})", [app, *args]), None
    drive, size = found
    sql, args = pid_set(app, items[drive], now, attrs)
    if not rest:
        return (f"{_LIVE} AND p.pid IN ({sql})", [app, *args]), size
    cond, cargs = predicate(rest[0] if len(rest) == 1 else And(items=rest), now, attrs)
    return (f"{_LIVE} AND p.pid IN ({sql}) AND {cond}", [app, *args, *cargs]), size


def _complement(db: Db, app: str, rule: Rule, now: int, attrs: dict[str, str]) -> Sql | None:
    """``SELECT live - |not rule|`` when the rule has no driver but its negation has; else None."""
    if _drivable(rule) or isinstance(rule, And):
        return None  # its own set form reads only index ranges, or (an "and") it was planned already
    negated = _negate(rule)
    (nsql, nargs), nsize = members_sql(db, app, negated, now, attrs)
    if nsize is None and not _drivable(negated):
        return None
    return f"SELECT ({_LIVE_COUNT}) - (SELECT COUNT(*) FROM ({nsql}))", [app, *nargs]


def plan_kind(db: Db, app: str, rule: Rule, now: int, attrs: dict[str, str]) -> str:
    """How :func:`count_members` evaluates the rule: ``driven``, ``complement`` or ``set``."""
    if members_sql(db, app, rule, now, attrs)[1] is not None:
        return "driven"
    return "complement" if _complement(db, app, rule, now, attrs) is not None else "set"


def count_members(db: Db, app: str, rule: Rule, now: int, attrs: dict[str, str]) -> int:
    """The number of live members: the planned set, or ``live - |not rule|`` when only that drives."""
    (sql, args), size = members_sql(db, app, rule, now, attrs)
    query = _complement(db, app, rule, now, attrs) if size is None else None
    n: int = db.execute(*(query or (f"SELECT COUNT(*) FROM ({sql})", args))).fetchone()[0]
    return n


def first_members(
    db: Db, app: str, rule: Rule, now: int, attrs: dict[str, str], limit: int, budget: int = WALK_BUDGET
) -> list[str]:
    """The first ``limit`` live members by pid: a walk in pid order over at most ``budget`` live
    profiles (a dense rule finds them at once), else the planned set ordered by pid."""
    if limit <= 0:
        return []
    cond, cargs = predicate(rule, now, attrs)
    walk = f"SELECT p.pid, {cond} FROM aud_profiles p WHERE p.app = ? AND p.merged_into = '' ORDER BY p.pid LIMIT ?"
    cur = db.execute(walk, [*cargs, app, budget])
    out, seen = [], 0
    try:
        for pid, ok in cur:
            seen += 1
            if ok:
                out.append(pid)
                if len(out) == limit:
                    return out
    finally:
        cur.close()
    if seen < budget:  # walked every live profile: complete
        return out
    (sql, args), _ = members_sql(db, app, rule, now, attrs)
    rows = db.execute(f"{sql} ORDER BY p.pid LIMIT ?", [*args, limit]).fetchall()
    return [r[0] for r in rows]
