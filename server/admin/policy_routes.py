"""Admin API for the app's reach policy: whose presence its users may watch, whom they may add.

``GET /v1/policy`` gives the effective policy (the app's own choices, the node's defaults for
the rest); ``PUT /v1/policy`` changes the fields it names. See
:mod:`parley.server.services.reach`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.server.admin.policy_schemas import PolicyIn, PolicyOut
from parley.server.admin.routes import json_response, parse_body, with_app
from parley.server.models import App, AppPolicy
from parley.server.services import Services

__all__ = ["policy_routes"]


def _out(policy: AppPolicy) -> PolicyOut:
    return PolicyOut(presence=policy.presence, add=policy.add)


async def get_policy(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/policy``: the app's effective reach policy (its choices, the server's defaults for the
    rest)."""
    return json_response(_out(await s.reach.policy(app.app)))


async def put_policy(request: Request, s: Services, app: App) -> Response:
    """``PUT /v1/policy``: change ``presence`` and/or ``add`` (an omitted field stays); returns the
    effective policy."""
    body = await parse_body(request, PolicyIn)
    return json_response(_out(await s.reach.set_policy(app.app, presence=body.presence, add=body.add)))


def policy_routes() -> list[BaseRoute]:
    """The routes, for :func:`~parley.server.admin.routes.admin_routes`."""
    return [
        Route("/v1/policy", with_app(get_policy)),
        Route("/v1/policy", with_app(put_policy), methods=["PUT"]),
    ]
