"""A campaign's results: the funnel per arm, conversions by the last-touch rule, uplift and the split check.

:func:`campaign_results` walks the campaign's delivery ledger (``campaign:<cid>``, one row per
recipient: its decision), in pages, never loading it whole. Each recipient's *arm* is
``control`` if the chain decided ``control`` (the app's global control group) or ``holdout``
(the campaign's own), else the variant the stable hash gives them (the one they got, or would
have got had another rule not stopped them).

* **targeted** — every recipient the sender handed to the chain; **decisions** — how many got
  each outcome (``sent``, ``no_consent``, ``capped``, ... = suppressed by reason).
* **delivered / read / clicked / replied / opted_out** — recipients who did it at least once (the
  :mod:`~parley.server.services.delivered` definition for delivered; the
  :class:`~parley.server.services.measurement.Measurement` counters).
* **converted** — with a ``goal`` ``{event, window_s}``: credited as the goal events arrive, by the
  last-touch rule of :mod:`~parley.server.services.conversions` (a results read only counts them).
* **timeline** — the funnel per hour or day (:mod:`~parley.server.services.campaign_timeline`).
* A recurring campaign's results sum its occurrences (each recipient once per occurrence), with
  ``occurrences`` listing each one's funnel; ``occurrence=n`` gives one occurrence's document.
* **uplift** — intent-to-treat: the conversion rate of everyone assigned to a variant (all exposed
  rows not in the control group) minus that of the control group, with Newcombe's hybrid score
  95 % interval (:func:`~parley.server.services.measure_stats.newcombe`), pooled and per variant.
* **srm** — a chi-square goodness-of-fit test of the exposed recipients per arm against the
  expected split: control share ``c + (1 - c) h`` (global control ``c``, hold-out ``h``), variant
  ``i`` ``(1 - c)(1 - h) w_i``; ``mismatch`` when p < 0.001.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

import msgspec

from parley.proto.errors import ErrorCode
from parley.server.activation_port import PENDING, DeliveryLedger
from parley.server.campaign_port import Campaign, CampaignStore
from parley.server.errors import ServiceError
from parley.server.services.campaign_defs import CampaignIn
from parley.server.services.campaign_timeline import bucket_ms, timeline
from parley.server.services.conversions import CONTROL_STATES, EXPOSED, TOUCHES, arm_of, sends_of
from parley.server.services.measure_stats import newcombe, srm
from parley.server.services.measurement import CONTROL_ARM, Measurement, measure_key

__all__ = [
    "CONTROL_STATES", "EXPOSED", "RECEIVED_SCANNED", "CampaignResults", "TOUCHES", "ResultsStore", "campaign_results",
]  # fmt: skip

_PAGE = 500
_FUNNEL = ("delivered", "read", "clicked", "replied", "opted_out", "converted")
#: The newest campaigns :meth:`CampaignResults.received` looks at (three keyed reads each).
RECEIVED_SCANNED = 200


class ResultsStore(DeliveryLedger, CampaignStore, Protocol):
    """The store roles the results read."""


def _interval(x1: int, n1: int, x2: int, n2: int) -> dict[str, float] | None:
    if not n1 or not n2:
        return None
    d = newcombe(x1, n1, x2, n2)
    return {"difference": d.estimate, "low": d.low, "high": d.high}


def _sources(campaign: Campaign, occurrence: int | None) -> list[str]:
    every = sends_of(campaign)
    if occurrence is None:
        return every
    if campaign.doc.get("recurrence") is None or not 0 <= occurrence < len(every):
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, f"occurrence {occurrence} of {campaign.cid} has not opened"
        )
    return [every[occurrence]]


async def campaign_results(
    store: ResultsStore, measure: Measurement, campaign: Campaign, definition: CampaignIn, control_pct: float,
    *, bucket: str = "hour", occurrence: int | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The results document of ``campaign`` (see the module docstring and docs/MARKETING.md)."""
    size = bucket_ms(bucket)
    app, sources = campaign.app, _sources(campaign, occurrence)
    arms = [CONTROL_ARM, *(v.id for v in definition.variants)]
    targeted: Counter[str] = Counter()
    exposed: Counter[str] = Counter()
    decisions: dict[str, Counter[str]] = {a: Counter() for a in arms}
    funnel: dict[str, Counter[str]] = {kind: Counter() for kind in _FUNNEL}
    occurrences = []
    for n, source in enumerate(sources):
        sent = 0
        after = ""
        while page := await store.list_deliveries(app, source, after=after, limit=_PAGE):
            after = page[-1].pid
            for row in page:
                arm = arm_of(definition, campaign.cid, row)
                targeted[arm] += 1
                decisions[arm][row.state] += 1
                sent += row.state == "sent"
                if row.state in EXPOSED:
                    exposed[arm] += 1
        mine = {kind: await measure.counts(app, source, kind) for kind in _FUNNEL}
        for kind, by_arm in mine.items():
            funnel[kind].update(by_arm)
        if campaign.doc.get("recurrence") is not None:
            occurrences.append({"occurrence": occurrence if occurrence is not None else n, "sent": sent,
                                **{kind: sum(by_arm.values()) for kind, by_arm in mine.items()}})  # fmt: skip
    per_arm = {
        arm: {
            "targeted": targeted[arm],
            "exposed": exposed[arm],
            "sent": decisions[arm]["sent"],
            "decisions": dict(sorted(decisions[arm].items())),
            **{kind: funnel[kind].get(arm, 0) for kind in _FUNNEL},
        }
        for arm in arms
    }
    conv_c, n_c = funnel["converted"].get(CONTROL_ARM, 0), exposed[CONTROL_ARM]
    treated = [v.id for v in definition.variants]
    conv_t = sum(funnel["converted"].get(v, 0) for v in treated)
    n_t = sum(exposed[v] for v in treated)
    c, h = control_pct / 100, definition.holdout_pct / 100
    p0 = c + (1 - c) * h
    shares = [p0, *((1 - p0) * v.weight / 100 for v in definition.variants)]
    check = srm([exposed[a] for a in arms], shares)
    return {
        "campaign": campaign.cid,
        "goal": None if definition.goal is None else {"event": definition.goal.event, "window_s": definition.goal.window_s},
        "attribution": "last_touch",
        "arms": per_arm,
        "uplift": {
            "method": "newcombe_hybrid_score_95",
            "pooled": _interval(conv_t, n_t, conv_c, n_c),
            "variants": {v: _interval(funnel["converted"].get(v, 0), exposed[v], conv_c, n_c) for v in treated},
        },
        "srm": {"chi2": check.chi2, "df": check.df, "p_value": check.p_value, "mismatch": check.mismatch,
                "expected_shares": dict(zip(arms, shares, strict=True))},
        "timeline": await timeline(store, app, sources, size),
        "occurrences": occurrences,
    }  # fmt: skip


class CampaignResults:
    """:func:`campaign_results` over the node's store (the admin API's entry point)."""

    def __init__(self, store: ResultsStore, measure: Measurement) -> None:
        self._store = store
        self._measure = measure

    async def results(
        self, campaign: Campaign, definition: CampaignIn, control_pct: float, *, bucket: str = "hour",
        occurrence: int | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """The results document of ``campaign`` (``bucket``: the timeline's; ``occurrence``: one of a
        recurring campaign's); ``invalid_request`` for another bucket or an occurrence not opened."""
        return await campaign_results(
            self._store,
            self._measure,
            campaign,
            definition,
            control_pct,
            bucket=bucket,
            occurrence=occurrence,
        )

    async def received(self, app: str, pid: str) -> list[dict[str, Any]]:
        """The campaign messages profile ``pid`` was sent, newest first: campaign id and name, the
        variant, when (the decision's time, ms) and whether it was read and clicked — from the ledger
        rows alone (three keyed reads per campaign, the newest :data:`RECEIVED_SCANNED` campaigns)."""
        campaigns = sorted(await self._store.list_campaigns(app), key=lambda c: (-c.created, c.cid))
        out: list[dict[str, Any]] = []
        for campaign in campaigns[:RECEIVED_SCANNED]:
            # A recurring campaign: its latest occurrence (of the last three) that was sent to them.
            for source in reversed(sends_of(campaign)[-3:]):
                row = await self._store.get_delivery(app, source, pid)
                if row is not None and row.state == "sent":
                    break
            if row is None or row.state != "sent":
                continue
            definition = msgspec.convert(campaign.doc, CampaignIn)
            done = {}
            for kind in ("read", "clicked"):
                got = await self._store.get_delivery(app, measure_key(source, kind), pid)
                done[kind] = got is not None and got.state != PENDING  # a pending claim is not counted yet
            out.append({"campaign": campaign.cid, "name": definition.name, "variant": arm_of(definition, campaign.cid, row),
                        "sent": row.updated, **done})  # fmt: skip
        return sorted(out, key=lambda r: -r["sent"])
