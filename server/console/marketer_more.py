"""``/console/api/...`` for marketers (and admins), beside :mod:`.marketer_api`: a campaign's
measured results and the journeys with how many profiles wait at each step (read-only).

The same services as ``GET /v1/campaigns/{cid}/results`` and ``GET /v1/journeys/{jid}``, behind
the console's session and role check (``marketer`` or ``admin``; an agent gets 403).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.server.admin.routes import json_response
from parley.server.console.marketer_api import MARKETING
from parley.server.console.session import Caller, console_endpoint
from parley.server.services import Services

__all__ = ["JOURNEYS_SHOWN", "console_marketer_more_routes"]

#: Journeys listed with their steps at most (the newest by update first).
JOURNEYS_SHOWN = 50


async def results(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/campaigns/{cid}/results[?bucket=hour|day]``: per arm the funnel (targeted,
    sent, delivered, read, clicked, replied, opted out, converted) and the decisions (suppressions by
    reason), the uplift against control with its 95 % interval, the sample-ratio check and the
    timeline per bucket (docs/MARKETING.md)."""
    app = caller.user.app
    campaign = await s.campaigns.get(app, request.path_params["cid"])
    control_pct = (await s.send_policy.settings(app)).control_pct
    bucket = request.query_params.get("bucket", "hour")  # the timeline's; another is invalid_request
    doc = await s.results.results(campaign, s.campaigns.definition(campaign), control_pct, bucket=bucket)
    return json_response(doc)


async def journeys(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/journeys``: each journey's state, version, trigger, steps and the
    profiles waiting at each step now."""
    app = caller.user.app
    heads = sorted(await s.journeys.list_all(app), key=lambda h: -h.updated)[:JOURNEYS_SHOWN]
    out: list[dict[str, Any]] = []
    for head in heads:
        got = await s.journeys.get(app, head.jid)
        out.append({"id": head.jid, "state": head.state, "version": head.version, "trigger": head.trigger,
                    "definition": got["definition"], "waiting": got["waiting"]})  # fmt: skip
    return json_response(out)


def console_marketer_more_routes() -> list[BaseRoute]:
    """The routes, each behind the session and ``marketer``/``admin`` role check."""
    return [
        Route("/console/api/campaigns/{cid}/results", console_endpoint(results, MARKETING)),
        Route("/console/api/journeys", console_endpoint(journeys, MARKETING)),
    ]
