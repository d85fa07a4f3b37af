"""The admin API's campaign results document (``GET /v1/campaigns/{cid}/results``), as typed structs
(validated on the way out and shown in the OpenAPI document). Formulas: docs/MARKETING.md "Measurement"."""

from __future__ import annotations

import msgspec

from parley.server.services.campaign_defs import Goal

__all__ = ["ArmResults", "CampaignResultsOut", "DifferenceOut", "SrmOut", "UpliftOut"]


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


class CampaignResultsOut(msgspec.Struct):
    """A campaign's measured results."""

    campaign: str
    goal: Goal | None
    attribution: str
    arms: dict[str, ArmResults]
    uplift: UpliftOut
    srm: SrmOut
