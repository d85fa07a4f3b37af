"""Campaigns: audience → content → timing → variants and hold-out → pacing, sent through the one chain.

**Define** (:meth:`CampaignService.create`): the definition is validated whole
(:func:`~parley.server.services.campaign_defs.check_definition`: the segment must exist, the
templates' variables must be the app's attributes) and stored ``scheduled``; nothing is
half-stored.

**Send** (:meth:`CampaignService.run`): a node that holds the campaign's lease (one at a time,
:class:`~parley.server.campaign_port.CampaignStore`) pages through the audience after the stored
cursor (a segment's members in pid order: dynamic ones evaluated now, snapshots frozen; the
explicit list, sorted; or ``everyone``: the app's live profiles in pid order, a page at a time), and hands each recipient to the :class:`SendPolicy` with the send key
``campaign:<cid>`` and the variant picked by a stable hash (``variant:<cid>``), at the pacing's
rate. After each page it advances the cursor (compare-and-set on the version) and renews the
lease. A node killed mid-page loses nothing: its lease expires, another node takes it over from
the cursor, and the recipients of the unfinished page are claimed again — the delivery ledger
answers ``duplicate`` for those already decided, so nobody is sent twice. When the audience is
exhausted the sender retries the deferred recipients whose time has come (``quiet_deferred`` or
``local_deferred`` with ``retry_at`` past), and the recipients a dead sender left ``pending``
(claimed, never decided) once their claim's lease has expired, and finishes (``done``) once none
wait any more.

**Control** (:meth:`pause`, :meth:`resume`, :meth:`cancel`): a compare-and-set on the state; a
paused or cancelled campaign cannot be leased, so the sender stops after the page it is on.
**Preview** renders a variant for any one profile, without sending or recording anything.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Collection
from typing import Any, Protocol

import msgspec

from parley.proto.campaign import campaign_body
from parley.proto.errors import ErrorCode, ProtocolError
from parley.proto.templates import Template, render, validate
from parley.server.activation_port import PENDING, DeliveryLedger
from parley.server.campaign_port import Campaign, CampaignStore
from parley.server.errors import ServiceError
from parley.server.ids import new_id, now_ms
from parley.server.services.campaign_defs import CampaignIn, Variant, check_definition, pick_variant
from parley.server.services.campaign_schedule import join_cursor, occurrence_start, send_key, split_cursor
from parley.server.services.conversions import sends_of
from parley.server.services.policy_rules import bucket
from parley.server.services.send_policy import Outcome, Recipients, SendPolicy, SendRequest

__all__ = ["CampaignService", "CampaignStoreRoles"]

log = logging.getLogger("parley.marketing")

#: State transitions the admin API may ask for: action -> (from states, to state).
_TRANSITIONS = {
    "pause": ({"scheduled", "running"}, "paused"),
    "resume": ({"paused"}, "running"),
    "cancel": ({"scheduled", "running", "paused"}, "cancelled"),
}

#: (app, segment, after, limit) -> a page of member pids: the segment service's ``members``.
SegmentPager = Callable[[str, str, str, int], Awaitable[list[str]]]
#: (app, after, limit) -> a page of the app's live profile pids: the ``everyone`` audience.
ProfilePager = Callable[[str, str, int], Awaitable[list[str]]]


def _minutes(clock: str) -> int:
    """``HH:MM`` as minutes after midnight; -1 for ""."""
    if not clock:
        return -1
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class CampaignStoreRoles(CampaignStore, DeliveryLedger, Protocol):
    """The store roles the campaign service uses."""


class CampaignService:
    """Campaign definitions, their sender and their controls (see the module docstring)."""

    def __init__(
        self,
        store: CampaignStoreRoles,
        policy: SendPolicy,
        recipients: Recipients,
        *,
        members: SegmentPager,
        variables: Callable[[str], Awaitable[Collection[str]]],
        segment_exists: Callable[[str, str], Awaitable[object]],
        everyone: ProfilePager | None = None,
        page: int = 50,
        lease_ms: int = 30_000,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._store = store
        self._policy = policy
        self._recipients = recipients
        self._members = members
        self._variables = variables
        self._segment_exists = segment_exists
        self._everyone = everyone
        self._page_size = page
        self._lease_ms = lease_ms
        #: The time (ms) the sender decides at: the wall clock; tests pass another.
        self._clock = clock
        self._owner = f"sender-{secrets.token_hex(6)}"
        #: Recipients handed to the send policy by this node (metrics and tests).
        self.evaluated = 0
        #: Called with the app of each campaign created here (conversion attribution re-reads).
        self.on_created: list[Callable[[str], None]] = []

    @staticmethod
    def definition(campaign: Campaign) -> CampaignIn:
        """The stored definition as the admin API took it."""
        return msgspec.convert(campaign.doc, CampaignIn)

    async def create(self, app: str, body: CampaignIn) -> Campaign:
        """Validate and store a campaign (``scheduled``); ``campaign_invalid`` / ``template_*`` /
        ``segment_not_found`` store nothing."""
        now = self._clock()
        known = {*(await self._variables(app)), "user"}
        start = check_definition(body, known, now)
        if body.segment:
            await self._segment_exists(app, body.segment)  # segment_not_found
            if not await self._members(app, body.segment, "", 1):
                raise ServiceError(ErrorCode.CAMPAIGN_INVALID, f"segment {body.segment!r} has no members now")
        if body.everyone and not await self._everyone_page(app, "", 1):
            raise ServiceError(ErrorCode.CAMPAIGN_INVALID, "the app has no profiles to send to")
        if body.recurrence is not None:  # the occurrences count from the first one's opening
            body = msgspec.structs.replace(body, start_at=start)
        doc = msgspec.to_builtins(body)
        campaign = Campaign(app, new_id("cmp"), "scheduled", start, doc, created=now, updated=now)
        if not await self._store.create_campaign(campaign):
            raise ServiceError(ErrorCode.INTERNAL, "campaign id collision; retry")
        for listener in self.on_created:
            listener(app)
        return campaign

    async def get(self, app: str, cid: str) -> Campaign:
        """The campaign; ``campaign_not_found`` if absent."""
        found = await self._store.get_campaign(app, cid)
        if found is None:
            raise ServiceError(ErrorCode.CAMPAIGN_NOT_FOUND, f"no campaign {cid}")
        return found

    async def list_all(self, app: str) -> list[Campaign]:
        """The app's campaigns, by id."""
        return await self._store.list_campaigns(app)

    @staticmethod
    def _occurrence(campaign: Campaign) -> int | None:
        return None if campaign.doc.get("recurrence") is None else split_cursor(campaign.cursor)[0]

    async def counts(self, app: str, cid: str) -> dict[str, int]:
        """Recipients per decision so far (``sent``, ``control``, ``capped``, ...; a recurring campaign's
        summed over its occurrences: recipient-occurrences)."""
        total: dict[str, int] = {}
        for key in sends_of(await self.get(app, cid)):
            for state, n in (await self._store.count_deliveries(app, key)).items():
                total[state] = total.get(state, 0) + n
        return total

    async def control(self, app: str, cid: str, action: str) -> Campaign:
        """``pause`` / ``resume`` / ``cancel`` (a CAS on the state); ``campaign_state`` if not allowed now."""
        allowed, target = _TRANSITIONS[action]
        for _ in range(20):
            current = await self.get(app, cid)
            if current.state not in allowed:
                raise ServiceError(ErrorCode.CAMPAIGN_STATE, f"a {current.state} campaign cannot {action}")
            changed = await self._store.update_campaign(
                app, cid, current.version, now=self._clock(), state=target
            )
            if changed is not None:
                return changed
        raise ServiceError(ErrorCode.UNAVAILABLE, "the campaign kept changing; retry")

    async def preview(self, app: str, cid: str, pid: str, variant: str = "") -> dict[str, Any]:
        """The message body ``pid`` would get (their variant unless ``variant`` names one); nothing is sent
        or recorded. ``not_found`` for an unknown profile; ``template_value_missing`` if a value lacks."""
        definition = self.definition(await self.get(app, cid))
        who = await self._recipients.recipient(app, pid)
        if who is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no profile {pid}")
        chosen = self._variant(cid, definition.variants, pid, variant)
        try:
            rendered = render(chosen.template, who.values, who.language)
        except Exception as exc:
            code = getattr(exc, "code", ErrorCode.INVALID_REQUEST)
            raise ServiceError(ErrorCode(code), getattr(exc, "message", str(exc))) from None
        return campaign_body(rendered, campaign=cid, variant=chosen.id, topic=definition.topic)

    async def render_draft(self, app: str, template: Template, pid: str) -> dict[str, dict[str, Any]]:
        """A not-yet-stored template rendered for profile ``pid`` in each of its languages (the
        campaign wizard's preview): ``{language: rendered}``; ``template_*`` if it is invalid,
        ``not_found`` for an unknown profile. Nothing is sent or recorded."""
        try:
            validate(template, {*(await self._variables(app)), "user"})
        except ProtocolError as exc:
            raise ServiceError(exc.code, exc.message) from None
        who = await self._recipients.recipient(app, pid)
        if who is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no profile {pid}")
        out: dict[str, dict[str, Any]] = {}
        for language in template.versions:
            try:
                r = render(template, who.values, language)
            except ProtocolError as exc:
                raise ServiceError(exc.code, f"{language}: {exc.message}") from None
            out[language] = {"text": r.text, "card": r.card, "buttons": [b.label for b in r.buttons],
                             "quick_replies": [b.label for b in r.quick_replies]}  # fmt: skip
        return out

    @staticmethod
    def _variant(cid: str, variants: list[Variant], pid: str, named: str = "") -> Variant:
        if named:
            for v in variants:
                if v.id == named:
                    return v
            raise ServiceError(ErrorCode.NOT_FOUND, f"no variant {named}")
        return pick_variant(variants, bucket(f"variant:{cid}", pid))

    async def _page(self, app: str, definition: CampaignIn, after: str) -> list[str]:
        # At most one second's worth per page: pacing is even, a pause takes effect within a second,
        # and a page is sent well within the lease, so the lease is renewed before it can lapse.
        size = max(1, min(self._page_size, definition.rate))
        if definition.segment:
            return await self._members(app, definition.segment, after, size)
        if definition.everyone:
            return await self._everyone_page(app, after, size)
        return sorted(p for p in definition.pids if p > after)[:size]

    async def _everyone_page(self, app: str, after: str, size: int) -> list[str]:
        if self._everyone is None:
            raise ServiceError(ErrorCode.CAMPAIGN_INVALID, "this node cannot page the app's profiles")
        return await self._everyone(app, after, size)

    async def run(self, app: str, cid: str) -> str:
        """Send the campaign while this node holds its lease; the state it leaves it in (see the module
        docstring). Returns at once if another node holds it or it is not runnable."""
        while True:
            now = self._clock()
            if not await self._store.lease_campaign(
                app, cid, owner=self._owner, now=now, lease_ms=self._lease_ms
            ):
                current = await self._store.get_campaign(app, cid)
                return current.state if current else ""
            campaign = await self.get(app, cid)
            definition = self.definition(campaign)
            campaign = await self._skip_missed(campaign, definition)
            occurrence = self._occurrence(campaign)
            after = campaign.cursor if occurrence is None else split_cursor(campaign.cursor)[1]
            pids = await self._page(app, definition, after)
            if not pids:
                return await self._finish(campaign, definition)
            started = time.monotonic()
            for pid in pids:
                await self._send(campaign, definition, pid, self._clock())
            pause = len(pids) / definition.rate - (time.monotonic() - started)
            if pause > 0:
                await asyncio.sleep(pause)
            state = "running" if campaign.state == "scheduled" else None
            cursor = pids[-1] if occurrence is None else join_cursor(occurrence, pids[-1])
            moved = await self._store.update_campaign(
                app, cid, campaign.version, now=self._clock(), state=state, cursor=cursor
            )
            if moved is None:
                log.info("campaign %s changed while sending a page; reloading", cid)

    async def _send(self, campaign: Campaign, definition: CampaignIn, pid: str, now: int) -> Outcome:
        variant = self._variant(campaign.cid, definition.variants, pid)
        occurrence, stale = self._occurrence(campaign), definition.stale_after
        if occurrence is not None and definition.recurrence is not None:  # stale once the next one opens
            stale = occurrence_start(definition.recurrence, definition.start_at, occurrence + 1) or 0
        request = SendRequest(
            app=campaign.app, key=send_key(campaign.cid, occurrence), pid=pid, template=variant.template,
            campaign=campaign.cid, topic=definition.topic, variant=variant.id,
            holdout_pct=definition.holdout_pct, stale_after=stale,
            local_time=_minutes(definition.local_time), local_from=campaign.start_at,
            occurrence=-1 if occurrence is None else occurrence,
        )  # fmt: skip
        self.evaluated += 1
        return (await self._policy.send(request, now=now)).outcome

    async def _finish(self, campaign: Campaign, definition: CampaignIn) -> str:
        """The audience is done: retry the recipients whose quiet hours ended; done when none wait."""
        app, key = campaign.app, send_key(campaign.cid, self._occurrence(campaign))
        while due := await self._store.deferred_deliveries(
            app, key, due_by=self._clock(), limit=self._page_size
        ):
            for row in due:
                await self._send(campaign, definition, row.pid, self._clock())
            if not await self._store.lease_campaign(
                app, campaign.cid, owner=self._owner, now=self._clock(), lease_ms=self._lease_ms
            ):
                return (await self.get(app, campaign.cid)).state  # paused, cancelled or taken over meanwhile
        if await self._store.deferred_deliveries(app, key, due_by=2**62, limit=1):
            return campaign.state  # some wait for their quiet hours or local time to come
        if (await self._store.count_deliveries(app, key)).get(PENDING) and not await self._retake(
            campaign, definition
        ):
            return campaign.state  # a dead sender's claim: retried once its lease has expired
        if (nxt := self._next(campaign, definition)) is not None:
            n, at = nxt
            moved = await self._store.update_campaign(
                app, campaign.cid, campaign.version, now=self._clock(), state="running",
                cursor=join_cursor(n, ""), start_at=at,
            )  # fmt: skip
            return moved.state if moved else (await self.get(app, campaign.cid)).state
        done = await self._store.update_campaign(
            app, campaign.cid, campaign.version, now=self._clock(), state="done"
        )
        return done.state if done else (await self.get(app, campaign.cid)).state

    def _next(self, campaign: Campaign, definition: CampaignIn) -> tuple[int, int] | None:
        """The occurrence a finished one hands over to, and when it opens; None: the campaign is done."""
        occurrence, r = self._occurrence(campaign), definition.recurrence
        if occurrence is None or r is None:
            return None
        at = occurrence_start(r, definition.start_at, occurrence + 1)
        return None if at is None else self._latest_open(definition, occurrence + 1, at)

    def _latest_open(self, definition: CampaignIn, n: int, at: int) -> tuple[int, int]:
        """Occurrence ``n`` (opening at ``at``), or the latest after it that has opened by now: a sender
        that was down skips the occurrences it missed instead of sending them in a burst."""
        assert definition.recurrence is not None
        now = self._clock()
        while (later := occurrence_start(definition.recurrence, definition.start_at, n + 1)) and later <= now:
            n, at = n + 1, later
        return n, at

    async def _skip_missed(self, campaign: Campaign, definition: CampaignIn) -> Campaign:
        """At an occurrence's first page: move on to the latest occurrence already open, if any."""
        occurrence = self._occurrence(campaign)
        if occurrence is None or split_cursor(campaign.cursor)[1]:
            return campaign
        n, at = self._latest_open(definition, occurrence, campaign.start_at)
        if n == occurrence or await self._store.count_deliveries(
            campaign.app, send_key(campaign.cid, occurrence)
        ):
            return campaign
        moved = await self._store.update_campaign(
            campaign.app,
            campaign.cid,
            campaign.version,
            now=self._clock(),
            cursor=join_cursor(n, ""),
            start_at=at,
        )
        return moved or await self.get(campaign.app, campaign.cid)

    async def _retake(self, campaign: Campaign, definition: CampaignIn) -> bool:
        """Send again the recipients left ``pending`` by a sender that died between claim and decision
        (the chain's claim takes an expired one over; the message's idempotency key stores it once);
        True when none is left pending. A scan of the send's rows, only when the grouped count
        shows a pending one — after a crash, not on a normal finish."""
        key, after, left = send_key(campaign.cid, self._occurrence(campaign)), "", False
        while page := await self._store.list_deliveries(campaign.app, key, after=after, limit=500):
            after = page[-1].pid
            for row in page:
                if row.state != PENDING:
                    continue
                now = self._clock()
                if (
                    row.lease_until > now
                    or await self._send(campaign, definition, row.pid, now) == "duplicate"
                ):
                    left = True
        return not left

    async def loop(self, interval: float) -> None:
        """Every ``interval`` seconds, run the due campaigns this node can lease (forever; cancel to stop)."""
        while True:
            try:
                for app, cid in await self._store.due_campaigns(self._clock(), 20):
                    await self.run(app, cid)
            except Exception:  # a store blip must not end the loop; the leases make a retry safe
                log.exception("campaign sender pass failed")
            await asyncio.sleep(interval)
