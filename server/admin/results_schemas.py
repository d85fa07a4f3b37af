"""The admin API's campaign results document (``GET /v1/campaigns/{cid}/results``), as typed structs
(validated on the way out and shown in the OpenAPI document). Formulas: docs/MARKETING.md "Measurement"."""

from __future__ import annotations

import msgspec

from parley.server.services.campaign_defs import Goal

__all__ = [
    "ArmResults", "CampaignResultsOut", "DifferenceOut", "OccurrenceOut", "SrmOut", "TimelineBucket", "UpliftOut",
]  # fmt: skip


class ArmResults(msgspec.Struct):
    """One arm (a variant, or ``control``): recipients handed to the chain, those in the uplift
    comparison (``exposed``), sent, the decisions by outcome (suppressed by reason), and how many
    recipients had it delivered (handed to a live connection of theirs, returned by sync/history, or
    read), read (a read receipt reached the message), clicked, replied, opted out and converted (each recipient once)."""

    targeted: int
    exposed: int
    sent: int
    decisions: dict[str, int]
    delivered: int
    read: int
    clicked: int
    replied: int
    opted_out: int
    converted: int


class DifferenceOut(msgspec.Struct):
    """A difference of conversion rates (variant minus control) with its 95 % interval."""

    difference: float
    low: float
    high: float


class UpliftOut(msgspec.Struct):
    """Uplift against the control group: the method, all variants pooled, and each variant
    (None where a group is empty)."""

    method: str
    pooled: DifferenceOut | None
    variants: dict[str, DifferenceOut | None]


class SrmOut(msgspec.Struct):
    """The sample-ratio check: chi-square goodness of fit of the exposed recipients per arm."""

    chi2: float
    df: int
    p_value: float
    mismatch: bool
    expected_shares: dict[str, float]


class TimelineBucket(msgspec.Struct):
    """One hour or day of the campaign (``start``: the bucket's first ms, UTC): recipients sent,
    delivered, read, clicked, replied and converted in it (each counted when it happened)."""

    start: int
    sent: int
    delivered: int
    read: int
    clicked: int
    replied: int
    converted: int


class OccurrenceOut(msgspec.Struct):
    """One occurrence of a recurring campaign: its funnel (recipients, each once per occurrence)."""

    occurrence: int
    sent: int
    delivered: int
    read: int
    clicked: int
    replied: int
    opted_out: int
    converted: int


class CampaignResultsOut(msgspec.Struct):
    """A campaign's measured results: per arm, uplift, the split check, the funnel over time
    (``timeline``, dense from the first bucket with a count to the last) and, for a recurring campaign,
    each occurrence (empty otherwise)."""

    campaign: str
    goal: Goal | None
    attribution: str
    arms: dict[str, ArmResults]
    uplift: UpliftOut
    srm: SrmOut
    timeline: list[TimelineBucket]
    occurrences: list[OccurrenceOut]
