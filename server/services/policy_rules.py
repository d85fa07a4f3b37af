"""The send policy's settings and its pure rules: cap windows, quiet hours, control buckets.

No I/O here: :mod:`parley.server.services.send_policy` reads the recipient and the stores
and asks these functions what the rules say, so each rule is tested exhaustively on its own.

* **Settings** (:class:`PolicySettings`, per app, from :func:`parse_settings`): the global
  control percentage, frequency-cap rules, quiet hours, how long a negative sentiment
  suppresses marketing, the default timezone and the official account.
* **Cap windows** (:func:`cap_windows`): a rule ``{"limit": 2, "days": 1}`` counts calendar
  days in the recipient's timezone (today since local midnight; ``days: 7`` is today and the
  six days before); ``{"limit": 1, "seconds": 3600}`` is a rolling window.
* **Quiet hours** (:func:`quiet_until`): ``{"start": "21:00", "end": "08:00"}`` in the
  recipient's timezone; a window may span midnight. The answer is the next allowed instant.
* **Buckets** (:func:`bucket`): a stable hash of ``(seed, pid)`` into ``[0, 100)``; the
  global control group is ``bucket("control:" + app, pid) < control_pct`` — the same
  profiles every time, independent of any campaign; a campaign's hold-out and its variants use
  the campaign id as seed, so they are independent of the global group.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parley.proto.errors import ErrorCode
from parley.server.activation_port import CapWindow
from parley.server.errors import ServiceError

__all__ = [
    "CapRule",
    "PolicySettings",
    "QuietHours",
    "bucket",
    "cap_windows",
    "next_local",
    "parse_settings",
    "quiet_until",
    "zone",
]

#: The most cap rules an app may declare (each is one count per reservation).
MAX_CAP_RULES = 8
#: Longest cap window: calendar days, or the same span in seconds.
MAX_CAP_DAYS = 31
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)\Z")
_USER = re.compile(r"[A-Za-z0-9_.:@-]{1,64}\Z")


@dataclass(frozen=True, slots=True)
class CapRule:
    """At most ``limit`` marketing messages per ``days`` calendar days (recipient's timezone) or
    per rolling ``seconds`` (exactly one of the two is set)."""

    limit: int
    days: int = 0
    seconds: int = 0


@dataclass(frozen=True, slots=True)
class QuietHours:
    """No marketing from ``start`` to ``end`` (minutes after local midnight; may span midnight)."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """An app's send-policy settings (defaults: no control group, no caps, no quiet hours)."""

    control_pct: float = 0.0
    caps: tuple[CapRule, ...] = ()
    quiet: QuietHours | None = None
    negative_hours: int = 24
    default_timezone: str = "UTC"
    official_user: str = "brand"
    official_name: str = "Brand"

    def to_json(self) -> dict[str, Any]:
        """The settings as the JSON object :func:`parse_settings` reads."""
        out: dict[str, Any] = {
            "control_pct": self.control_pct,
            "caps": [
                {"limit": c.limit, **({"days": c.days} if c.days else {"seconds": c.seconds})}
                for c in self.caps
            ],
            "negative_hours": self.negative_hours,
            "default_timezone": self.default_timezone,
            "official_user": self.official_user,
            "official_name": self.official_name,
        }
        if self.quiet is not None:
            q = self.quiet
            out["quiet"] = {
                "start": f"{q.start // 60:02}:{q.start % 60:02}",
                "end": f"{q.end // 60:02}:{q.end % 60:02}",
            }
        return out


def _bad(message: str) -> ServiceError:
    return ServiceError(ErrorCode.POLICY_INVALID, message)


def _int(raw: Mapping[str, Any], name: str, default: int = 0) -> int:
    value = raw.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"{name} must be an integer")
    return value


def _clock(value: Any, name: str) -> int:
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise _bad(f"quiet.{name} must be HH:MM (24 h)")
    return int(match[1]) * 60 + int(match[2])


def _cap(raw: Any) -> CapRule:
    if not isinstance(raw, dict) or set(raw) - {"limit", "days", "seconds"}:
        raise _bad("a cap rule is {limit, days} or {limit, seconds}")
    limit, days, seconds = _int(raw, "limit"), _int(raw, "days"), _int(raw, "seconds")
    if limit < 1:
        raise _bad("a cap rule's limit must be at least 1 (a cap of zero would silence every message)")
    if (days > 0) == (seconds > 0) or days < 0 or seconds < 0:
        raise _bad("a cap rule has exactly one of days or seconds, above zero")
    if days > MAX_CAP_DAYS or seconds > MAX_CAP_DAYS * 86_400:
        raise _bad(f"a cap window is at most {MAX_CAP_DAYS} days")
    return CapRule(limit, days, seconds)


def parse_settings(raw: Mapping[str, Any]) -> PolicySettings:
    """Validated settings from their JSON object (missing fields take the defaults);
    ``policy_invalid`` names the first problem."""
    known = {
        "control_pct",
        "caps",
        "quiet",
        "negative_hours",
        "default_timezone",
        "official_user",
        "official_name",
    }
    if unknown := sorted(set(raw) - known):
        raise _bad(f"unknown settings: {', '.join(unknown)}")
    pct = raw.get("control_pct", 0.0)
    if isinstance(pct, bool) or not isinstance(pct, int | float) or not 0 <= pct <= 50:
        raise _bad("control_pct must be a number from 0 to 50")
    caps = raw.get("caps", [])
    if not isinstance(caps, list) or len(caps) > MAX_CAP_RULES:
        raise _bad(f"caps must be a list of at most {MAX_CAP_RULES} rules")
    quiet = None
    if raw.get("quiet") is not None:
        q = raw["quiet"]
        if not isinstance(q, dict) or set(q) != {"start", "end"}:
            raise _bad("quiet must be {start, end}")
        quiet = QuietHours(_clock(q["start"], "start"), _clock(q["end"], "end"))
        if quiet.start == quiet.end:
            raise _bad("quiet hours must not start and end at the same time")
    negative = _int(raw, "negative_hours", 24)
    if not 0 <= negative <= 24 * 90:
        raise _bad("negative_hours must be from 0 to 2160")
    tz = raw.get("default_timezone", "UTC")
    if not isinstance(tz, str) or zone(tz, None) is None:
        raise _bad(f"default_timezone {tz!r} is not an IANA timezone")
    user, name = raw.get("official_user", "brand"), raw.get("official_name", "Brand")
    if not isinstance(user, str) or not _USER.match(user):
        raise _bad("official_user must be a user id")
    if not isinstance(name, str) or not 0 < len(name) <= 64:
        raise _bad("official_name must be 1-64 characters")
    return PolicySettings(float(pct), tuple(_cap(c) for c in caps), quiet, negative, tz, user, name)


def zone(name: str | None, default: ZoneInfo | None) -> ZoneInfo | None:
    """The IANA zone ``name``; ``default`` if it is empty or unknown."""
    if not name:
        return default
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def cap_windows(rules: Sequence[CapRule], now: int, tz: ZoneInfo) -> list[CapWindow]:
    """The windows of ``rules`` at ``now`` (ms) for a recipient in ``tz``."""
    local = datetime.fromtimestamp(now / 1000, tz)
    windows = []
    for rule in rules:
        if rule.days:
            first = (local - timedelta(days=rule.days - 1)).date()
            since = _ms(datetime.combine(first, time(0), tz))
        else:
            since = now - rule.seconds * 1000
        windows.append(CapWindow(since, rule.limit))
    return windows


def _quiet_at(minute: int, quiet: QuietHours) -> bool:
    if quiet.start < quiet.end:
        return quiet.start <= minute < quiet.end
    return minute >= quiet.start or minute < quiet.end


def quiet_until(now: int, tz: ZoneInfo, quiet: QuietHours | None) -> int:
    """0 if ``now`` (ms) is outside the quiet hours in ``tz``; else the first instant (ms) at
    or after which it is allowed again: the quiet window's local end, on the right day (a
    local end that does not exist because of a DST gap resolves forward)."""
    if quiet is None:
        return 0
    local = datetime.fromtimestamp(now / 1000, tz)
    if not _quiet_at(local.hour * 60 + local.minute, quiet):
        return 0
    end_day = local.date()
    if quiet.start > quiet.end and local.hour * 60 + local.minute >= quiet.start:
        end_day += timedelta(days=1)
    # fold=0: a local end skipped by a DST gap reads with the offset before the change, which
    # is the instant after the gap; a repeated one (clocks going back) is its first occurrence.
    end = datetime.combine(end_day, time(quiet.end // 60, quiet.end % 60), tz)
    return max(_ms(end), now + 1)


def next_local(after: int, tz: ZoneInfo, minute: int) -> int:
    """The first instant (ms) at or after ``after`` whose wall time in ``tz`` is ``minute`` minutes past
    local midnight (a campaign's "at 10:00 in each recipient's timezone"). A wall time skipped by a DST
    gap reads as the instant after the gap."""
    local = datetime.fromtimestamp(after / 1000, tz)
    for days in (0, 1, 2):
        day = local.date() + timedelta(days=days)
        at = _ms(datetime.combine(day, time(minute // 60, minute % 60), tz))
        if at >= after:
            return at
    raise AssertionError("unreachable: a local time recurs within two days")


def bucket(seed: str, pid: str) -> float:
    """A stable number in ``[0, 100)`` for ``pid`` under ``seed`` (SHA-256, so uniform and the same
    on every node and after every restart)."""
    digest = hashlib.sha256(f"{seed}\n{pid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 * 100
