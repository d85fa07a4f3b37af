"""The segment rule language: text and JSON round trips (hypothesis), validation codes and paths."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from parley.proto.errors import ErrorCode
from parley.proto.segments import (
    And,
    Attr,
    EventAgg,
    Not,
    OpenTicket,
    Or,
    Rule,
    SegmentError,
    SegmentRef,
    decode_rule,
    encode_rule,
    find_cycle,
)
from parley.proto.segments_check import validate
from parley.proto.segments_text import parse, to_text
from tests.proto.segment_strategies import SCHEMA, rules

BRIEF = (
    'attr.city = "Shanghai" and tag("interest:shoes", min=0.7) and count(event "view", 7d) >= 3'
    ' and not segment("vip")'
)

CANONICAL = [
    BRIEF,
    'attr.age between 18 and 30 or lifecycle in ("new", "active") and rfm.r >= 4',
    '(open_ticket or has_id("phone")) or segment("a")',
    'not (consent("marketing:sms", "denied") or has_id("phone"))',
    'support_rating <= 2 and open_ticket and sentiment("negative", 24h)',
    'sum(event "purchase", "amount", 30d) > 100.5',
    'attr["we ird"] exists and attr.interests contains "shoes" and attr.city prefix "Sh"',
    'first(event "purchase") before 1733000000000 and last(event "view") within 30d',
    'counter("view") >= 3 and not not tag("vip", source="agent", within=2w)',
    "attr.vip = true and attr.age in (1, 2.5, -3) and attr.signup >= 1700000000000",
]


@pytest.mark.parametrize("text", CANONICAL)
def test_canonical_texts_round_trip(text: str) -> None:
    rule = parse(text)
    assert to_text(rule) == text
    assert decode_rule(encode_rule(rule)) == rule


def test_the_brief_example_parses_to_the_expected_tree() -> None:
    rule = parse(BRIEF)
    assert isinstance(rule, And) and len(rule.items) == 4
    assert rule.items[0] == Attr("city", "eq", "Shanghai")
    assert rule.items[2] == EventAgg("count", "view", "7d", "ge", 3)
    assert rule.items[3] == Not(SegmentRef("vip"))
    validate(rule, {"city": "string"})


@given(rules())
@example(Or([Or([OpenTicket(), OpenTicket()]), OpenTicket()]))
@example(And([And([OpenTicket(), OpenTicket()]), Or([OpenTicket(), Not(And([OpenTicket(), OpenTicket()]))])]))
def test_text_round_trips_exactly(rule: Rule) -> None:
    """parse(print(x)) == x for every valid rule, and the printed form is a fixed point."""
    validate(rule, SCHEMA)
    text = to_text(rule)
    assert parse(text) == rule
    assert to_text(parse(text)) == text


@given(rules())
def test_json_round_trips_exactly(rule: Rule) -> None:
    assert decode_rule(encode_rule(rule)) == rule
    assert decode_rule(encode_rule(rule).decode()) == rule


@given(
    st.text(max_size=60) | rules().map(to_text).flatmap(lambda t: st.integers(0, len(t)).map(lambda i: t[:i]))
)
def test_any_text_either_parses_or_is_refused_with_segment_invalid(text: str) -> None:
    """Truncated and random texts never escape as another exception."""
    try:
        parse(text)
    except SegmentError as exc:
        assert exc.code is ErrorCode.SEGMENT_INVALID and exc.path.startswith("@")


@pytest.mark.parametrize(
    ("text", "path", "words"),
    [
        ('attr.zip = "1"', "/key", "unknown attribute"),
        ('attr.city < "a"', "/op", "does not apply to string"),
        ("attr.age = true", "/value", "does not fit"),
        ('attr.interests = "x"', "/op", "does not apply"),
        ("attr.age between 30 and 18", "/value", "does not fit"),
        ('open_ticket and count(event "view", 0d) >= 1', "/items/1/window", "longer than zero"),
        ('count(event "view", 36500d) >= 1', "/window", "over the bound"),
        ('not last(event "view") within 100y', "@30", "expected a window"),
        ('sentiment("negative", 5218w)', "/within", "over the bound"),
        ("rfm.r >= 6", "/value", "within 0..5"),
        ("support_rating <= 0", "/max", "1..5"),
        ('tag("x", min=1.5)', "/min", "0..1"),
        ('attr.city = "x" and', "@19", "expected a word"),
        ('unknown("x")', "@0", "unknown clause"),
    ],
)
def test_invalid_rules_get_segment_invalid_with_the_clause_path(text: str, path: str, words: str) -> None:
    with pytest.raises(SegmentError) as info:
        validate(parse(text), SCHEMA)
    assert info.value.code is ErrorCode.SEGMENT_INVALID
    assert info.value.path == path
    assert words in info.value.message


def test_nesting_too_deep_is_refused_at_the_deep_clause() -> None:
    rule: Rule = OpenTicket()
    for _ in range(8):
        rule = Not(rule)
    with pytest.raises(SegmentError) as info:
        validate(rule, SCHEMA)
    assert info.value.path == "/item" * 8 and "deeper than 8" in info.value.message
    validate(Not(Not(OpenTicket())), SCHEMA, max_depth=3)


def test_json_shape_errors_point_at_the_field() -> None:
    with pytest.raises(SegmentError) as info:
        decode_rule(b'{"type":"and","items":[{"type":"attr","key":"a","op":"zz"}]}')
    assert info.value.code is ErrorCode.SEGMENT_INVALID and info.value.path == "/items/0/op"
    with pytest.raises(SegmentError):
        decode_rule(b'{"type":"nope"}')


def test_and_or_need_two_items() -> None:
    with pytest.raises(SegmentError) as info:
        validate(Or([OpenTicket()]), SCHEMA)
    assert info.value.path == "/items"


def test_cycles_of_nested_segments_are_found() -> None:
    saved = {"b": parse('segment("c") or open_ticket'), "c": parse('segment("a")'), "d": parse("open_ticket")}
    assert find_cycle("a", parse('segment("b")'), saved.get) == ["a", "b", "c", "a"]
    assert find_cycle("a", parse('segment("a")'), saved.get) == ["a", "a"]
    assert find_cycle("a", parse('segment("d") and segment("d")'), saved.get) is None
    assert find_cycle("a", parse('segment("unknown")'), saved.get) is None
