"""The SQLite segment planner (server/store/sqlite_segments_plan.py) against the reference evaluator.

Each branch of the planner — a conjunction driven by its most selective clause (wherever it is
listed, an ``or`` as driver, an empty clause, every clause broad, clauses that can never drive),
a broad rule counted through its complement, the plain set form, and the sample's walk in pid order
cut short by its budget (1 and 4 profiles) so that it falls back to the planned set — must give exactly the members
of the plain-Python reading of the rule, on the contract suite's fixture population in a real
SQLite file. The branch taken is asserted too, so a test cannot pass by never reaching it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings

from parley.proto.segments import And, Not, Rule
from parley.proto.segments_check import validate
from parley.proto.segments_text import parse
from parley.server.store.sqlite import SQLiteStore
from parley.server.store.sqlite_segments_plan import count_members, first_members, plan_kind
from tests.proto.segment_strategies import rules
from tests.server.store.segment_population import ATTR_TYPES, LAYOUT_DDL, NOW, Person, generate, load_sqlite
from tests.server.store.segment_reference import members_of

STORED = {"vip": {"p_001", "p_002", "p_005", "p_010", "p_030"}}
ATTRS = dict(ATTR_TYPES)
#: (rule, the plan ``count_members`` must choose)
PLANS = [
    # driven: the selective clause listed last still drives; nested "and" is the same conjunction
    ('has_id("user") and attr.city exists and tag("interest:shoes", min=0.7)', "driven"),
    ('has_id("user") and (consent("marketing") and segment("vip"))', "driven"),
    # an empty clause drives (nothing to probe), wherever it is
    ('attr.city exists and tag("no-such-tag")', "driven"),
    ('attr.city = "Nowhere" and not open_ticket', "driven"),
    # every clause broad (about the driver's size): INTERSECT of the sets is cheaper than probes
    ('has_id("user") and attr.city exists and attr.age >= 0', "set"),
    ('has_id("user") and attr.city exists', "set"),
    # an "or" of index scans drives; "zero qualifies" clauses and "not" never do
    ('(lifecycle = "new" or rfm.r >= 5) and count(event "view", 7d) < 2', "driven"),
    ('counter("view") < 3 and not consent("marketing") and has_id("phone")', "driven"),
    # nothing drives: the set form
    ('counter("view") < 3 and not consent("marketing")', "set"),
    ('attr.city = "Shanghai" or tag("interest:shoes")', "set"),
    # broad "or" / "not": counted as live - |not rule|
    ('attr.vip = true or not (lifecycle = "churned" or attr.age < 25)', "complement"),
    ('not (attr.city = "Beijing" and has_id("phone"))', "complement"),
    ('not tag("no-such-tag")', "complement"),
    ('not (counter("view") < 3 and has_id("user"))', "complement"),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[Person]]]:
    """A real SQLite store holding the fixture population; yields (run-on-worker, people)."""
    people = generate()
    loop = asyncio.new_event_loop()
    store = SQLiteStore(str(tmp_path_factory.mktemp("plan") / "s.db"))

    async def setup() -> None:
        await store.open()
        await store.worker.run(lambda c: (c.executescript(LAYOUT_DDL), load_sqlite(c, people)))
        for seg, pids in STORED.items():
            await store.change_members("app1", seg, pids, ())

    loop.run_until_complete(setup())

    def run(fn: Any) -> Any:
        return loop.run_until_complete(store.worker.run(fn))

    try:
        yield run, people
    finally:
        loop.run_until_complete(store.close())
        loop.close()


def _agrees(db: tuple[Any, list[Person]], rule: Rule, app: str = "app1") -> list[str]:
    """Count and the first members (every walk budget, so both sample branches) equal the reference."""
    run, people = db
    expected = members_of(rule, people, app, NOW, STORED if app == "app1" else {})
    assert run(lambda c: count_members(c, app, rule, NOW, ATTRS)) == len(expected)
    for budget in (1, 4, 10_000):
        for limit in (1, 3, 50):
            got = run(lambda c, n=limit, b=budget: first_members(c, app, rule, NOW, ATTRS, n, b))
            assert got == expected[:limit], (budget, limit)
    return expected


@pytest.mark.parametrize(("text", "kind"), PLANS)
def test_each_plan_gives_the_reference_members(db: tuple[Any, list[Person]], text: str, kind: str) -> None:
    rule = parse(text)
    validate(rule, ATTR_TYPES)
    assert db[0](lambda c: plan_kind(c, "app1", rule, NOW, ATTRS)) == kind
    _agrees(db, rule)
    _agrees(db, rule, "app2")


@settings(max_examples=60, deadline=None)
@given(rules(small=True, now=NOW), rules(small=True, now=NOW))
def test_random_conjunctions_and_negations_give_the_reference_members(
    db: tuple[Any, list[Person]], a: Rule, b: Rule
) -> None:
    """Differential over every branch: ``a``, ``a and b``, ``not (a and b)``, with small walk budgets."""
    for rule in (a, And(items=[a, b]), Not(item=And(items=[a, b]))):
        validate(rule, ATTR_TYPES)
        _agrees(db, rule)
