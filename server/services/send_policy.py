"""The one send-policy chain every outbound marketing message passes (campaigns, journeys, pushes).

:meth:`SendPolicy.send` evaluates one recipient at send time, in this fixed order, and records
the decision in the delivery ledger (:class:`~parley.server.activation_port.DeliveryLedger`)
with its reason — the first rule that says no decides:

1. **dedupe** — claim ``(send key, recipient)`` in the ledger; an existing decision (or a live
   claim of another sender) → ``duplicate``, nothing recorded again. First, so that retries,
   restarts and two nodes running the same send never evaluate, count or send twice.
2. **profile** — the recipient must exist, linked to a chat user → else ``no_profile``.
3. **consent** for the send's topic (granted in the consent ledger) → else ``no_consent``. Ever.
4. **global control** — the app's stable hash-assigned control group → ``control``.
5. **hold-out** — the campaign's own hold-out → ``holdout``. (4 and 5 are "would have sent":
   they passed consent, so their conversions are comparable with those who were sent.)
6. **conversation** — an open support ticket or an agent talking to them →
   ``suppressed_support``; a negative sentiment tag within ``negative_hours`` →
   ``suppressed_sentiment``.
7. **local time** — a campaign sent "at 10:00 in each recipient's timezone" waits for it →
   ``local_deferred`` with that instant (claimable again then).
   **Quiet hours** in the recipient's timezone → ``quiet_deferred`` with the next allowed time
   (the ledger row becomes claimable again then), or ``quiet_dropped`` when that time is past
   the send's ``stale_after``.
8. **content** — the template rendered for the recipient's language and values → else
   ``template_value_missing``.
9. **frequency caps** across every campaign, journey and push of the app, reserved atomically
   in the store → ``capped``. Late in the chain so a recipient refused for another reason never
   uses up a slot; transactional sends are exempt (and skip 4–7: they are not marketing).
10. **send** through the chat delivery (the message service: stored, seq'd, delivered like any
    message) with the idempotency key ``mk:<send key>`` → ``sent``. A refusal of the message
    service (``ServiceError``) releases the cap slot and records ``failed``.

A failure of the store or broker part-way (``Unavailable``) leaves the claim ``pending``; once its
lease expires another attempt takes it over and runs the chain again: the cap touch is keyed by
the send key and the message by its idempotency key, so neither is counted or sent twice.
"""

from __future__ import annotations

import enum
import itertools
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from parley.proto.campaign import campaign_body
from parley.proto.errors import ErrorCode, ProtocolError
from parley.proto.templates import Template, render
from parley.server.activation_port import ActivationStore
from parley.server.errors import ServiceError
from parley.server.ids import now_ms
from parley.server.services.policy_rules import (
    PolicySettings,
    bucket,
    cap_windows,
    next_local,
    parse_settings,
    quiet_until,
    zone,
)

__all__ = [
    "ChatSender",
    "ConversationFacts",
    "LinkTracker",
    "Decision",
    "Outcome",
    "Recipient",
    "Recipients",
    "SendPolicy",
    "SendRequest",
]


class Outcome(enum.StrEnum):
    """Why a recipient was or was not sent a message (the ledger's states)."""

    SENT = "sent"
    DUPLICATE = "duplicate"
    NO_PROFILE = "no_profile"
    NO_CONSENT = "no_consent"
    CONTROL = "control"
    HOLDOUT = "holdout"
    SUPPRESSED_SUPPORT = "suppressed_support"
    SUPPRESSED_SENTIMENT = "suppressed_sentiment"
    QUIET_DEFERRED = "quiet_deferred"
    QUIET_DROPPED = "quiet_dropped"
    LOCAL_DEFERRED = "local_deferred"
    TEMPLATE_VALUE_MISSING = "template_value_missing"
    CAPPED = "capped"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Recipient:
    """What the chain needs of a profile: its chat user, timezone and language, the values a
    template may use, and its consent per topic (True only when granted)."""

    pid: str
    user: str
    timezone: str | None = None
    language: str | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    consent: Mapping[str, bool] = field(default_factory=dict)


class Recipients(Protocol):
    """Reads a recipient at send time (the audience port, once it lands; an adapter over it)."""

    async def recipient(self, app: str, pid: str) -> Recipient | None:
        """The recipient ``pid`` of ``app``; None if there is no such profile."""


class ConversationFacts(Protocol):
    """What the chat knows about a customer right now."""

    async def in_support(self, app: str, user: str) -> bool:
        """Whether ``user`` has an open support ticket (waiting for or talking to an agent)."""

    async def last_negative(self, app: str, user: str) -> int:
        """When (ms) ``user`` last showed negative sentiment; 0 if never (or expired)."""


class LinkTracker(Protocol):
    """Points a body's url buttons at tracked links (:class:`~parley.server.services.links.LinkSigner`)."""

    async def track(self, app: str, key: str, pid: str, body: dict[str, Any]) -> dict[str, Any]:
        """``body`` with its url buttons rewritten for recipient ``pid`` of send ``key``."""


class ChatSender(Protocol):
    """Delivers a message body into the recipient's conversation with the brand."""

    async def deliver(
        self, app: str, user: str, body: dict[str, Any], *, cmid: str, settings: PolicySettings
    ) -> str:
        """Send ``body`` as the app's official account to ``user``; the message id. Idempotent by ``cmid``."""


@dataclass(frozen=True, slots=True)
class SendRequest:
    """One recipient of one send. ``key`` names the send (``campaign:<id>``, ``journey:<run>:<step>``,
    ``push:<id>``): it is the dedupe key and the cap touch's key. ``topic`` None only for a
    transactional send, which skips consent, control groups, suppression, quiet hours and caps."""

    app: str
    key: str
    pid: str
    template: Template
    campaign: str
    topic: str | None
    variant: str = ""
    holdout_pct: float = 0.0
    stale_after: int = 0
    transactional: bool = False
    #: Send at this local time (minutes after midnight) in the recipient's timezone, the first one
    #: at or after ``local_from`` (ms); -1: as soon as the other rules allow.
    local_time: int = -1
    local_from: int = 0
    #: The occurrence of a recurring campaign (its messages carry ``<campaign>@<occurrence>``); -1: none.
    occurrence: int = -1
    #: The measurement touch source its tracked links count clicks for ("": ``key``); a journey step's
    #: ``journey:<jid>/<step>``, since its ``key`` names the run.
    source: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """The chain's answer for one recipient (what the ledger records, or ``duplicate``)."""

    outcome: Outcome
    mid: str = ""
    retry_at: int = 0
    detail: str = ""


class SendPolicy:
    """The chain (see the module docstring) over the activation store and three narrow readers."""

    def __init__(
        self,
        store: ActivationStore,
        recipients: Recipients,
        facts: ConversationFacts,
        sender: ChatSender,
        *,
        lease_ms: int = 60_000,
        settings_ttl: float = 1.0,
    ) -> None:
        self._store = store
        self._recipients = recipients
        self._facts = facts
        self._sender = sender
        self._lease_ms = lease_ms
        self._settings_ttl = settings_ttl
        #: app -> (monotonic time read, settings): one store read per app and ``settings_ttl``, not per
        #: recipient. Another node's change is seen within ``settings_ttl``; this node's at once.
        self._settings: dict[str, tuple[float, PolicySettings]] = {}
        #: Claim owners: unique per process and attempt, so a taken-over claim cannot settle.
        self._owner_prefix = secrets.token_hex(6)
        self._attempts = itertools.count(1)
        #: Rewrites url buttons to tracked links when set (``build_services`` does).
        self.links: LinkTracker | None = None

    async def settings(self, app: str) -> PolicySettings:
        """The app's send-policy settings (defaults when it has none)."""
        cached = self._settings.get(app)
        if cached is not None and time.monotonic() - cached[0] < self._settings_ttl:
            return cached[1]
        raw = await self._store.get_send_policy(app)
        settings = parse_settings(raw) if raw else PolicySettings()
        self._settings[app] = (time.monotonic(), settings)
        return settings

    async def official_user(self, app: str) -> str:
        """The user id of the app's official account."""
        return (await self.settings(app)).official_user

    async def set_settings(self, app: str, raw: Mapping[str, Any]) -> PolicySettings:
        """Validate and store the app's settings; ``policy_invalid`` stores nothing."""
        parsed = parse_settings(raw)
        await self._store.put_send_policy(app, parsed.to_json())
        self._settings.pop(app, None)
        return parsed

    async def send(self, req: SendRequest, *, now: int | None = None) -> Decision:
        """Run the chain for one recipient and record the decision (see the module docstring)."""
        now = now_ms() if now is None else now
        owner = f"{self._owner_prefix}-{next(self._attempts)}"
        claim = await self._store.claim_delivery(
            req.app, req.key, req.pid, owner=owner, now=now, lease_ms=self._lease_ms
        )
        if claim is None:
            return Decision(Outcome.DUPLICATE)
        decision = await self._decide(req, now)
        await self._store.settle_delivery(
            req.app, req.key, req.pid, owner=owner, state=decision.outcome.value, now=now,
            retry_at=decision.retry_at, mid=decision.mid, detail=decision.detail or req.variant,
        )  # fmt: skip
        return decision

    async def _decide(self, req: SendRequest, now: int) -> Decision:
        settings = await self.settings(req.app)
        who = await self._recipients.recipient(req.app, req.pid)
        if who is None:
            return Decision(Outcome.NO_PROFILE)
        if not who.user:
            return Decision(Outcome.NO_PROFILE, detail="the profile has no chat user")
        marketing = not req.transactional
        if marketing:
            if req.topic is None or not who.consent.get(req.topic, False):
                return Decision(Outcome.NO_CONSENT, detail=req.topic or "")
            if bucket(f"control:{req.app}", req.pid) < settings.control_pct:
                return Decision(Outcome.CONTROL)
            if bucket(f"holdout:{req.campaign}", req.pid) < req.holdout_pct:
                return Decision(Outcome.HOLDOUT)
            if await self._facts.in_support(req.app, who.user):
                return Decision(Outcome.SUPPRESSED_SUPPORT)
            negative = await self._facts.last_negative(req.app, who.user)
            if negative and now - negative < settings.negative_hours * 3_600_000:
                return Decision(Outcome.SUPPRESSED_SENTIMENT)
        tz = zone(who.timezone, zone(settings.default_timezone, ZoneInfo("UTC"))) or ZoneInfo("UTC")
        if marketing and req.local_time >= 0:
            due = next_local(req.local_from or now, tz, req.local_time)
            if due > now:
                return Decision(Outcome.LOCAL_DEFERRED, retry_at=due)
        if marketing:
            allowed = quiet_until(now, tz, settings.quiet)
            if allowed:
                if req.stale_after and allowed > req.stale_after:
                    return Decision(Outcome.QUIET_DROPPED)
                return Decision(Outcome.QUIET_DEFERRED, retry_at=allowed)
        try:
            rendered = render(req.template, who.values, who.language)
        except ProtocolError as exc:
            if exc.code != ErrorCode.TEMPLATE_VALUE_MISSING:
                raise
            return Decision(Outcome.TEMPLATE_VALUE_MISSING, detail=exc.message)
        if marketing and settings.caps:
            windows = cap_windows(settings.caps, now, tz)
            if not await self._store.reserve_touch(req.app, req.pid, req.key, now, windows):
                return Decision(Outcome.CAPPED)
        marker = req.campaign if req.occurrence < 0 else f"{req.campaign}@{req.occurrence}"
        body = campaign_body(rendered, campaign=marker, variant=req.variant, topic=req.topic or "")
        if self.links is not None:  # url buttons through the tracked redirect (services/links.py)
            body = await self.links.track(req.app, req.source or req.key, req.pid, body)
        try:
            mid = await self._sender.deliver(req.app, who.user, body, cmid=f"mk:{req.key}", settings=settings)
        except ServiceError as exc:
            await self._store.release_touch(req.app, req.pid, req.key)
            return Decision(Outcome.FAILED, detail=exc.code.value)
        return Decision(Outcome.SENT, mid=mid)
