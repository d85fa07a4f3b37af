"""Recurring campaigns (pure): the recurrence a definition may carry, its validation, and occurrences.

A recurring campaign sends its audience once per **occurrence**. Occurrence ``n`` (0-based) opens at
``W_n = start + n * period`` — ``period`` one day (``every: "day"``), seven days (``"week"``) or
``interval_s`` seconds (``"interval"``, 1 hour to 90 days) — and the campaign's ``local_time``
(day and week only) sends each recipient at the first ``HH:MM`` in their own timezone at or after
``W_n``. Occurrences stop at ``max_occurrences`` or at the last one opening at or before
``until`` (ms), whichever comes first; at least one of the two must be given, and a campaign has at
most :data:`MAX_OCCURRENCES`.

Each occurrence is its own send: its send key is ``campaign:<cid>@<n>`` (:func:`send_key`) — the
delivery ledger's dedupe key, the frequency-cap touch key and the message's idempotency key
(``mk:campaign:<cid>@<n>``) — so nobody gets the same occurrence twice (a retry or two nodes
find the recipient's row decided) while every occurrence reaches everyone again. Its messages carry
``<cid>@<n>`` as their campaign id, so reads, clicks, replies and conversions are counted per
occurrence. The sender's cursor of a recurring campaign is ``"<n>/<last pid>"``
(:func:`split_cursor`). Quiet-deferred recipients of an occurrence go stale when the next opens.
"""

from __future__ import annotations

import msgspec

from parley.proto.errors import ErrorCode
from parley.server.errors import ServiceError

__all__ = [
    "MAX_OCCURRENCES", "Recurrence", "check_recurrence", "join_cursor", "occurrence_start", "period_ms",
    "send_key", "split_cursor",
]  # fmt: skip

#: The most occurrences one recurring campaign has.
MAX_OCCURRENCES = 1000
_DAY_MS = 86_400_000
_PERIODS = {"day": _DAY_MS, "week": 7 * _DAY_MS}
MIN_INTERVAL_S = 3600
MAX_INTERVAL_S = 90 * 86400


class Recurrence(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``every`` ``day``, ``week`` or ``interval`` (then ``interval_s`` seconds between occurrences);
    ends after ``max_occurrences`` and/or with the last occurrence opening at or before ``until`` (ms)."""

    every: str
    interval_s: int = 0
    until: int = 0
    max_occurrences: int = 0


def _bad(message: str) -> ServiceError:
    return ServiceError(ErrorCode.CAMPAIGN_INVALID, f"recurrence: {message}")


def period_ms(r: Recurrence) -> int:
    """The time between two occurrences' openings, in ms."""
    return _PERIODS.get(r.every, r.interval_s * 1000)


def check_recurrence(r: Recurrence, start: int, *, local_time: str, stale_after: int) -> None:
    """Refuse (``campaign_invalid``, message ``recurrence: ...``) a recurrence that could not be sent as
    written; ``start`` is the campaign's resolved start."""
    if r.every not in ("day", "week", "interval"):
        raise _bad(f"every must be 'day', 'week' or 'interval', not {r.every!r}")
    if r.every == "interval" and not MIN_INTERVAL_S <= r.interval_s <= MAX_INTERVAL_S:
        raise _bad(f"interval_s must be {MIN_INTERVAL_S}-{MAX_INTERVAL_S} seconds")
    if r.every != "interval" and r.interval_s:
        raise _bad("interval_s goes with every 'interval' only")
    if r.every == "interval" and local_time:
        raise _bad("local_time goes with every 'day' or 'week' only")
    if not r.until and not r.max_occurrences:
        raise _bad("give an end: until (ms) and/or max_occurrences")
    if not 0 <= r.max_occurrences <= MAX_OCCURRENCES:
        raise _bad(f"max_occurrences must be 1-{MAX_OCCURRENCES}")
    if r.until and r.until <= start:
        raise _bad("until must be after the start")
    if r.until and not r.max_occurrences and (r.until - start) // period_ms(r) + 1 > MAX_OCCURRENCES:
        raise _bad(f"more than {MAX_OCCURRENCES} occurrences before until")
    if stale_after:
        raise _bad(
            "stale_after does not apply: an occurrence's deferred recipients go stale when the next opens"
        )


def occurrence_start(r: Recurrence, start: int, n: int) -> int | None:
    """When occurrence ``n`` opens; None if there is no such occurrence."""
    if n < 0 or (r.max_occurrences and n >= r.max_occurrences) or n >= MAX_OCCURRENCES:
        return None
    at = start + n * period_ms(r)
    if r.until and at > r.until:
        return None
    return at


def send_key(cid: str, occurrence: int | None) -> str:
    """The send key of a campaign (``occurrence`` None) or of one occurrence of a recurring one."""
    return f"campaign:{cid}" if occurrence is None else f"campaign:{cid}@{occurrence}"


def split_cursor(cursor: str) -> tuple[int, str]:
    """A recurring campaign's cursor as (occurrence, last pid handled in it)."""
    if not cursor:
        return 0, ""
    n, _, pid = cursor.partition("/")
    return int(n), pid


def join_cursor(occurrence: int, pid: str) -> str:
    """The cursor of :func:`split_cursor`."""
    return f"{occurrence}/{pid}"
