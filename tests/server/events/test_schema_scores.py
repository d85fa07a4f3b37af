"""Event validation against the app's schema, RFM quintiles and lifecycle stages (pure)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError
from parley.server.events_schema import EventLimits, SchemaError, parse_events_config, validate_event
from parley.server.events_scores import LifecycleThresholds, lifecycle_stage, quintile_edges, rfm_score

DAY = 86_400_000
NOW = 1000 * DAY
DOC = {
    "events": {
        "viewed": {
            "properties": {"category": "string", "price": "number", "promo": "bool", "at": "datetime"}
        },
        "purchase": {"properties": {"amount": "number", "skus": "string_list"}},
    },
    "retention_days": 60,
    "rfm": {"event": "purchase", "amount": "amount"},
    "lifecycle": {"activity": ["viewed", "purchase"], "at_risk_days": 20, "churn_days": 50},
}
CONFIG = parse_events_config(DOC)
LIMITS = EventLimits(props_max=5, prop_bytes=16, max_age=90 * 86400, clock_skew=300)


def check(name: str, props: dict[str, Any], ts: int = NOW) -> dict[str, Any]:
    return validate_event(CONFIG, name, props, ts, NOW, LIMITS)


def refused(name: str, props: dict[str, Any], ts: int = NOW) -> tuple[ErrorCode, str]:
    with pytest.raises(ServiceError) as err:
        check(name, props, ts)
    return err.value.code, err.value.message


def test_a_declared_event_with_typed_properties_is_accepted() -> None:
    props = {"category": "shoes", "price": 9.5, "promo": False, "at": 5}
    assert check("viewed", props) == props
    assert check("purchase", {"amount": 3, "skus": ["a", "b"]}) == {"amount": 3, "skus": ["a", "b"]}
    assert check("viewed", {}) == {}, "properties are optional"


@pytest.mark.parametrize(
    ("name", "props", "code", "where"),
    [
        ("signup", {}, ErrorCode.EVENT_UNKNOWN, "signup"),
        ("lifecycle_changed", {"from": "", "to": "new"}, ErrorCode.EVENT_UNKNOWN, "lifecycle_changed"),
        ("viewed", {"colour": "red"}, ErrorCode.EVENT_INVALID, "properties.colour"),
        ("viewed", {"price": "9"}, ErrorCode.EVENT_INVALID, "properties.price"),
        ("viewed", {"price": True}, ErrorCode.EVENT_INVALID, "properties.price"),
        ("viewed", {"price": float("nan")}, ErrorCode.EVENT_INVALID, "properties.price"),
        ("viewed", {"promo": 1}, ErrorCode.EVENT_INVALID, "properties.promo"),
        ("viewed", {"at": -1}, ErrorCode.EVENT_INVALID, "properties.at"),
        ("viewed", {"category": "x" * 17}, ErrorCode.EVENT_INVALID, "properties.category"),
        ("purchase", {"skus": ["a", 1]}, ErrorCode.EVENT_INVALID, "properties.skus"),
        ("viewed", {f"p{i}": 1 for i in range(6)}, ErrorCode.EVENT_INVALID, "properties"),
    ],
)
def test_bad_events_get_a_stable_code_naming_the_property(
    name: str, props: dict[str, Any], code: ErrorCode, where: str
) -> None:
    got, message = refused(name, props)
    assert got == code and where in message


def test_times_are_bounded_by_age_retention_and_clock_skew() -> None:
    assert check("viewed", {}, NOW + 300_000) == {}
    assert refused("viewed", {}, NOW + 300_001)[0] == ErrorCode.EVENT_IN_FUTURE
    assert check("viewed", {}, NOW - 60 * DAY) == {}, "the app keeps 60 days: accepted up to that"
    assert refused("viewed", {}, NOW - 60 * DAY - 1)[0] == ErrorCode.EVENT_TOO_OLD
    long = parse_events_config({**DOC, "retention_days": 365})
    assert validate_event(long, "viewed", {}, NOW - 90 * DAY, NOW, LIMITS) == {}
    with pytest.raises(ServiceError, match="older"):
        validate_event(long, "viewed", {}, NOW - 90 * DAY - 1, NOW, LIMITS)


@pytest.mark.parametrize(
    ("doc", "path"),
    [
        ({"events": []}, "events"),
        ({"events": {"a b": {"properties": {}}}}, "events.a b"),
        ({"events": {"v": {"properties": {"p": "text"}}}}, "events.v.properties.p"),
        ({"events": {"lifecycle_changed": {"properties": {}}}}, "events.lifecycle_changed"),
        ({"retention_days": 0}, "retention_days"),
        ({"rfm": {"event": "nope"}}, "rfm.event"),
        ({**DOC, "rfm": {"event": "purchase", "amount": "skus"}}, "rfm.amount"),
        ({**DOC, "lifecycle": {"at_risk_days": 90, "churn_days": 30}}, "lifecycle"),
        ({**DOC, "lifecycle": {"activity": ["lifecycle_changed"]}}, "lifecycle.activity"),
        ({**DOC, "lifecycle": {"churn_days": 60}}, "lifecycle.churn_days"),
        (
            {**DOC, "rules": [{"id": "r", "event": "viewed", "tag": "t", "window_days": 60}]},
            "rules.0.window_days",
        ),
        ({**DOC, "rfm": {"event": "purchase", "window_days": 61}}, "rfm.window_days"),
    ],
)
def test_a_bad_events_schema_is_refused_with_a_path(doc: dict[str, Any], path: str) -> None:
    with pytest.raises(SchemaError) as err:
        parse_events_config(doc)
    assert err.value.path == path


@given(st.lists(st.integers(0, 10**6), min_size=1, max_size=200, unique=True))
def test_quintiles_of_distinct_values_are_balanced_and_monotone(values: list[int]) -> None:
    ordered = sorted(values)
    edges = quintile_edges(ordered)
    scores = [rfm_score(v, edges) for v in ordered]
    assert scores == sorted(scores) and set(scores) <= {1, 2, 3, 4, 5}
    sizes = [scores.count(s) for s in range(1, 6)]
    assert max(sizes) - min(sizes) <= 1, sizes


@given(st.lists(st.integers(0, 5), min_size=1, max_size=200))
def test_equal_values_share_a_score(values: list[int]) -> None:
    ordered = sorted(values)
    edges = quintile_edges(ordered)
    by_value: dict[int, set[int]] = {}
    for v in ordered:
        by_value.setdefault(v, set()).add(rfm_score(v, edges))
    assert all(len(s) == 1 for s in by_value.values())


TH = LifecycleThresholds(new_days=7, at_risk_days=30, churn_days=90, won_back_days=30)


def stage(first_days_ago: float, last_days_ago: float, previous: str = "", since_days_ago: float = 0) -> str:
    return lifecycle_stage(
        first_ts=NOW - int(first_days_ago * DAY),
        last_ts=NOW - int(last_days_ago * DAY),
        previous=previous,
        since=NOW - int(since_days_ago * DAY),
        now=NOW,
        th=TH,
    )


def test_lifecycle_stages_by_threshold() -> None:
    assert stage(2, 1) == "new"
    assert stage(20, 1) == "active"
    assert stage(200, 30) == "at-risk"
    assert stage(200, 90) == "churned"
    assert stage(200, 1, previous="churned") == "won-back", "back after churning"
    assert stage(200, 1, previous="at-risk") == "active", "at-risk returning is simply active"
    assert stage(200, 1, previous="won-back", since_days_ago=10) == "won-back"
    assert stage(200, 1, previous="won-back", since_days_ago=31) == "active"
    assert stage(200, 40, previous="won-back", since_days_ago=40) == "at-risk"
    assert lifecycle_stage(first_ts=0, last_ts=0, previous="", since=0, now=NOW, th=TH) == ""


@given(
    st.integers(0, 400),
    st.integers(0, 400),
    st.sampled_from(["", "new", "active", "at-risk", "churned", "won-back"]),
)
def test_the_stage_is_always_one_of_five_and_idleness_decides_risk(
    first: int, gap: int, previous: str
) -> None:
    got = stage(first + gap, gap, previous, since_days_ago=gap)
    assert got in {"new", "active", "at-risk", "churned", "won-back"}
    assert (got == "churned") == (gap >= 90)
    assert (got == "at-risk") == (30 <= gap < 90)


def test_an_unstated_retention_grows_to_what_the_thresholds_need() -> None:
    doc = {"events": DOC["events"], "lifecycle": {"churn_days": 90}}
    assert parse_events_config(doc, default_retention_days=30).retention_days == 91
    assert parse_events_config(doc, default_retention_days=400).retention_days == 400
    with pytest.raises(SchemaError):
        parse_events_config({**doc, "retention_days": 30}, default_retention_days=400)
