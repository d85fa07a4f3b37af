"""Marketing through :class:`~parley.sdk.admin.AdminClient`: the send policy, template checks, one-off
pushes and campaigns (docs/MARKETING.md).

Definitions are plain JSON-like dicts (a template is ``{"versions": {"en": {"text": ...}},
"default": "en"}``; a campaign ``{"name", "topic", "variants": [{"id", "weight", "template"}],
"segment" | "pids", "holdout_pct", "start_at", "stale_after", "rate"}``), so the SDK stays free of the
server's types. Refusals raise :class:`~parley.sdk.errors.AdminError` with the stable code
(``policy_invalid``, ``template_invalid``, ``template_variable_unknown``, ``campaign_invalid``,
``campaign_not_found``, ``campaign_state``, ``segment_not_found``).
"""

from __future__ import annotations

from typing import Any

__all__ = ["MarketingOps"]


class MarketingOps:
    """Mixed into :class:`~parley.sdk.admin.AdminClient`."""

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError

    async def send_policy(self) -> dict[str, Any]:
        """The app's send-policy settings (control group, caps, quiet hours, official account...)."""
        result: dict[str, Any] = await self._call("GET", "/v1/marketing/policy")
        return result

    async def set_send_policy(self, settings: dict[str, Any]) -> dict[str, Any]:
        """Replace the send-policy settings (omitted fields take their defaults); returns them."""
        result: dict[str, Any] = await self._call("PUT", "/v1/marketing/policy", json=settings)
        return result

    async def check_template(self, template: dict[str, Any]) -> list[str]:
        """Validate ``template`` against the app's attributes; the variables it uses."""
        result = await self._call("POST", "/v1/marketing/templates/check", json={"template": template})
        return [str(v) for v in result["variables"]]

    async def push(
        self,
        key: str,
        pid: str,
        template: dict[str, Any],
        *,
        topic: str | None = "marketing",
        transactional: bool = False,
    ) -> dict[str, Any]:
        """Send one message to profile ``pid`` through the send policy; its decision (``outcome``, ``mid``).
        ``key`` makes it idempotent: a repeat answers ``duplicate``."""
        body = {"key": key, "pid": pid, "template": template, "topic": topic, "transactional": transactional}
        result: dict[str, Any] = await self._call("POST", "/v1/marketing/push", json=body)
        return result

    async def create_campaign(self, definition: dict[str, Any]) -> dict[str, Any]:
        """Create a campaign (validated whole; stored ``scheduled``); the campaign with its ``cid``."""
        result: dict[str, Any] = await self._call("POST", "/v1/campaigns", json=definition)
        return result

    async def campaigns(self) -> list[dict[str, Any]]:
        """The app's campaigns."""
        result = await self._call("GET", "/v1/campaigns")
        return list(result["campaigns"])

    async def campaign(self, cid: str) -> dict[str, Any]:
        """One campaign with ``counts``: its recipients per decision (``sent``, ``control``, ``capped``...)."""
        result: dict[str, Any] = await self._call("GET", f"/v1/campaigns/{cid}")
        return result

    async def campaign_results(
        self, cid: str, *, bucket: str = "hour", occurrence: int | None = None
    ) -> dict[str, Any]:
        """The campaign's results: per arm (variants and ``control``) targeted, decisions, sent, delivered,
        read, clicked, replied, opted_out, converted; ``uplift`` (Newcombe 95 % intervals), ``srm``, the
        ``timeline`` per ``bucket`` (``hour`` or ``day``) and a recurring campaign's ``occurrences``
        (``occurrence``: that one's results alone) — docs/MARKETING.md."""
        params: dict[str, Any] = {"bucket": bucket}
        if occurrence is not None:
            params["occurrence"] = occurrence
        result: dict[str, Any] = await self._call("GET", f"/v1/campaigns/{cid}/results", params=params)
        return result

    async def pause_campaign(self, cid: str) -> dict[str, Any]:
        """Pause sending (takes effect within a page); ``campaign_state`` if not running or scheduled."""
        result: dict[str, Any] = await self._call("POST", f"/v1/campaigns/{cid}/pause")
        return result

    async def resume_campaign(self, cid: str) -> dict[str, Any]:
        """Resume a paused campaign where it stopped."""
        result: dict[str, Any] = await self._call("POST", f"/v1/campaigns/{cid}/resume")
        return result

    async def cancel_campaign(self, cid: str) -> dict[str, Any]:
        """Cancel for good (recipients not reached yet get nothing)."""
        result: dict[str, Any] = await self._call("POST", f"/v1/campaigns/{cid}/cancel")
        return result

    async def preview_campaign(self, cid: str, pid: str, *, variant: str = "") -> dict[str, Any]:
        """The message body profile ``pid`` would get (its variant unless ``variant``); nothing is sent."""
        result = await self._call(
            "POST", f"/v1/campaigns/{cid}/preview", json={"pid": pid, "variant": variant}
        )
        body: dict[str, Any] = result["body"]
        return body
