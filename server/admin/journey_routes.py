"""Admin API for triggered journeys: create, new version, list, get (with the runs waiting at each
step), pause / resume / archive (docs/MARKETING.md ``## Journeys``)."""

from __future__ import annotations

import re

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.server.admin.journey_schemas import (
    JourneyIn,
    JourneyList,
    JourneyOut,
    JourneyResultsOut,
    JourneyVersionIn,
)
from parley.server.admin.routes import AppHandler, json_response, parse_body, with_app
from parley.server.errors import ServiceError
from parley.server.journey_port import JourneyHead
from parley.server.models import App
from parley.server.services import Services

__all__ = ["journey_routes"]

_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _out(head: JourneyHead) -> JourneyOut:
    return JourneyOut(head.jid, head.state, head.version, head.created, head.updated)


async def create(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/journeys``: 201; ``journey_invalid`` (and the other definition codes) store nothing."""
    body = await parse_body(request, JourneyIn)
    if not _ID.match(body.id):
        raise ServiceError(ErrorCode.JOURNEY_INVALID, "id must be 1-64 of A-Z a-z 0-9 _ . : -")
    head = await s.journeys.create(app.app, body.id, body.definition)
    return json_response(await _full(s, app, head.jid), 201)


async def _full(s: Services, app: App, jid: str) -> JourneyOut:
    got = await s.journeys.get(app.app, jid)
    return JourneyOut(
        jid, got["state"], got["version"], got["created"], got["updated"], got["definition"], got["waiting"]
    )


async def list_all(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/journeys``: heads by id."""
    return json_response(JourneyList([_out(h) for h in await s.journeys.list_all(app.app)]))


async def get_one(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/journeys/{jid}``: 404 ``journey_not_found``."""
    return json_response(await _full(s, app, request.path_params["jid"]))


async def results(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/journeys/{jid}/results``: each send step's funnel; 404 ``journey_not_found``."""
    doc = await s.journey_results.results(app.app, request.path_params["jid"])
    return json_response(msgspec.convert(doc, JourneyResultsOut))


async def new_version(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/journeys/{jid}/versions``: 409 ``journey_state`` when archived."""
    body = await parse_body(request, JourneyVersionIn)
    head = await s.journeys.new_version(app.app, request.path_params["jid"], body.definition)
    return json_response(await _full(s, app, head.jid))


def _control(action: str) -> AppHandler:
    async def handler(request: Request, s: Services, app: App) -> Response:
        return json_response(_out(await s.journeys.control(app.app, request.path_params["jid"], action)))

    handler.__doc__ = f"``POST /v1/journeys/{{jid}}/{action}``: 409 ``journey_state`` if not allowed now."
    return handler


def journey_routes() -> list[BaseRoute]:
    """The routes, for :func:`~parley.server.admin.routes.admin_routes`."""
    return [
        Route("/v1/journeys", with_app(create), methods=["POST"]),
        Route("/v1/journeys", with_app(list_all)),
        Route("/v1/journeys/{jid}", with_app(get_one)),
        Route("/v1/journeys/{jid}/versions", with_app(new_version), methods=["POST"]),
        Route("/v1/journeys/{jid}/results", with_app(results)),
        *(
            Route(f"/v1/journeys/{{jid}}/{a}", with_app(_control(a)), methods=["POST"])
            for a in ("pause", "resume", "archive")
        ),
    ]
