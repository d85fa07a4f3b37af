"""The journey steps' view of the other services: profile facts and changes, segment membership,
past events, and the hand-over to an agent (adapters built once in ``build_services``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from parley.server.errors import ServiceError
from parley.server.events_port import EventLog
from parley.server.segments_port import SegmentsPort
from parley.server.services.audience import AudienceService, TagSpec
from parley.server.services.journey_steps import Handoff
from parley.server.services.official import OfficialAccount
from parley.server.services.send_policy import Recipients, SendPolicy
from parley.server.services.support import SupportService

__all__ = ["StoreJourneyProfiles", "handoff_for"]

log = logging.getLogger("parley.journeys")


class _Store(EventLog, SegmentsPort, Protocol):
    """The store roles the adapter reads."""


class StoreJourneyProfiles:
    """:class:`~parley.server.services.journey_steps.JourneyProfiles` over the audience service and store."""

    def __init__(self, store: _Store, audience: AudienceService) -> None:
        self._store = store
        self._audience = audience

    async def facts(self, app: str, pid: str) -> tuple[Mapping[str, Any], set[str], str]:
        """Attributes, tag names and effective timezone of the live profile."""
        view = await self._audience.view(app, pid)
        return view["attributes"], {t["name"] for t in view["tags"]}, view.get("timezone") or ""

    async def in_segment(self, app: str, segment: str, pid: str) -> bool:
        """Stored membership (kept current by the segment service)."""
        return pid in await self._store.is_stored_member(app, segment, [pid])

    async def had_event(self, app: str, pid: str, name: str, since: int) -> bool:
        """One indexed read of the profile's events of that name since ``since``."""
        return bool(await self._store.events_of(app, pid, names=[name], since=since, limit=1))

    async def update(
        self,
        app: str,
        pid: str,
        attributes: Mapping[str, Any],
        add_tags: list[str],
        remove_tags: list[str],
        evidence: str,
    ) -> None:
        """One all-or-nothing profile change by actor ``journey``."""
        await self._audience.update(
            app, pid, actor="journey", attributes=attributes or None,
            add_tags=[TagSpec(t, evidence=evidence) for t in add_tags], remove_tags=remove_tags, source="journey",
        )  # fmt: skip


def handoff_for(
    support: SupportService, official: OfficialAccount, policy: SendPolicy, recipients: Recipients
) -> Handoff:
    """Hand the customer's official conversation to an agent; the conversation id ("" if it cannot)."""

    async def handoff(app: str, pid: str, reason: str) -> str:
        who = await recipients.recipient(app, pid)
        if who is None or not who.user:
            return ""
        conv = await official.conversation(app, who.user, await policy.settings(app))
        try:
            await support.handoff(app, who.user, "user", conv, reason, f"journey: {reason}")
        except ServiceError as exc:
            log.warning("journeys: hand-over of %s/%s refused: %s", app, pid, exc.message)
            return ""
        return conv

    return handoff
