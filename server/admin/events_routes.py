"""Admin API for audience events: batch ingest from the app's back-end and reading a user's events.

``POST /v1/audience/events`` takes up to ``event_batch_max`` events, validates all of them
against the app's declared schema first (one bad event refuses the batch: problem+json with
its stable code — ``event_unknown``, ``event_invalid``, ``event_too_old``,
``event_in_future`` — and the event's index in ``detail``; nothing stored), then stores them
idempotently by ``eid``: a retried batch stores nothing twice and reports ``stored: false``
per duplicate. More events than the bound is 413 ``batch_too_large``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from parley.proto.errors import ErrorCode
from parley.server.admin import events_schemas as es
from parley.server.admin.routes import json_response, parse_body, with_app
from parley.server.errors import ServiceError
from parley.server.models import App
from parley.server.services import Services
from parley.server.services.events import EventInput

__all__ = ["events_routes"]

PAGE_MAX = 1000


def _item(i: int, e: es.EventIn) -> EventInput:
    """The service's input of event ``i``: exactly one of ``user`` and ``identifier``."""
    if bool(e.user) == (e.identifier is not None):
        raise ServiceError(ErrorCode.EVENT_INVALID, f"events.{i}: give exactly one of user and identifier")
    if e.identifier is not None:
        return EventInput(e.event, e.props, e.ts, e.eid, e.identifier.value, e.identifier.kind)
    return EventInput(e.event, e.props, e.ts, e.eid, e.user)


async def ingest(request: Request, s: Services, app: App) -> Response:
    """``POST /v1/audience/events``: validate the batch whole, store it (idempotent by ``eid``),
    apply it to the profiles; 200 with a result per event."""
    body = await parse_body(request, es.EventBatch)
    if len(body.events) > s.events.batch_max:  # before building anything of an oversized batch
        raise ServiceError(ErrorCode.BATCH_TOO_LARGE, f"at most {s.events.batch_max} events per request")
    items = [_item(i, e) for i, e in enumerate(body.events)]
    done = await s.events.ingest(app.app, items)
    results = [es.EventResult(t.eid, t.pid, t.stored) for t in done]
    stored = sum(r.stored for r in results)
    return json_response(es.EventsStored(results, stored, len(results) - stored))


async def user_events(request: Request, s: Services, app: App) -> Response:
    """``GET /v1/audience/users/{user}/events``: a page of the user's events, oldest first;
    ``after`` is the ``next`` cursor of the previous page, ``limit`` 1-1000 (default 100)."""
    try:
        limit = int(request.query_params.get("limit", "100"))
    except ValueError:
        raise ServiceError(ErrorCode.INVALID_REQUEST, "limit must be an integer") from None
    if not 1 <= limit <= PAGE_MAX:
        raise ServiceError(ErrorCode.INVALID_REQUEST, f"limit must be 1 .. {PAGE_MAX}")
    cursor = request.query_params.get("after", "")
    after = None
    if cursor:
        ts, _, eid = cursor.partition(":")
        if not ts.isdigit() or not eid:
            raise ServiceError(ErrorCode.INVALID_REQUEST, "after must be a cursor from a previous page")
        after = (int(ts), eid)
    page = await s.events.events_of_user(app.app, request.path_params["user"], after=after, limit=limit)
    out = [es.EventOut(e.eid, e.pid, e.name, e.ts, e.props, e.received) for e in page]
    following = f"{page[-1].ts}:{page[-1].eid}" if len(page) == limit else ""
    return json_response(es.EventPage(out, following))


def events_routes() -> list[BaseRoute]:
    """The audience events routes."""
    return [
        Route("/v1/audience/events", with_app(ingest), methods=["POST"]),
        Route("/v1/audience/users/{user}/events", with_app(user_events)),
    ]
