"""RFM scores and the lifecycle stage: pure functions over a profile's event aggregates.

**RFM** (recency, frequency, monetary) scores each profile 1–5 per dimension by the app's
quintiles: recency by the time of the last purchase (later is better), frequency by the
number of purchases, monetary by the sum of their amount, over ``window_days``. Quintiles are
relative to the whole app, so one purchase can move everyone's cut-offs: the scores are
computed by a scheduled pass (``services/rfm.py``), not per event (see docs/AUDIENCE.md).

**Lifecycle** stages: ``new`` (first activity less than ``new_days`` ago), ``active``,
``at-risk`` (no activity for ``at_risk_days``), ``churned`` (none for ``churn_days``) and
``won-back`` (active again after being churned, for ``won_back_days``). Activity is any event
of the app's ``activity`` list. Evaluated on every activity event (a return is seen at once)
and by the scheduled pass (time alone moves active → at-risk → churned); each transition is
itself an event, ``lifecycle_changed`` ``{from, to}``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "STAGES",
    "LifecycleThresholds",
    "RfmConfig",
    "SchemaError",
    "lifecycle_stage",
    "parse_lifecycle",
    "parse_rfm",
    "quintile_edges",
    "rfm_score",
]

_DAY_MS = 86_400_000
#: The lifecycle stages ("" before any activity).
STAGES = ("new", "active", "at-risk", "churned", "won-back")


@dataclass(frozen=True, slots=True)
class LifecycleThresholds:
    """An app's lifecycle thresholds in days, and its activity events (empty: every declared one)."""

    new_days: int = 7
    at_risk_days: int = 30
    churn_days: int = 90
    won_back_days: int = 30
    activity: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RfmConfig:
    """Which event is a purchase, its amount property ("" for none) and the window in days."""

    event: str
    amount: str = ""
    window_days: int = 365


class SchemaError(ValueError):
    """The events part of a schema document is malformed; ``path`` names the offending key."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _fail(path: str, message: str) -> SchemaError:
    return SchemaError(path, message)


def _days(raw: Mapping[str, Any], key: str, default: int, path: str) -> int:
    value = raw.get(key, default)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3650:
        raise _fail(f"{path}.{key}", "whole days, 1 .. 3650")
    return value


def parse_lifecycle(raw: object, declared: Mapping[str, Mapping[str, str]]) -> LifecycleThresholds:
    """The ``lifecycle`` part of a schema document: ``new_days < at_risk_days < churn_days``."""
    if not isinstance(raw, Mapping):
        raise _fail("lifecycle", "an object")
    th = LifecycleThresholds(
        new_days=_days(raw, "new_days", 7, "lifecycle"),
        at_risk_days=_days(raw, "at_risk_days", 30, "lifecycle"),
        churn_days=_days(raw, "churn_days", 90, "lifecycle"),
        won_back_days=_days(raw, "won_back_days", 30, "lifecycle"),
        activity=tuple(raw.get("activity", ())),
    )
    if not th.at_risk_days < th.churn_days:
        raise _fail("lifecycle", "at_risk_days must be less than churn_days")
    unknown = [a for a in th.activity if a not in declared or a == "lifecycle_changed"]
    if unknown:
        raise _fail("lifecycle.activity", f"declared events only, not {unknown[0]!r}")
    return th


def parse_rfm(raw: object, declared: Mapping[str, Mapping[str, str]]) -> RfmConfig | None:
    """The ``rfm`` part of a schema document (None: no RFM for the app)."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or raw.get("event") not in declared:
        raise _fail("rfm.event", "a declared event (the purchase)")
    event = str(raw["event"])
    amount = raw.get("amount", "")
    if amount and declared[event].get(str(amount)) != "number":
        raise _fail("rfm.amount", "a declared number property of the purchase event")
    return RfmConfig(event, str(amount), _days(raw, "window_days", 365, "rfm"))


def quintile_edges(values: Sequence[float]) -> tuple[float, ...]:
    """The four cut-offs of sorted ``values`` (ascending): the last value of each fifth.

    With :func:`rfm_score`, distinct values fall into five groups whose sizes differ by at
    most one; equal values always share a score (the lowest fifth they reach).
    """
    n = len(values)
    if n == 0:
        return ()
    return tuple(values[max(0, (n * k) // 5 - 1)] for k in range(1, 5))


def rfm_score(value: float, edges: Sequence[float]) -> int:
    """1–5: one more than the number of cut-offs strictly below ``value`` (higher is better)."""
    return 1 + bisect_left(edges, value) if edges else 1


def lifecycle_stage(
    *, first_ts: int, last_ts: int, previous: str, since: int, now: int, th: LifecycleThresholds
) -> str:
    """The stage at ``now`` of a profile first active at ``first_ts`` and last at ``last_ts``,
    whose stage was ``previous`` since ``since`` ("" and 0 for none); "" if it was never active."""
    if last_ts <= 0:
        return previous
    idle = now - last_ts
    if idle >= th.churn_days * _DAY_MS:
        return "churned"
    if idle >= th.at_risk_days * _DAY_MS:
        return "at-risk"
    if previous == "churned":
        return "won-back"
    if previous == "won-back" and now - since < th.won_back_days * _DAY_MS:
        return "won-back"
    if now - first_ts < th.new_days * _DAY_MS:
        return "new"
    return "active"
