"""The journey steps' view of the other services: profile facts and changes, segment membership,
past events, and the hand-over to an agent (adapters built once in ``build_services``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Protocol

from parley.server.errors import ServiceError
from parley.server.events_port import EventLog
from parley.server.journey_port import Run
from parley.server.segments_port import SegmentsPort
from parley.server.services.audience import AudienceService, TagSpec
from parley.server.services.brand_support import BrandSupport
from parley.server.services.journey_steps import Handoff

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


def handoff_for(brand: BrandSupport) -> Handoff:
    """Hand the customer's conversation with the brand to the agents (``waiting_for_agent``, the run and
    step as the ticket's origin: once per run and step); the conversation id ("" if it cannot)."""

    async def handoff(run: Run, step: str, reason: str) -> str:
        try:
            return await brand.handover(run.app, run.pid, reason, journey=run.jid, run=run.rid, step=step)
        except ServiceError as exc:  # refused for good (e.g. no chat user); other errors retry the step
            log.warning("journeys: hand-over of %s/%s refused: %s", run.app, run.pid, exc.message)
            return ""

    return handoff
