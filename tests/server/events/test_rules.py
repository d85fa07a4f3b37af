"""Behaviour-tag rules (``server/events_rules.py``): examples and properties against an oracle."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from parley.server.events_rules import BehaviourRule, evaluate_rule, parse_rules, plan_rule_tags
from parley.server.events_scores import SchemaError
from parley.server.models import TagRecord

DAY = 86_400_000
NOW = 100 * DAY
DECLARED = {
    "viewed": {"category": "string", "price": "number", "promo": "bool"},
    "bought": {"amount": "number"},
}
INTEREST = BehaviourRule(
    "interest", "viewed", "interest:{category}", min_count=3, window_days=7, group_by="category"
)


@dataclass(frozen=True)
class E:
    eid: str
    name: str
    ts: int
    props: dict[str, Any] = field(default_factory=dict)


def viewed(eid: str, days_ago: float, category: str = "shoes", **more: Any) -> E:
    return E(eid, "viewed", NOW - int(days_ago * DAY), {"category": category, **more})


def test_three_views_of_a_category_in_seven_days_give_interest_with_provenance() -> None:
    events = [viewed("a", 6), viewed("b", 3), viewed("c", 1), viewed("d", 2, "hats"), viewed("x", 9)]
    hits = evaluate_rule(INTEREST, events, NOW)
    assert list(hits) == ["interest:shoes"], "hats seen once, the 9-day-old view is outside the window"
    hit = hits["interest:shoes"]
    assert (hit.count, hit.eids) == (3, ("a", "b", "c"))
    assert hit.lapses == NOW - 6 * DAY + 7 * DAY, (
        "holds until the oldest of the three needed leaves the window"
    )
    to_set, to_remove = plan_rule_tags(INTEREST, hits, {}, NOW)
    assert to_remove == []
    [tag] = to_set
    assert (tag.name, tag.source, tag.expires) == ("interest:shoes", "rule", hit.lapses)
    assert tag.evidence == "rule:interest 3 viewed in 7d: a,b,c"


def test_a_tag_no_longer_holding_is_removed_only_if_the_rule_says_so() -> None:
    held = {
        "interest:shoes": TagRecord(
            "interest:shoes", "rule", 1.0, "rule:interest 3 viewed in 7d: a,b,c", 1, 5
        ),
        "interest:hats": TagRecord("interest:hats", "agent", 1.0, "said so", 1, 0),
        "vip": TagRecord("vip", "rule", 1.0, "rule:other 1 bought in 7d: z", 1, 0),
    }
    later = NOW + 30 * DAY
    hits = evaluate_rule(INTEREST, [viewed("a", 6)], later)
    assert hits == {}
    assert plan_rule_tags(INTEREST, hits, held, later) == ([], ["interest:shoes"]), (
        "not the agent's, not another rule's"
    )
    assert plan_rule_tags(INTEREST, hits, held, later, scope={"interest:hats"}) == ([], []), (
        "applying a view of hats evaluates hats only: the shoes tag waits for its own events or the pass"
    )
    keep = BehaviourRule(
        "interest", "viewed", "interest:{category}", min_count=3, group_by="category", remove=False
    )
    assert plan_rule_tags(keep, hits, held, later) == ([], [])


def test_another_sources_tag_of_the_same_name_is_left_alone_and_no_churn_on_repeat() -> None:
    events = [viewed("a", 3), viewed("b", 2), viewed("c", 1)]
    hits = evaluate_rule(INTEREST, events, NOW)
    agent = {"interest:shoes": TagRecord("interest:shoes", "agent", 0.5, "", 1, 0)}
    assert plan_rule_tags(INTEREST, hits, agent, NOW) == ([], [])
    [tag], _ = plan_rule_tags(INTEREST, hits, {}, NOW)
    assert plan_rule_tags(INTEREST, hits, {tag.name: tag}, NOW) == ([], []), "same hit: no new history line"
    more = evaluate_rule(INTEREST, [*events, viewed("d", 0.5)], NOW)
    [renewed], _ = plan_rule_tags(INTEREST, more, {tag.name: tag}, NOW)
    assert renewed.expires > tag.expires, "a newer event keeps it alive longer"


def test_where_conditions_are_typed_equalities() -> None:
    promo = BehaviourRule("promo", "viewed", "promo-hunter", min_count=2, where={"promo": True})
    events = [viewed("a", 1, promo=True), viewed("b", 1, promo=1), viewed("c", 2, promo=True)]
    assert evaluate_rule(promo, events, NOW)["promo-hunter"].eids == ("c", "a"), "1 is not True"
    assert evaluate_rule(promo, events[:2], NOW) == {}


@pytest.mark.parametrize(
    ("rule", "path"),
    [
        ({"id": "r", "event": "nope", "tag": "t"}, "rules.0.event"),
        ({"id": "r", "event": "viewed", "tag": "t:{category}"}, "rules.0.tag"),
        ({"id": "r", "event": "viewed", "tag": "t", "group_by": "category"}, "rules.0.tag"),
        ({"id": "r", "event": "viewed", "tag": "t:{price}", "group_by": "price"}, "rules.0.group_by"),
        ({"id": "r", "event": "viewed", "tag": "t", "where": {"price": "high"}}, "rules.0.where.price"),
        ({"id": "r", "event": "viewed", "tag": "t", "window_days": 0}, "rules.0.window_days"),
        ({"id": "r", "event": "viewed", "tag": "t", "min_count": 0}, "rules.0.min_count"),
        ({"id": "r-1", "event": "viewed", "tag": "t"}, "rules.0.id"),
    ],
)
def test_bad_rules_are_refused_with_the_path_of_the_mistake(rule: dict[str, Any], path: str) -> None:
    with pytest.raises(SchemaError) as err:
        parse_rules([rule], DECLARED)
    assert err.value.path == path


def test_a_good_rule_parses() -> None:
    raw = {
        "id": "interest",
        "event": "viewed",
        "tag": "interest:{category}",
        "group_by": "category",
        "min_count": 3,
    }
    assert parse_rules([raw], DECLARED) == (INTEREST,)
    with pytest.raises(SchemaError, match="unique"):
        parse_rules([raw, raw], DECLARED)


events_st = st.lists(
    st.builds(
        E,
        eid=st.text("abcdef", min_size=1, max_size=3),
        name=st.sampled_from(["viewed", "bought"]),
        ts=st.integers(NOW - 20 * DAY, NOW + DAY),
        props=st.fixed_dictionaries({"category": st.sampled_from(["shoes", "hats", "", 3])}),
    ),
    max_size=30,
)


@settings(max_examples=300)
@given(events=events_st, min_count=st.integers(1, 5), window=st.integers(1, 10))
def test_a_tag_holds_exactly_when_the_window_has_min_count_matching_events(
    events: list[E], min_count: int, window: int
) -> None:
    rule = BehaviourRule(
        "r", "viewed", "i:{category}", min_count=min_count, window_days=window, group_by="category"
    )
    hits = evaluate_rule(rule, events, NOW)
    for category in ("shoes", "hats"):
        inside = [
            e
            for e in events
            if e.name == "viewed" and e.props["category"] == category and NOW - window * DAY <= e.ts <= NOW
        ]
        tag = f"i:{category}"
        assert (tag in hits) == (len(inside) >= min_count)
        if tag in hits:
            hit = hits[tag]
            assert hit.count == len(inside)
            # with nothing newer arriving, it holds until the lapse time and not from then on
            past = [e for e in events if e.ts <= NOW]
            assert tag in evaluate_rule(rule, past, hit.lapses - 1)
            assert tag not in evaluate_rule(rule, past, hit.lapses + 1)
    assert set(hits) <= {"i:shoes", "i:hats"}, "no tag from an empty or non-string group value"


@settings(max_examples=200)
@given(events=events_st, extra=events_st)
def test_more_events_never_take_a_tag_away(events: list[E], extra: list[E]) -> None:
    hits = evaluate_rule(INTEREST, events, NOW)
    more = evaluate_rule(INTEREST, events + extra, NOW)
    assert set(hits) <= set(more)
    for tag, hit in hits.items():
        assert more[tag].count >= hit.count and more[tag].lapses >= hit.lapses
