"""Triggered journeys through :class:`~parley.sdk.admin.AdminClient` (docs/MARKETING.md ``## Journeys``).

Definitions are plain JSON-like dicts (``{"name", "trigger": {"event"}, "entry", "goal", "topic",
"steps": [...]}``). Refusals raise :class:`~parley.sdk.errors.AdminError` with the stable code
(``journey_invalid``, ``journey_cycle``, ``journey_unreachable``, ``template_variable_unknown``,
``journey_not_found``, ``journey_state``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["JourneyOps"]


class JourneyOps:
    """Mixed into :class:`~parley.sdk.admin.AdminClient`."""

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def create_journey(self, jid: str, definition: dict[str, Any]) -> dict[str, Any]:
        """Create journey ``jid`` (validated whole; version 1, ``active``)."""
        result: dict[str, Any] = await self._call(
            "POST", "/v1/journeys", json={"id": jid, "definition": definition}
        )
        return result

    async def journey_version(self, jid: str, definition: dict[str, Any]) -> dict[str, Any]:
        """Store the next version of ``jid``; runs already going keep theirs."""
        result: dict[str, Any] = await self._call(
            "POST", f"/v1/journeys/{jid}/versions", json={"definition": definition}
        )
        return result

    async def journeys(self) -> list[dict[str, Any]]:
        """The app's journeys."""
        result = await self._call("GET", "/v1/journeys")
        return list(result["journeys"])

    async def journey(self, jid: str) -> dict[str, Any]:
        """One journey with its definition and ``waiting``: active runs per step."""
        result: dict[str, Any] = await self._call("GET", f"/v1/journeys/{jid}")
        return result

    async def journey_results(self, jid: str) -> dict[str, Any]:
        """Per send step of journey ``jid``: ``targeted``, ``decisions`` by reason, ``sent``, ``delivered``,
        ``read``, ``clicked``, ``replied``, ``opted_out``, ``converted`` (``journey_not_found``)."""
        result: dict[str, Any] = await self._call("GET", f"/v1/journeys/{jid}/results")
        return result

    async def journey_action(self, jid: str, action: str) -> dict[str, Any]:
        """``pause``, ``resume`` or ``archive`` the journey."""
        result: dict[str, Any] = await self._call("POST", f"/v1/journeys/{jid}/{action}")
        return result
