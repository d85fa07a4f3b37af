"""The send policy's pure rules: settings validation, cap windows, quiet hours, stable buckets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parley.server.errors import ServiceError
from parley.server.services.policy_rules import (
    CapRule,
    PolicySettings,
    QuietHours,
    bucket,
    cap_windows,
    next_local,
    parse_settings,
    quiet_until,
)

SHANGHAI, NEW_YORK = ZoneInfo("Asia/Shanghai"), ZoneInfo("America/New_York")


def ms(*args: int, tz: ZoneInfo | None = None) -> int:
    return int(datetime(*args, tzinfo=tz or UTC).timestamp() * 1000)  # type: ignore[misc]


@pytest.mark.parametrize(
    "raw",
    [
        {"caps": [{"limit": 0, "days": 1}]},
        {"caps": [{"limit": 2}]},
        {"caps": [{"limit": 2, "days": 1, "seconds": 60}]},
        {"caps": [{"limit": 2, "days": 32}]},
        {"caps": [{"limit": True, "days": 1}]},
        {"caps": [{"limit": 1, "days": 1, "extra": 1}]},
        {"caps": [{"limit": 1, "days": 1}] * 9},
        {"quiet": {"start": "25:00", "end": "08:00"}},
        {"quiet": {"start": "21:00", "end": "21:00"}},
        {"quiet": {"start": "21:00"}},
        {"control_pct": 51},
        {"control_pct": -1},
        {"default_timezone": "Mars/Olympus"},
        {"official_user": "no spaces"},
        {"negative_hours": -1},
        {"colour": "blue"},
    ],
)
def test_invalid_settings_are_refused_with_policy_invalid(raw: dict[str, object]) -> None:
    with pytest.raises(ServiceError) as err:
        parse_settings(raw)
    assert err.value.code.value == "policy_invalid"


def test_settings_round_trip_through_their_json() -> None:
    raw = {
        "control_pct": 5,
        "caps": [{"limit": 2, "days": 1}, {"limit": 5, "days": 7}, {"limit": 1, "seconds": 3600}],
        "quiet": {"start": "21:30", "end": "08:00"},
        "negative_hours": 48,
        "default_timezone": "Asia/Shanghai",
        "official_user": "acme",
        "official_name": "ACME 官方",
    }
    parsed = parse_settings(raw)
    assert parsed.quiet == QuietHours(21 * 60 + 30, 8 * 60)
    assert parse_settings(parsed.to_json()) == parsed
    assert parse_settings({}) == PolicySettings()


def test_calendar_day_windows_start_at_local_midnight_and_rolling_windows_slide() -> None:
    now = ms(2026, 12, 5, 17, 30)  # 01:30 on Dec 6 in Shanghai, 12:30 on Dec 5 in New York
    rules = [CapRule(2, days=1), CapRule(5, days=7), CapRule(1, seconds=3600)]
    day, week, hour = cap_windows(rules, now, SHANGHAI)
    assert day.since == ms(2026, 12, 6, tz=SHANGHAI) and day.limit == 2
    assert week.since == ms(2026, 11, 30, tz=SHANGHAI)
    assert hour.since == now - 3_600_000
    assert cap_windows(rules[:1], now, NEW_YORK)[0].since == ms(2026, 12, 5, tz=NEW_YORK)
    assert cap_windows(rules[:1], now, ZoneInfo("UTC"))[0].since == ms(2026, 12, 5)


def test_quiet_hours_are_in_the_recipients_timezone() -> None:
    quiet = QuietHours(21 * 60, 8 * 60)
    now = ms(2026, 12, 5, 14, 0)  # 22:00 in Shanghai, 09:00 in New York
    assert quiet_until(now, SHANGHAI, quiet) == ms(2026, 12, 6, 8, 0, tz=SHANGHAI)
    assert quiet_until(now, NEW_YORK, quiet) == 0
    early = ms(2026, 12, 5, 20, 0)  # 04:00 on Dec 6 in Shanghai: ends the same local day
    assert quiet_until(early, SHANGHAI, quiet) == ms(2026, 12, 6, 8, 0, tz=SHANGHAI)
    assert quiet_until(now, SHANGHAI, None) == 0
    daytime = QuietHours(12 * 60, 13 * 60)
    assert quiet_until(ms(2026, 12, 5, 4, 30), SHANGHAI, daytime) == ms(2026, 12, 5, 13, 0, tz=SHANGHAI)


def test_quiet_hours_ending_in_a_dst_gap_end_after_the_gap() -> None:
    quiet = QuietHours(1 * 60, 2 * 60 + 30)  # 02:30 does not exist on 2026-03-08 in New York
    now = ms(2026, 3, 8, 6, 30)  # 01:30 EST
    until = quiet_until(now, NEW_YORK, quiet)
    assert until > now
    local = datetime.fromtimestamp(until / 1000, NEW_YORK)
    assert (local.hour, local.minute) == (3, 30), "the first instant after the skipped 02:30"


zones = st.sampled_from(["UTC", "Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Lord_Howe"])
minutes = st.integers(0, 24 * 60 - 1)


@given(st.integers(ms(2026, 1, 1), ms(2028, 1, 1)), zones, minutes, minutes)
def test_quiet_until_is_allowed_and_everything_before_it_is_quiet(
    now: int, tzname: str, start: int, end: int
) -> None:
    if start == end:
        return
    tz, quiet = ZoneInfo(tzname), QuietHours(start, end)

    def is_quiet(t: int) -> bool:
        local = datetime.fromtimestamp(t / 1000, tz)
        minute = local.hour * 60 + local.minute
        return start <= minute < end if start < end else (minute >= start or minute < end)

    until = quiet_until(now, tz, quiet)
    if not is_quiet(now):
        assert until == 0
        return
    assert until > now and not is_quiet(until), "the answer is an allowed instant"
    assert until - now <= 25 * 3_600_000
    step = max(60_000, (until - now) // 50)
    for t in range(now, until - 60_000, step):
        assert is_quiet(t), "no allowed instant was skipped"


def test_buckets_are_stable_per_seed_and_spread_evenly() -> None:
    assert bucket("control:acme", "p1") == bucket("control:acme", "p1")
    assert bucket("control:acme", "p1") != bucket("control:other", "p1")
    values = [bucket("control:acme", f"p{n}") for n in range(20_000)]
    assert all(0 <= v < 100 for v in values)
    share = sum(v < 10 for v in values) / len(values)
    assert 0.09 < share < 0.11, "10 % of profiles fall under a 10 % control group"
    assert len({bucket("s", f"p{n}") < 50 for n in range(40)}) == 2


def test_a_week_window_counts_seven_local_days() -> None:
    now = ms(2026, 12, 5, 12, 0)
    (w,) = cap_windows([CapRule(5, days=7)], now, ZoneInfo("UTC"))
    assert datetime.fromtimestamp(w.since / 1000, UTC) == datetime(2026, 12, 5, tzinfo=UTC) - timedelta(
        days=6
    )


def test_the_next_local_time_is_in_the_recipients_timezone_and_never_before_the_start() -> None:
    start = ms(2026, 12, 5, 1, 0)  # 09:00 in Shanghai, 20:00 on Dec 4 in New York
    assert next_local(start, SHANGHAI, 10 * 60) == ms(2026, 12, 5, 10, 0, tz=SHANGHAI)
    assert next_local(start, NEW_YORK, 10 * 60) == ms(2026, 12, 5, 10, 0, tz=NEW_YORK)
    assert next_local(start, SHANGHAI, 9 * 60) == start, "exactly now counts"
    assert next_local(start + 1, SHANGHAI, 9 * 60) == ms(2026, 12, 6, 9, 0, tz=SHANGHAI)
    gap = next_local(ms(2026, 3, 8, 5, 0), NEW_YORK, 2 * 60 + 30)  # 02:30 is skipped that night
    local = datetime.fromtimestamp(gap / 1000, NEW_YORK)
    assert (local.month, local.day, local.hour, local.minute) == (3, 8, 3, 30)


@given(st.integers(ms(2026, 1, 1), ms(2028, 1, 1)), zones, minutes)
def test_next_local_is_the_first_matching_instant(after: int, tzname: str, minute: int) -> None:
    tz = ZoneInfo(tzname)
    at = next_local(after, tz, minute)
    assert after <= at < after + 49 * 3_600_000
    local = datetime.fromtimestamp(at / 1000, tz)
    if local.hour * 60 + local.minute != minute:  # only when a DST gap skipped the wall time
        assert datetime.fromtimestamp((at - 3_600_000) / 1000, tz).utcoffset() != local.utcoffset()
