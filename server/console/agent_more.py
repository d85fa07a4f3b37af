"""``/console/api/...`` for agents, beside :mod:`.api`: the campaigns a customer received, and the
name of a journey a case came from (its ticket's ``origin`` names only the id).

Read-only, ``agent`` role. The answer names campaigns, variants, times and whether the customer
read or clicked — nothing personal beyond the customer id the agent already has on screen
(the audience profile's pid is not shown).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.proto.ids import is_user_id
from parley.server.admin.routes import json_response
from parley.server.audience_models import USER_KIND, Identifier
from parley.server.console.session import Caller, console_endpoint
from parley.server.console_port import ConsoleRole
from parley.server.errors import ServiceError
from parley.server.services import Services

__all__ = ["console_agent_more_routes"]

AGENT = (ConsoleRole.AGENT.value,)


async def customer_campaigns(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/customers/{user}/campaigns`` (agent): the campaign messages the customer was
    sent, newest first — ``{campaign, name, variant, sent, read, clicked}`` each; an empty list for a
    user the audience never saw (nothing is created by reading)."""
    customer: str = request.path_params["user"]
    if not is_user_id(customer):
        raise ServiceError(
            ErrorCode.INVALID_REQUEST, "the user id in the path is outside the user-id charset"
        )
    app = caller.user.app
    pid = await s.identity.holder(app, Identifier(USER_KIND, customer))
    return json_response({"campaigns": [] if pid is None else await s.results.received(app, pid)})


async def journey_name(request: Request, s: Services, caller: Caller) -> Response:
    """``GET /console/api/journeys/{id}/name`` (agent): ``{id, name}`` of the journey whose hand-over
    or message a case came from — only the name, not the definition (404 ``journey_not_found``)."""
    jid: str = request.path_params["id"]
    found = await s.journeys.get(caller.user.app, jid)
    return json_response({"id": jid, "name": str(found["definition"].get("name") or jid)})


def console_agent_more_routes() -> list[BaseRoute]:
    """The routes, each behind the session and ``agent`` role check."""
    return [
        Route("/console/api/customers/{user}/campaigns", console_endpoint(customer_campaigns, AGENT)),
        Route("/console/api/journeys/{id}/name", console_endpoint(journey_name, AGENT)),
    ]
