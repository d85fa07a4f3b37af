"""A campaign's definition as the admin API takes it, and its validation (pure).

:func:`check_definition` refuses, with ``campaign_invalid`` (or the template's own code), every
definition that could not be sent as written: no or several audiences, an empty list, variants
whose split is not 100 % or whose ids repeat, a template with unknown variables, a schedule in
the past, a hold-out outside 0–50 %, a pacing of zero, a recurrence without an end or with a bad period. Nothing is stored before it passes.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import msgspec

from parley.proto.errors import ErrorCode, ProtocolError
from parley.proto.templates import Template, validate
from parley.server.errors import ServiceError
from parley.server.services.campaign_schedule import Recurrence, check_recurrence

__all__ = ["CampaignIn", "Goal", "Variant", "check_definition", "pick_variant"]

#: Clock skew tolerated for "start now" (a ``start_at`` up to this far in the past means now).
PAST_TOLERANCE_MS = 60_000
MAX_VARIANTS = 10
MAX_PIDS = 10_000
_ID = re.compile(r"[A-Za-z0-9_.:-]{1,32}\Z")
_EVENT = re.compile(r"[A-Za-z0-9_.:$-]{1,64}\Z")
#: The longest conversion window (90 days).
MAX_GOAL_WINDOW_S = 90 * 86400
_TOPIC = re.compile(r"[a-z0-9_.:-]{1,64}\Z")


class Variant(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One arm of the campaign: its id, its share of the (non-hold-out) recipients in percent, its message."""

    id: str
    weight: int
    template: Template


class Goal(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The conversion a campaign is measured by: audience event ``event`` within ``window_s`` seconds
    after the recipient's decision (sent, or "would have sent" for the control group)."""

    event: str
    window_s: int = 7 * 86400


class CampaignIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """``POST /v1/campaigns``: who (a saved ``segment``, an explicit list of ``pids``, or ``everyone``), what
    (``variants`` on ``topic``), when (``start_at`` ms, 0 = now; ``stale_after`` ms: quiet-deferred
    recipients still waiting then are dropped, 0 = never), the ``holdout_pct`` that gets nothing,
    and the pacing (``rate`` recipients per second)."""

    name: str
    topic: str
    variants: list[Variant]
    segment: str = ""
    pids: list[str] = []
    holdout_pct: float = 0.0
    start_at: int = 0
    stale_after: int = 0
    rate: int = 100
    #: ``HH:MM``: send each recipient at this local time in their timezone (the first at or after the start).
    local_time: str = ""
    #: The conversion goal (docs/MARKETING.md "Measurement"); None: conversions are not measured.
    goal: Goal | None = None
    #: The audience is every live profile of the app (paged from the store, never loaded whole).
    everyone: bool = False
    #: Send once per occurrence (services/campaign_schedule.py); None: once.
    recurrence: Recurrence | None = None


def _bad(message: str) -> ServiceError:
    return ServiceError(ErrorCode.CAMPAIGN_INVALID, message)


def check_definition(body: CampaignIn, known_variables: Collection[str], now: int) -> int:
    """Validate ``body``; the start time it resolves to (``now`` for 0). Raises ``campaign_invalid``,
    ``template_invalid`` or ``template_variable_unknown``."""
    if not 0 < len(body.name.strip()) <= 100:
        raise _bad("name must be 1-100 characters")
    if not _TOPIC.match(body.topic):
        raise _bad("topic must be 1-64 of a-z 0-9 _ . : - (e.g. 'marketing' or 'marketing:promo')")
    if [bool(body.segment), bool(body.pids), body.everyone].count(True) != 1:
        raise _bad("give the audience as exactly one of 'segment', 'pids' or 'everyone'")
    if len(body.pids) > MAX_PIDS or len(set(body.pids)) != len(body.pids):
        raise _bad(f"pids must be distinct, at most {MAX_PIDS}")
    if not 0 < len(body.variants) <= MAX_VARIANTS:
        raise _bad(f"a campaign has 1-{MAX_VARIANTS} variants")
    ids = [v.id for v in body.variants]
    if len(set(ids)) != len(ids) or not all(_ID.match(i) for i in ids):
        raise _bad("variant ids must be distinct, 1-32 of A-Z a-z 0-9 _ . : -")
    if any(v.weight < 0 for v in body.variants) or sum(v.weight for v in body.variants) != 100:
        raise _bad(
            f"the variants' weights must add up to 100 (they add up to {sum(v.weight for v in body.variants)})"
        )
    for v in body.variants:
        try:
            validate(v.template, known_variables)
        except ProtocolError as exc:
            raise ServiceError(exc.code, f"variant {v.id!r}: {exc.message}") from None
    if not 0 <= body.holdout_pct <= 50:
        raise _bad("holdout_pct must be from 0 to 50")
    if not 1 <= body.rate <= 10_000:
        raise _bad("rate must be 1-10000 recipients per second")
    if body.local_time and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", body.local_time):
        raise _bad("local_time must be HH:MM (24 h)")
    if body.goal is not None and (
        not _EVENT.match(body.goal.event) or not 60 <= body.goal.window_s <= MAX_GOAL_WINDOW_S
    ):
        raise _bad(f"goal: an event name (1-64 of A-Z a-z 0-9 _ . : -) and window_s 60-{MAX_GOAL_WINDOW_S}")
    start = body.start_at or now
    if start < now - PAST_TOLERANCE_MS:
        raise _bad("start_at is in the past")
    if body.stale_after and body.stale_after <= start:
        raise _bad("stale_after must be after start_at")
    if body.recurrence is not None:
        check_recurrence(body.recurrence, start, local_time=body.local_time, stale_after=body.stale_after)
    return start


def pick_variant(variants: list[Variant], point: float) -> Variant:
    """The variant whose cumulative weight band holds ``point`` (a bucket in ``[0, 100)``)."""
    edge = 0.0
    for v in variants:
        edge += v.weight
        if point < edge:
            return v
    return variants[-1]
