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
* **converted** — with a ``goal`` ``{event, window_s}``, a recipient *exposed* to the campaign
  (sent, or "would have sent": ``control``/``holdout``, or stopped after the control step by
  suppression, quiet hours, caps...) converts when an audience event ``goal.event`` of theirs
  has ``t0 <= ts < t0 + window_s`` where ``t0`` is the time of their decision — **and** no other
  campaign of the app touched them (sent or would-have-sent) after ``t0`` and at or before that
  event: **last touch** wins. Each new conversion is counted once (idempotent) and tags the profile
  ``converted:<cid>``; conversions are found when results are read.
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

from parley.server.activation_port import PENDING, Delivery, DeliveryLedger
from parley.server.campaign_port import Campaign, CampaignStore
from parley.server.events_port import EventLog
from parley.server.services.campaign_defs import CampaignIn, pick_variant
from parley.server.services.measure_stats import newcombe, srm
from parley.server.services.measurement import CONTROL_ARM, Measurement, measure_key
from parley.server.services.policy_rules import bucket

__all__ = [
    "CONTROL_STATES", "EXPOSED", "RECEIVED_SCANNED", "CampaignResults", "TOUCHES", "ResultsStore", "campaign_results",
]  # fmt: skip

#: The decisions of the control group.
CONTROL_STATES = frozenset({"control", "holdout"})
#: Decisions after the control step: assigned to a variant (intent-to-treat), whether sent or not.
TREATED_STATES = frozenset(
    {"sent", "suppressed_support", "suppressed_sentiment", "quiet_deferred", "quiet_dropped",
     "local_deferred", "template_value_missing", "capped", "failed"}
)  # fmt: skip
#: Who is in the uplift comparison.
EXPOSED = CONTROL_STATES | TREATED_STATES
#: Decisions that count as a touch for last-touch attribution.
TOUCHES = frozenset({"sent", "control", "holdout"})
_PAGE = 500
#: Campaigns (newest first) looked at for one recipient's "campaigns received": three keyed reads each.
RECEIVED_SCANNED = 100
_FUNNEL = ("delivered", "read", "clicked", "replied", "opted_out", "converted")


class ResultsStore(DeliveryLedger, CampaignStore, EventLog, Protocol):
    """The store roles the results read."""


def _arm(definition: CampaignIn, cid: str, row: Delivery) -> str:
    if row.state in CONTROL_STATES:
        return CONTROL_ARM
    return pick_variant(definition.variants, bucket(f"variant:{cid}", row.pid)).id


def _interval(x1: int, n1: int, x2: int, n2: int) -> dict[str, float] | None:
    if not n1 or not n2:
        return None
    d = newcombe(x1, n1, x2, n2)
    return {"difference": d.estimate, "low": d.low, "high": d.high}


async def _later_touch(
    store: ResultsStore, campaign: Campaign, others: list[str], pid: str, t0: int, ts: int
) -> bool:
    """Whether another campaign touched ``pid`` in ``(t0, ts]`` (then the conversion is theirs)."""
    for other in others:
        row = await store.get_delivery(campaign.app, f"campaign:{other}", pid)
        if row is not None and row.state in TOUCHES and t0 < row.updated <= ts:
            return True
    return False


async def _attribute(
    store: ResultsStore, measure: Measurement, campaign: Campaign, definition: CampaignIn,
    row: Delivery, arm: str, others: list[str],
) -> None:  # fmt: skip
    goal = definition.goal
    assert goal is not None
    t0 = row.updated
    found = await store.events_of(
        campaign.app, row.pid, names=[goal.event], since=t0, until=t0 + goal.window_s * 1000, limit=1
    )
    if found and not await _later_touch(store, campaign, others, row.pid, t0, found[0].ts):
        await measure.record(
            campaign.app, f"campaign:{campaign.cid}", row.pid, "converted", arm=arm, evidence=found[0].eid,
            now=found[0].ts,
        )  # fmt: skip


async def campaign_results(
    store: ResultsStore, measure: Measurement, campaign: Campaign, definition: CampaignIn, control_pct: float
) -> dict[str, Any]:
    """The results document of ``campaign`` (see the module docstring and docs/MARKETING.md)."""
    app, source = campaign.app, f"campaign:{campaign.cid}"
    arms = [CONTROL_ARM, *(v.id for v in definition.variants)]
    targeted: Counter[str] = Counter()
    exposed: Counter[str] = Counter()
    decisions: dict[str, Counter[str]] = {a: Counter() for a in arms}
    others = [c.cid for c in await store.list_campaigns(app) if c.cid != campaign.cid and c.cid]
    converted_before: set[str] = set()
    if definition.goal is not None:
        after = ""
        while page := await store.list_deliveries(
            app, measure_key(source, "converted"), after=after, limit=_PAGE
        ):
            converted_before.update(r.pid for r in page)
            after = page[-1].pid
    after = ""
    while page := await store.list_deliveries(app, source, after=after, limit=_PAGE):
        after = page[-1].pid
        for row in page:
            arm = _arm(definition, campaign.cid, row)
            targeted[arm] += 1
            decisions[arm][row.state] += 1
            if row.state not in EXPOSED:
                continue
            exposed[arm] += 1
            if definition.goal is not None and row.pid not in converted_before:
                await _attribute(store, measure, campaign, definition, row, arm, others)
    funnel = {kind: await measure.counts(app, source, kind) for kind in _FUNNEL}
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
    }  # fmt: skip


class CampaignResults:
    """:func:`campaign_results` over the node's store (the admin API's entry point)."""

    def __init__(self, store: ResultsStore, measure: Measurement) -> None:
        self._store = store
        self._measure = measure

    async def results(self, campaign: Campaign, definition: CampaignIn, control_pct: float) -> dict[str, Any]:
        """The results document of ``campaign``."""
        return await campaign_results(self._store, self._measure, campaign, definition, control_pct)

    async def received(self, app: str, pid: str) -> list[dict[str, Any]]:
        """The campaign messages profile ``pid`` was sent, newest first: campaign id and name, the
        variant, when (the decision's time, ms) and whether it was read and clicked — from the ledger
        rows alone (three keyed reads per campaign, the newest :data:`RECEIVED_SCANNED` campaigns)."""
        campaigns = sorted(await self._store.list_campaigns(app), key=lambda c: (-c.created, c.cid))
        out: list[dict[str, Any]] = []
        for campaign in campaigns[:RECEIVED_SCANNED]:
            source = f"campaign:{campaign.cid}"
            row = await self._store.get_delivery(app, source, pid)
            if row is None or row.state != "sent":
                continue
            definition = msgspec.convert(campaign.doc, CampaignIn)
            done = {}
            for kind in ("read", "clicked"):
                got = await self._store.get_delivery(app, measure_key(source, kind), pid)
                done[kind] = got is not None and got.state != PENDING  # a pending claim is not counted yet
            out.append({"campaign": campaign.cid, "name": definition.name, "variant": _arm(definition, campaign.cid, row),
                        "sent": row.updated, **done})  # fmt: skip
        return sorted(out, key=lambda r: -r["sent"])
